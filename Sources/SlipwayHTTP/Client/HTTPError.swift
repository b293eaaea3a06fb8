import Foundation

/// Everything that can go wrong with a request, each case a sentence a user can act on.
public enum HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum NetworkFailure: String, Sendable {
        case dns = "cannot resolve host"
        case connect = "cannot connect"
        case tls = "TLS failed"
        case reset = "connection reset"
        case protocolError = "protocol error"
        case other = "network error"
    }

    case insecureURL(String)
    case invalidURL(String)
    case network(NetworkFailure, host: String, detail: String)
    case timeout(host: String, detail: String)
    case rateLimited(host: String, resumeAt: Date)
    case unauthorized(host: String, message: String)
    case forbidden(host: String, message: String)
    case notFound(url: String, message: String)
    case status(Int, url: String, message: String)
    case bodyTooLarge(url: String, limit: Int)
    case decoding(url: String, expected: String, excerpt: String)
    case redirectRefused(from: String, to: String)
    case tooManyRedirects(url: String)
    /// A request carrying a credential to an origin the credential was not linked for.
    case credentialOriginRefused(url: String)

    /// A URL as an error shows it: without its query or fragment, which may carry a token of
    /// their own (App Platform's log URLs do), so no message puts one on screen or in a log.
    static func shown(_ url: String) -> String {
        guard let cut = url.firstIndex(where: { $0 == "?" || $0 == "#" }) else { return url }
        return String(url[..<cut]) + "?…"
    }

    public var description: String {
        switch self {
        case let .insecureURL(url):
            "refusing \(Self.shown(url)): only https is allowed (plain http only for loopback addresses such as 127.0.0.1 or ::1, and localhost)"
        case let .invalidURL(url):
            "'\(Self.shown(url))' is not a valid URL"
        case let .network(kind, host, detail):
            "\(kind.rawValue) \(host): \(detail)"
        case let .timeout(host, detail):
            "\(host) timed out: \(detail)"
        case let .rateLimited(host, resumeAt):
            "\(host) is rate limiting this account; it may resume at \(Self.timestamp(resumeAt))"
        case let .unauthorized(host, message):
            "\(host) refused the credentials (401)\(message.isEmpty ? "" : ": \(message)"); relink the account"
        case let .forbidden(host, message):
            "\(host) denied access (403)\(message.isEmpty ? "" : ": \(message)")"
        case let .notFound(url, message):
            "not found (404): \(Self.shown(url))\(message.isEmpty ? "" : " — \(message)")"
        case let .status(code, url, message):
            "HTTP \(code) from \(Self.shown(url))\(message.isEmpty ? "" : ": \(message)")"
        case let .bodyTooLarge(url, limit):
            "the response from \(Self.shown(url)) is larger than \(limit / 1_048_576) MiB; refused"
        case let .decoding(url, expected, excerpt):
            "unexpected response from \(Self.shown(url)) (expected \(expected)): \(excerpt)"
        case let .redirectRefused(from, to):
            "refusing a redirect from \(Self.shown(from)) to \(Self.shown(to)): it leaves https"
        case let .tooManyRedirects(url):
            "too many redirects from \(Self.shown(url))"
        case let .credentialOriginRefused(url):
            "refusing to send the account's credential to \(Origin(url: url)?.description ?? Self.shown(url)): it was linked for other origins"
        }
    }

    /// Whether a retry of an idempotent request could succeed.
    public var isTransient: Bool {
        switch self {
        case .network, .timeout: true
        case let .status(code, _, _): code >= 500
        default: false
        }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// The provider's own message from an error body: Bitbucket's `{"error":{"message"}}`,
    /// GitHub's and GitLab's `{"message"}`, OAuth's `error_description`, or plain text. Sanitized
    /// (no control characters) and cut, because it ends up in one-line messages.
    public static func providerMessage(_ body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            if let error = object["error"] as? [String: Any] {
                let message = error["message"] as? String ?? ""
                let detail = error["detail"] as? String ?? ""
                return clean(detail.isEmpty || detail == message ? message : "\(message) (\(detail))")
            }
            for key in ["error_description", "message", "error"] {
                if let text = object[key] as? String { return clean(text) }
            }
        }
        return clean(String(decoding: body.prefix(4096), as: UTF8.self))
    }

    /// The start of a body for a decode failure.
    public static func excerpt(_ body: Data) -> String {
        body.isEmpty ? "empty body" : "'" + clean(String(decoding: body.prefix(200), as: UTF8.self), limit: 120) + "'"
    }

    public static func clean(_ text: String, limit: Int = 200) -> String {
        var out = ""
        var lastWasSpace = false
        for scalar in text.unicodeScalars {
            let isControl = scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) || (0x202A...0x202E).contains(scalar.value)
                || (0x2066...0x2069).contains(scalar.value)
            if isControl || scalar == " " {
                if !lastWasSpace && !out.isEmpty { out.append(" ") }
                lastWasSpace = true
            } else {
                out.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        out = out.trimmingCharacters(in: .whitespaces)
        return out.count > limit ? String(out.prefix(limit - 1)) + "…" : out
    }
}
