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
