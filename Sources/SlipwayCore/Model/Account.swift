import Foundation
import SlipwayProviders

/// How an account proves who it is. The raw values are the contract's `auth` field.
public enum AuthKind: String, Sendable, Codable, CaseIterable {
    case oauth
    case token
    case apiToken = "api_token"
    case clientCredentials = "client_credentials"
    /// OAuth's device authorization grant (RFC 8628): linked over ssh without a browser.
    case device
    /// No credential at all (public Git repositories).
    case none
}

/// Whether an account can be used. The raw values are the contract's `status` field.
public enum AccountStatus: String, Sendable, Codable, CaseIterable {
    case ok
    case needsRelink = "needs_relink"
    case rateLimited = "rate_limited"
}

/// A linked provider account. Secrets are never held here in plain text: the store keeps them
/// only as vault ciphertext, which lives in `AccountSecrets`.
public struct Account: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var provider: ProviderKind
    public var username: String
    public var displayName: String?
    /// The provider's own id for the user (Bitbucket `uuid`/`account_id`).
    public var remoteID: String?
    public var apiURL: String
    public var webURL: String
    public var auth: AuthKind
    public var status: AccountStatus
    public var statusMessage: String?
    public var scopes: [String]
    /// The user's primary, confirmed address, when the provider gives it (null without the scope).
    public var email: String?
    /// The e-mail used as the Basic user for API tokens (not a secret).
    public var loginEmail: String?
    public var clientID: String?
    public var tokenExpiresAt: Date?
    /// When an expiring token should be refreshed (about 80 % of its lifetime).
    public var tokenRefreshAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: Int64? = nil, provider: ProviderKind, username: String, displayName: String? = nil,
                remoteID: String? = nil, apiURL: String, webURL: String, auth: AuthKind,
                status: AccountStatus = .ok, statusMessage: String? = nil, scopes: [String] = [],
                email: String? = nil, loginEmail: String? = nil, clientID: String? = nil, tokenExpiresAt: Date? = nil, tokenRefreshAt: Date? = nil,
                createdAt: Date, updatedAt: Date? = nil) {
        self.id = id
        self.provider = provider
        self.username = username
        self.displayName = displayName
        self.remoteID = remoteID
        self.apiURL = apiURL
        self.webURL = webURL
        self.auth = auth
        self.status = status
        self.statusMessage = statusMessage
        self.scopes = scopes
        self.email = email
        self.loginEmail = loginEmail
        self.clientID = clientID
        self.tokenExpiresAt = tokenExpiresAt
        self.tokenRefreshAt = tokenRefreshAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }
}

extension Account {
    /// A Git host to mirror, not a deploy target (App Platform).
    public var isGitHost: Bool { provider.accountKind == .git }
}

/// The sealed secrets of one account, as the vault produced them.
public struct AccountSecrets: Sendable, Equatable {
    public var accessToken: Data?
    public var refreshToken: Data?
    public var clientSecret: Data?

    public init(accessToken: Data? = nil, refreshToken: Data? = nil, clientSecret: Data? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.clientSecret = clientSecret
    }
}

extension Account {
    /// The name budgets are kept under for this account (never the secret): the one place it is made.
    public static func budgetCredential(_ id: Int64) -> String { "account:\(id)" }

    public var budgetCredential: String { Self.budgetCredential(id ?? 0) }

    /// The provider as paths and commands name it (`bitbucket`, `github` …).
    public var providerName: String { provider.rawValue }
}
