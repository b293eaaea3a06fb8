import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import Synchronization

/// Builds the HTTP client and provider adapters a command needs, from the config.
struct ProviderFactory {
    let context: CommandContext
    let counter: CountingTransport
    let http: HTTPClient
    /// Public Git's commit cache: one per process, so its git runs one at a time per repository.
    let gitCache: GitObjectCache

    init(context: CommandContext) {
        self.context = context
        counter = CountingTransport(CurlTransport())
        var configuration = HTTPClient.Configuration()
        let config = context.config
        // Each budget is limited by its own provider's settings ([providers.NAME]); an account
        // linked after this factory was made (the demo, `link` then sync) is looked up once.
        let store = context.store
        let providers = Mutex(Dictionary(((try? store.accounts()) ?? []).compactMap { account in
            account.id.map { (Account.budgetCredential($0), account.provider) }
        }, uniquingKeysWith: { first, _ in first }))
        configuration.limits = { key in
            let known = providers.withLock { $0[key.credential] }
            let found = known ?? ((try? store.accounts()) ?? []).first { $0.budgetCredential == key.credential }?.provider
            // A budget no account owns has no provider to ask.
            guard let kind = found else { return BudgetLimits.unconfigured(kind: key.kind) }
            if known == nil { providers.withLock { $0[key.credential] = kind } }
            let provider = config.provider(kind.rawValue)
            return BudgetLimits(hourlyAllowance: config.allowance(kind, for: key.kind),
                                perMinute: key.kind == .rest ? (provider.requestsPerMinute > 0 ? provider.requestsPerMinute
                                                                                 : ProviderRegistry.descriptor(for: kind)?.restRequestsPerMinute) : nil,
                                fraction: config.engine.budgetFraction, maxInFlight: config.maxInFlight(kind))
        }
        // Spent in memory, shared through the store every second or ten tokens (and at once on a pause).
        http = HTTPClient(transport: counter, ledger: SharedBudgetLedger(store: context.store), configuration: configuration)
        gitCache = GitObjectCache(directory: context.paths.dataDirectory + "/git-cache", limitBytes: config.gitCacheBytes)
    }

    func provider(for account: Account) throws -> any GitProvider {
        if account.status == .needsRelink {
            throw AccountError.needsRelink(account.provider, reason: account.statusMessage ?? "its grant was revoked")
        }
        guard let descriptor = ProviderRegistry.descriptor(for: account.provider) else {
            throw SlipwayCLIError.failure("\(account.provider.rawValue) is not supported by this version of Slipway")
        }
        let credential = try AccountLinker.credential(for: account, store: context.store, keyFile: context.paths.keyFile)
        var connection = ProviderConnection(apiURL: account.apiURL, webURL: account.webURL, credential: credential, http: http,
                                            budgetCredential: account.budgetCredential)
        if account.provider == .git {
            connection.publicRepositories = try context.store.publicRepositories()
            connection.gitCache = gitCache
        }
        if [.oauth, .clientCredentials, .device].contains(account.auth), let id = account.id {
            connection.credentialSource = OAuthTokenSource(store: context.store, keyFile: context.paths.keyFile, accountID: id,
                                                           lockDirectory: context.paths.dataDirectory + "/locks", http: http)
        }
        guard let git = descriptor.makeGitProvider(connection) else {
            throw SlipwayCLIError.failure("\(account.provider.rawValue) is a deploy target, not a Git host")
        }
        return git
    }

    /// The App Platform client of the linked DigitalOcean account.
    func appPlatform(for account: Account) throws -> AppPlatformClient {
        if account.status == .needsRelink {
            throw AccountError.needsRelink(account.provider, reason: account.statusMessage ?? "its token was revoked")
        }
        let credential = try AccountLinker.credential(for: account, store: context.store, keyFile: context.paths.keyFile)
        guard let client = AppPlatformClient.descriptor.make(ProviderConnection(apiURL: account.apiURL, webURL: account.webURL, credential: credential,
                                                                                 http: http, budgetCredential: account.budgetCredential)) as? AppPlatformClient
        else { throw SlipwayCLIError.failure("\(account.provider.rawValue) is not App Platform") }
        return client
    }

    /// What the shared budgets say about an account, for summaries.
    func rateLimit(for account: Account) throws -> SyncReport.RateLimit {
        let host = URLPolicy.authority(of: account.apiURL) ?? ""
        let budgets = try StoreBudgetLedger(store: context.store).all()
        guard let bucket = budgets.first(where: { $0.key.credential == account.budgetCredential && $0.key.kind == .rest && $0.key.host == host })?.bucket else {
            return SyncReport.RateLimit(limit: context.config.allowances(account.provider).rest, remaining: nil, pausedUntil: nil)
        }
        let limit = bucket.headerLimit ?? context.config.allowances(account.provider).rest
        let paused = bucket.pausedUntil.flatMap { $0 > Date() ? $0 : nil }
        return SyncReport.RateLimit(limit: limit, remaining: bucket.headerRemaining ?? Int(bucket.tokens.rounded(.down)), pausedUntil: paused)
    }
}
