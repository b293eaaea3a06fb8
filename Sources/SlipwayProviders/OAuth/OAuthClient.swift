import Crypto
import Foundation
import SlipwayHTTP

/// A token response (RFC 6749 §5.1; Bitbucket sends `scopes`, plural, space-separated).
public struct OAuthToken: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String?
    public var expiresIn: TimeInterval?
    public var scopes: [String]

    public init(accessToken: String, refreshToken: String?, expiresIn: TimeInterval?, scopes: [String]) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresIn = expiresIn
        self.scopes = scopes
    }
}

public enum OAuthError: Error, Equatable, CustomStringConvertible {
    /// The grant is dead (a used or revoked refresh token, a revoked consumer): relink.
    case rejected(code: String, description: String)
    /// A callback with a different `state` than the one Slipway sent.
    case stateMismatch
    /// The user or the provider declined in the browser.
    case denied(String)
    case malformedRedirect(String)
    case timedOut

    public var description: String {
        switch self {
        case let .rejected(code, description): "the provider refused the OAuth grant (\(code)\(description.isEmpty ? "" : ": \(description)"))"
        case .stateMismatch: "the OAuth callback's state does not match this request; ignored"
        case let .denied(reason): "authorization was declined: \(reason)"
        case let .malformedRedirect(text): "'\(text.prefix(80))' is neither the redirected URL nor a code"
        case .timedOut: "no authorization arrived in time; run the command again"
        }
    }

    /// Grants that cannot recover without the user linking again.
    public var needsRelink: Bool {
        if case .rejected = self { return true }
        return false
    }
}

/// An OAuth 2.0 client for a provider's endpoints (from its descriptor): form-encoded token
/// requests with the client as Basic credentials, authorization-code with PKCE, refresh and
/// client credentials.
public struct OAuthClient: Sendable {
    public var webURL: String
    public var endpoints: OAuthEndpoints
    public var clientID: String
    public var clientSecret: String
    public var http: HTTPClient

    public init(webURL: String, endpoints: OAuthEndpoints, clientID: String, clientSecret: String, http: HTTPClient) {
        self.webURL = webURL.hasSuffix("/") ? String(webURL.dropLast()) : webURL
        self.endpoints = endpoints
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.http = http
    }

    public var tokenURL: String { webURL + endpoints.tokenPath }

    /// The page the user opens to approve Slipway.
    public func authorizeURL(state: String, redirectURI: String?, pkce: PKCE) -> String {
        var components = URLComponents(string: webURL + endpoints.authorizePath)!
        var items = [URLQueryItem(name: "client_id", value: clientID), URLQueryItem(name: "response_type", value: "code"),
                     URLQueryItem(name: "state", value: state)]
        if let redirectURI { items.append(URLQueryItem(name: "redirect_uri", value: redirectURI)) }
        // Bitbucket ignores PKCE; GitHub and GitLab use it. Sent either way.
        items += [URLQueryItem(name: "code_challenge", value: pkce.challenge), URLQueryItem(name: "code_challenge_method", value: "S256")]
        components.queryItems = items
        return components.string!
    }

    public func exchange(code: String, redirectURI: String?, pkce: PKCE) async throws -> OAuthToken {
        var form = [("grant_type", "authorization_code"), ("code", code), ("code_verifier", pkce.verifier)]
        if let redirectURI { form.append(("redirect_uri", redirectURI)) }
        return try await post(form)
    }

    public func refresh(_ refreshToken: String) async throws -> OAuthToken {
        try await post([("grant_type", "refresh_token"), ("refresh_token", refreshToken)])
    }

    public func clientCredentials() async throws -> OAuthToken {
        try await post([("grant_type", "client_credentials")])
    }

    private func post(_ form: [(String, String)]) async throws -> OAuthToken {
        var components = URLComponents()
        components.queryItems = form.map { URLQueryItem(name: $0.0, value: $0.1) }
        let body = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        var headers = HTTPHeaders()
        headers.add("Authorization", "Basic " + Data("\(clientID):\(clientSecret)".utf8).base64EncodedString())
        headers.add("Content-Type", "application/x-www-form-urlencoded")
        headers.add("Accept", "application/json")
        // Token requests are not idempotent (a refresh token is spent by its first use): never retried.
        let request = HTTPRequest(method: .post, url: tokenURL, headers: headers, body: Data(body.utf8), lane: .interactive, retryable: false)
        // Sent once, straight through the transport: a token request is never retried, and its
        // RFC 6749 error body is what tells a dead grant from a passing failure.
        let response = try await http.transport.perform(request)
        if response.status >= 400 {
            throw Self.error(status: response.status, body: response.body, url: tokenURL)
        }
        struct Wire: Decodable {
            var access_token: String
            var refresh_token: String?
            var expires_in: Double?
            var scopes: String?
            var scope: String?
        }
        let wire = try response.decode(Wire.self)
        let scopes = (wire.scopes ?? wire.scope ?? "").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        return OAuthToken(accessToken: wire.access_token, refreshToken: wire.refresh_token, expiresIn: wire.expires_in, scopes: scopes)
    }

    /// RFC 6749 §5.2 errors: `invalid_grant`, `invalid_client`, `unauthorized_client` and
    /// `invalid_request` (Bitbucket's answer to a spent refresh token) mean the grant is dead.
    static func error(status: Int, body: Data, url: String) -> any Error {
        struct Wire: Decodable { var error: String?; var error_description: String? }
        let wire = try? JSONDecoder().decode(Wire.self, from: body)
        let code = wire?.error ?? (status == 401 ? "invalid_client" : "")
        let description = HTTPError.clean(wire?.error_description ?? "")
        if ["invalid_grant", "invalid_client", "unauthorized_client", "invalid_request", "unsupported_grant_type"].contains(code) {
            return OAuthError.rejected(code: code, description: description)
        }
        if status == 429 { return HTTPError.rateLimited(host: URLPolicy.authority(of: url) ?? url, resumeAt: Date().addingTimeInterval(60)) }
        return HTTPError.status(status, url: url, message: HTTPError.providerMessage(body))
    }
}

/// RFC 7636 proof key: a random verifier and its S256 challenge.
public struct PKCE: Sendable, Equatable {
    public var verifier: String
    public var challenge: String

    public init(verifier: String) {
        self.verifier = verifier
        challenge = Self.base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    public static func random() -> PKCE {
        PKCE(verifier: randomToken(bytes: 48))
    }

    /// URL-safe random text (for verifiers and `state`).
    public static func randomToken(bytes: Int = 24) -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL(Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// What a user pastes after approving in a browser elsewhere: the whole redirected URL, or the bare code.
public enum AuthorizationRedirect {
    public static func code(from pasted: String, expectedState: String) throws(OAuthError) -> String {
        let text = pasted.trimmingCharacters(in: .whitespacesAndNewlines)
        if let components = URLComponents(string: text), components.scheme != nil {
            let items = components.queryItems ?? []
            if let error = items.first(where: { $0.name == "error" })?.value {
                throw .denied(items.first { $0.name == "error_description" }?.value ?? error)
            }
            guard items.first(where: { $0.name == "state" })?.value == expectedState else { throw .stateMismatch }
            guard let code = items.first(where: { $0.name == "code" })?.value, !code.isEmpty else { throw .malformedRedirect(text) }
            return code
        }
        guard !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || "-._~".contains($0) }) else { throw .malformedRedirect(text) }
        return text
    }
}
