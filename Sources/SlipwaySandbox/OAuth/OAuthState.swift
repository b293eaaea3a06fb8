import Crypto
import Foundation

/// The sandbox's OAuth 2.0 server state: one consumer (key and secret derived from the seed),
/// single-use authorization codes, access tokens that expire, refresh tokens that rotate.
struct OAuthState: Sendable {
    struct IssuedToken: Sendable {
        var expiresAt: Date
        var scopes: [String]
    }

    struct PendingCode: Sendable {
        var redirectURI: String?
        var expiresAt: Date
        var challenge: String?
    }

    /// What the consumer's permissions grant from now on (nil: the options' scopes), as when its
    /// owner edits them: tokens issued later, refreshed ones included, carry these.
    var grantScopes: [String]?
    var codes: [String: PendingCode] = [:]
    var accessTokens: [String: IssuedToken] = [:]
    /// Refresh token → still usable. A used one is dead (rotation).
    var refreshTokens: [String: Bool] = [:]
    var tokenRequests: [String: Int] = [:]   // by grant type
    var counter: UInt64 = 0

    mutating func mint(_ prefix: String, random: inout SandboxRandom) -> String {
        counter += 1
        return prefix + String(format: "%016llx%04llx", random.next(), counter)
    }
}

/// What every personality's OAuth server does alike: the approval's redirect back to the client
/// with `code` and `state`, and the PKCE S256 check (RFC 7636) at the exchange.
enum OAuthServer {
    static func approvalRedirect(to redirect: String, code: String, state: String?) -> SandboxReply {
        var location = URLComponents(string: redirect)!
        var items = location.queryItems ?? []
        items.append(URLQueryItem(name: "code", value: code))
        if let state { items.append(URLQueryItem(name: "state", value: state)) }
        location.queryItems = items
        return SandboxReply(status: 302, headers: [("Location", location.string!), ("Content-Type", "text/html; charset=utf-8")],
                            body: Data("<a href=\"\(location.string!)\">Continue</a>".utf8))
    }

    static func verifierMatches(_ verifier: String?, challenge: String) -> Bool {
        Data(SHA256.hash(data: Data((verifier ?? "").utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "") == challenge
    }
}
