import Foundation
import SlipwayHTTP
import SlipwayProviders

/// The credential of an OAuth (or client-credentials) account, refreshed before it expires and
/// once after a 401. Refreshing is single-flight per account: within a process through one shared
/// task, across processes through a lock file — the holder re-reads the account, and only if the
/// token is still the stale one does it spend the refresh token, storing the new pair before using it.
public final class OAuthTokenSource: CredentialSource, @unchecked Sendable {
    public let store: Store
    public let keyFile: String
    public let accountID: Int64
    public let lockFile: String
    public let http: HTTPClient
    public let now: @Sendable () -> Date
    private let flight = RefreshFlight()

    public init(store: Store, keyFile: String, accountID: Int64, lockDirectory: String, http: HTTPClient,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.keyFile = keyFile
        self.accountID = accountID
        lockFile = lockDirectory + "/account-\(accountID).lock"
        self.http = http
        self.now = now
    }

    public func credential() async throws -> ProviderCredential {
        let (account, access) = try load()
        if let due = account.tokenRefreshAt, now() >= due {
            return try await refresh(seen: access)
        }
        return .bearer(access)
    }

    public func credentialAfterRejection(_ rejected: ProviderCredential) async throws -> ProviderCredential {
        guard case let .bearer(token) = rejected else { return rejected }
        return try await refresh(seen: token, force: true)
    }

    /// Makes sure the stored token is fresh and returns it.
    public func refresh(seen: String, force: Bool = false) async throws -> ProviderCredential {
        try await flight.run { [self] in
            try await FileLock.withLock(at: lockFile) {
                let (account, access) = try load()
                let due = account.tokenRefreshAt.map { now() >= $0 } ?? false
                // Someone refreshed while we waited: use theirs.
                if access != seen && !due { return .bearer(access) }
                if !force && !due { return .bearer(access) }
                return .bearer(try await renew(account))
            }
        }
    }

    private func load() throws -> (Account, String) {
        guard let account = try store.account(id: accountID) else { throw AccountError.missingSecret(.bitbucket) }
        if account.status == .needsRelink {
            throw AccountError.needsRelink(account.provider, reason: account.statusMessage ?? "its grant was revoked")
        }
        guard let sealed = try store.sealedSecrets(accountID: accountID).accessToken else { throw AccountError.missingSecret(account.provider) }
        let vault = try Vault.open(keyFile: keyFile, create: false)
        return (account, try vault.openString(sealed, context: AccountLinker.tokenContext(accountID)))
    }

    private func renew(_ account: Account) async throws -> String {
        let vault = try Vault.open(keyFile: keyFile, create: false)
        let secrets = try store.sealedSecrets(accountID: accountID)
        guard let clientID = account.clientID, let endpoints = ProviderRegistry.descriptor(for: account.provider)?.oauth else {
            throw AccountError.missingSecret(account.provider)
        }
        // A public client (a device grant's, GitLab's PKCE) refreshes without a secret; client
        // credentials are nothing without one.
        guard secrets.clientSecret != nil || account.auth != .clientCredentials else { throw AccountError.missingSecret(account.provider) }
        let client = OAuthClient(webURL: account.webURL, endpoints: endpoints, clientID: clientID,
                                 clientSecret: try secrets.clientSecret.map { try vault.openString($0, context: Store.clientSecretContext(accountID)) },
                                 http: http)
        let token: OAuthToken
        do {
            if account.auth == .clientCredentials {
                token = try await client.clientCredentials()
            } else {
                guard let sealedRefresh = secrets.refreshToken else { throw AccountError.missingSecret(account.provider) }
                token = try await client.refresh(try vault.openString(sealedRefresh, context: Store.refreshContext(accountID)))
            }
        } catch let error as OAuthError where error.needsRelink {
            let reason = error.description
            try store.markNeedsRelink(accountID: accountID, reason: reason, now: now())
            throw AccountError.needsRelink(account.provider, reason: reason)
        }
        // Stored before it is used: a crash now loses nothing.
        try store.saveTokens(accountID: accountID, token, vault: vault, now: now())
        await refreshEmail(account, accessToken: token.accessToken)
        return token.accessToken
    }

    /// A new grant may carry other scopes: the address is asked again. An answer that is not an
    /// answer (the network, a 5xx) keeps the one stored; "no scope for it" clears it.
    private func refreshEmail(_ account: Account, accessToken: String) async {
        guard let descriptor = ProviderRegistry.descriptor(for: account.provider) else { return }
        let provider = descriptor.make(ProviderConnection(apiURL: account.apiURL, webURL: account.webURL, credential: .bearer(accessToken), http: http))
        guard let emails = provider as? any UserEmails else { return }
        let email: String?
        do { email = try await emails.primaryEmail() } catch { return }
        try? store.setEmail(accountID: accountID, email, now: now())
    }
}

/// One refresh at a time within a process; late callers share the running one's result.
actor RefreshFlight {
    private var running: Task<ProviderCredential, any Error>?

    func run(_ operation: @escaping @Sendable () async throws -> ProviderCredential) async throws -> ProviderCredential {
        if let running { return try await running.value }
        let task = Task { try await operation() }
        running = task
        defer { running = nil }
        return try await task.value
    }
}

/// An exclusive `flock` on a file, waited for without blocking a thread of the concurrency pool.
public enum FileLock {
    public static func withLock<T: Sendable>(at path: String, timeout: TimeInterval = 60, _ body: () async throws -> T) async throws -> T {
        try SlipwayPaths.createPrivateDirectory((path as NSString).deletingLastPathComponent)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileError.cannotCreate(path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard Date() < deadline else { throw FileError.cannotWrite(path, reason: "another process holds this lock") }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        defer { flock(fd, LOCK_UN) }
        return try await body()
    }
}
