import Foundation
import GRDB
import SlipwayHTTP
import SlipwayProviders

/// What `slipway link` was given.
public struct LinkRequest: Sendable {
    public enum Secret: Sendable {
        case token(String)
        case apiToken(email: String, token: String)
    }

    public var provider: ProviderKind
    public var apiURL: String
    public var webURL: String
    public var secret: Secret

    public init(provider: ProviderKind, apiURL: String? = nil, webURL: String? = nil, secret: Secret) {
        self.provider = provider
        self.apiURL = apiURL ?? provider.defaultAPIURL
        self.webURL = webURL ?? provider.defaultWebURL
        self.secret = secret
    }

    var credential: ProviderCredential {
        switch secret {
        case let .token(token): .bearer(token)
        case let .apiToken(email, token): .apiToken(email: email, token: token)
        }
    }
}

public enum AccountError: Error, CustomStringConvertible, Equatable {
    case alreadyLinked(ProviderKind, username: String)
    case notLinked(ProviderKind)
    case emptySecret
    case rejected(ProviderKind, message: String)
    case missingSecret(ProviderKind)
    case needsRelink(ProviderKind, reason: String)
    /// `--relink` with credentials of another user than the linked one.
    case differentUser(ProviderKind, linked: String, given: String)
    /// `--relink` with nothing linked.
    case nothingToRelink(ProviderKind)

    public var description: String {
        switch self {
        case let .alreadyLinked(provider, username):
            "\(provider.rawValue) is already linked as @\(username); run 'slipway unlink \(provider.rawValue)' first"
        case let .notLinked(provider):
            "\(provider.rawValue) is not linked; run 'slipway link \(provider.rawValue) --token-file -' to link it"
        case .emptySecret:
            "the token is empty; pass it with --token-file FILE or on stdin with --token-file -"
        case let .rejected(provider, message):
            "\(provider.displayName) did not accept the credentials: \(message)"
        case let .missingSecret(provider):
            "the stored token of \(provider.rawValue) is missing; run 'slipway unlink \(provider.rawValue)' and link again"
        case let .needsRelink(provider, reason):
            "\(provider.rawValue) needs relinking (\(reason)); run 'slipway link \(provider.rawValue) --relink' the way you linked it (its mirror, apps and hooks are kept)"
        case let .differentUser(provider, linked, given):
            "these credentials are @\(given)'s, but \(provider.rawValue) is linked as @\(linked); --relink keeps the same account — to link another, run 'slipway unlink \(provider.rawValue)' first"
        case let .nothingToRelink(provider):
            "\(provider.rawValue) is not linked, so there is nothing to relink; link it without --relink"
        }
    }
}

/// Links and unlinks accounts: verifies the credentials with the provider, then stores the
/// account with its secret sealed in the vault, in one transaction.
public struct AccountLinker: Sendable {
    public let store: Store
    public let keyFile: String
    public let http: HTTPClient
    public let now: @Sendable () -> Date

    public init(store: Store, keyFile: String, http: HTTPClient, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.keyFile = keyFile
        self.http = http
        self.now = now
    }

    /// The one-account rule, before any request: a new link needs none linked; a relink needs
    /// the account it renews.
    public func checkLinkable(_ provider: ProviderKind, relink: Bool) throws -> Account? {
        let existing = try store.account(for: provider)
        if relink, existing == nil { throw AccountError.nothingToRelink(provider) }
        if !relink, let existing { throw AccountError.alreadyLinked(provider, username: existing.username) }
        return existing
    }

    /// The linked account and any warnings (missing scopes). With `relink`, the linked account of
    /// the same user gets the new credentials and keeps its mirror, apps and hooks.
    public func link(_ request: LinkRequest, relink: Bool = false) async throws -> (account: Account, warnings: [String]) {
        let existing = try checkLinkable(request.provider, relink: relink)
        switch request.secret {
        case let .token(t) where t.isEmpty: throw AccountError.emptySecret
        case let .apiToken(_, t) where t.isEmpty: throw AccountError.emptySecret
        default: break
        }
        let vault = try Vault.open(keyFile: keyFile, create: true)
        let descriptor = try Self.descriptor(request.provider)
        let provider = descriptor.make(ProviderConnection(apiURL: request.apiURL, webURL: request.webURL, credential: request.credential, http: http))
        let user: ProviderUser
        do {
            user = try await provider.currentUser()
        } catch let error as HTTPError {
            switch error {
            case let .unauthorized(_, message), let .forbidden(_, message):
                throw AccountError.rejected(request.provider, message: message.isEmpty ? "check the token and its scopes" : message)
            default:
                throw error
            }
        }
        var warnings = Self.scopeWarnings(user.scopes ?? [], minimum: descriptor.minimumScopes, subject: "the token",
                                          advice: "Slipway needs repository and account read and webhook read/write")
        // A token that states no scopes is tried on what Slipway uses.
        if let review = provider as? any AccessReview { warnings += await review.accessWarnings(for: user) }
        let email = await Self.primaryEmail(of: provider)
        let now = self.now()
        let secret = request.secret
        if let existing {
            try Self.checkSameUser(existing, user)
            let account = try store.write { db -> Account in
                var account = try Self.renewed(existing, user: user, email: email, apiURL: request.apiURL, webURL: request.webURL,
                                               auth: Self.authKind(secret), scopes: user.scopes ?? [], now: now, db: db)
                account.loginEmail = Self.loginEmail(secret)
                account.clientID = nil
                account.tokenExpiresAt = nil
                account.tokenRefreshAt = nil
                try account.update(db)
                try db.execute(sql: "UPDATE accounts SET token_ciphertext = ?, refresh_token_ciphertext = NULL, client_secret_ciphertext = NULL WHERE id = ?",
                               arguments: [try vault.seal(Self.secretText(secret), context: Self.tokenContext(account.id!)), account.id])
                return account
            }
            return (account, warnings)
        }
        let account = try store.write { db in
            if let existing = try Account.filter(Column("provider") == request.provider.rawValue).fetchOne(db) {
                throw AccountError.alreadyLinked(request.provider, username: existing.username)
            }
            var account = Account(provider: request.provider, username: user.username, displayName: user.displayName, remoteID: user.id,
                                  apiURL: request.apiURL, webURL: request.webURL, auth: Self.authKind(secret),
                                  scopes: user.scopes ?? [], email: email, loginEmail: Self.loginEmail(secret), createdAt: now)
            try account.insert(db)
            let sealed = try vault.seal(Self.secretText(secret), context: Self.tokenContext(account.id!))
            try db.execute(sql: "UPDATE accounts SET token_ciphertext = ? WHERE id = ?", arguments: [sealed, account.id])
            return account
        }
        return (account, warnings)
    }

    /// Links an account whose token came from an OAuth grant (authorization code, device or
    /// client credentials): verified with the current-user call, then stored with its refresh
    /// token and the consumer's secret (none for a device grant's public client), all sealed, in
    /// one transaction. `minimumScopes` overrides the provider's (a `--public-only` grant).
    public func linkOAuth(provider kind: ProviderKind, apiURL: String?, webURL: String?, clientID: String, clientSecret: String?,
                          token: OAuthToken, auth: AuthKind, relink: Bool = false,
                          minimumScopes: [String]? = nil) async throws -> (account: Account, warnings: [String]) {
        let existing = try checkLinkable(kind, relink: relink)
        let vault = try Vault.open(keyFile: keyFile, create: true)
        let api = apiURL ?? kind.defaultAPIURL, web = webURL ?? kind.defaultWebURL
        let descriptor = try Self.descriptor(kind)
        let provider = descriptor.make(ProviderConnection(apiURL: api, webURL: web, credential: .bearer(token.accessToken), http: http))
        let user = try await provider.currentUser()
        let email = await Self.primaryEmail(of: provider)
        let scopes = token.scopes.isEmpty ? (user.scopes ?? []) : token.scopes
        var warnings = Self.scopeWarnings(scopes, minimum: minimumScopes ?? descriptor.minimumScopes,
                                          subject: auth == .device ? "the grant" : "the consumer",
                                          advice: auth == .device ? "approve the scopes Slipway asks for, or give the app repository, account and webhook access"
                                                                  : "give it repository and account read and webhook read/write")
        // What the grant says it holds is what is reviewed (an OAuth token has no scopes page).
        var granted = user
        if !scopes.isEmpty { granted.scopes = scopes }
        if let review = provider as? any AccessReview { warnings += await review.accessWarnings(for: granted) }
        let now = self.now()
        if let existing {
            try Self.checkSameUser(existing, user)
            let account = try store.write { db -> Account in
                var account = try Self.renewed(existing, user: user, email: email, apiURL: api, webURL: web, auth: auth, scopes: scopes, now: now, db: db)
                let moments = Store.refreshMoment(issuedAt: now, expiresIn: token.expiresIn)
                account.loginEmail = nil
                account.clientID = clientID
                account.tokenExpiresAt = moments.expires
                account.tokenRefreshAt = moments.refresh
                try account.update(db)
                let id = account.id!
                try db.execute(sql: "UPDATE accounts SET token_ciphertext = ?, refresh_token_ciphertext = ?, client_secret_ciphertext = ? WHERE id = ?",
                               arguments: [try vault.seal(token.accessToken, context: Self.tokenContext(id)),
                                           try token.refreshToken.map { try vault.seal($0, context: Store.refreshContext(id)) },
                                           try clientSecret.map { try vault.seal($0, context: Store.clientSecretContext(id)) }, id])
                return account
            }
            return (account, warnings)
        }
        let account = try store.write { db in
            if let existing = try Account.filter(Column("provider") == kind.rawValue).fetchOne(db) {
                throw AccountError.alreadyLinked(kind, username: existing.username)
            }
            let moments = Store.refreshMoment(issuedAt: now, expiresIn: token.expiresIn)
            var account = Account(provider: kind, username: user.username, displayName: user.displayName, remoteID: user.id,
                                  apiURL: api, webURL: web, auth: auth, scopes: scopes, email: email, clientID: clientID,
                                  tokenExpiresAt: moments.expires, tokenRefreshAt: moments.refresh, createdAt: now)
            try account.insert(db)
            let id = account.id!
            try db.execute(sql: "UPDATE accounts SET token_ciphertext = ?, refresh_token_ciphertext = ?, client_secret_ciphertext = ? WHERE id = ?",
                           arguments: [try vault.seal(token.accessToken, context: Self.tokenContext(id)),
                                       try token.refreshToken.map { try vault.seal($0, context: Store.refreshContext(id)) },
                                       try clientSecret.map { try vault.seal($0, context: Store.clientSecretContext(id)) }, id])
            return account
        }
        return (account, warnings)
    }

    /// The credential of a linked account, unsealed.
    public static func credential(for account: Account, store: Store, keyFile: String) throws -> ProviderCredential {
        guard let id = account.id else { throw AccountError.missingSecret(account.provider) }
        // Public Git links nothing to unseal; its requests carry no credential at all.
        if account.auth == .none { return .none }
        let sealed = try store.read { db in try Data.fetchOne(db, sql: "SELECT token_ciphertext FROM accounts WHERE id = ?", arguments: [id]) }
        guard let sealed else { throw AccountError.missingSecret(account.provider) }
        let vault = try Vault.open(keyFile: keyFile, create: false)
        let secret = try vault.openString(sealed, context: tokenContext(id))
        switch account.auth {
        case .apiToken: return .apiToken(email: account.loginEmail ?? "", token: secret)
        case .token, .oauth, .clientCredentials, .device: return .bearer(secret)
        case .none: return .none
        }
    }

    static func tokenContext(_ id: Int64) -> String { "account:\(id):token" }

    /// The registry's entry for a kind this build can link.
    static func descriptor(_ kind: ProviderKind) throws -> ProviderDescriptor {
        guard let descriptor = ProviderRegistry.descriptor(for: kind) else {
            throw AccountError.rejected(kind, message: "this version of Slipway cannot link \(kind.rawValue)")
        }
        return descriptor
    }

    /// A relink must prove the same user: the provider's id when both sides know it, else the name.
    static func checkSameUser(_ account: Account, _ user: ProviderUser) throws {
        let same = account.remoteID.map { $0 == user.id } ?? (account.username == user.username)
        guard same else { throw AccountError.differentUser(account.provider, linked: account.username, given: user.username) }
    }

    /// The linked row with what the new credentials say, healthy again; its id, mirror, apps,
    /// hooks and budgets stay.
    static func renewed(_ existing: Account, user: ProviderUser, email: String?, apiURL: String, webURL: String, auth: AuthKind, scopes: [String],
                        now: Date, db: Database) throws -> Account {
        guard var account = try Account.fetchOne(db, key: existing.id) else { throw AccountError.nothingToRelink(existing.provider) }
        account.username = user.username
        account.email = email
        account.displayName = user.displayName
        account.remoteID = user.id
        account.apiURL = apiURL
        account.webURL = webURL
        account.auth = auth
        account.scopes = scopes
        account.status = .ok
        account.statusMessage = nil
        account.updatedAt = now
        return account
    }

    /// The user's primary address where the adapter can tell it. Never fails a link: a token
    /// without the scope, or a provider that answers badly, leaves it unknown.
    static func primaryEmail(of provider: any AccountProvider) async -> String? {
        guard let emails = provider as? any UserEmails else { return nil }
        return (try? await emails.primaryEmail()) ?? nil
    }

    /// A warning naming the minimum scopes missing from known scopes (none when scopes are unknown).
    static func scopeWarnings(_ scopes: [String], minimum: [String], subject: String, advice: String) -> [String] {
        guard !scopes.isEmpty else { return [] }
        let missing = minimum.filter { needed in !scopes.contains { $0 == needed || $0.hasPrefix(needed + ":") } }
        guard !missing.isEmpty else { return [] }
        return ["\(subject) lacks the scope\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")); \(advice)"]
    }

    static func authKind(_ secret: LinkRequest.Secret) -> AuthKind {
        switch secret {
        case .token: .token
        case .apiToken: .apiToken
        }
    }

    static func loginEmail(_ secret: LinkRequest.Secret) -> String? {
        if case let .apiToken(email, _) = secret { return email }
        return nil
    }

    static func secretText(_ secret: LinkRequest.Secret) -> String {
        switch secret {
        case let .token(token): token
        case let .apiToken(_, token): token
        }
    }
}
