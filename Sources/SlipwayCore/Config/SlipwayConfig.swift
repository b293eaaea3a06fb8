import Foundation
import SlipwayProviders
import SlipwayHTTP

/// Everything `config.toml` can set. Every key is optional; these are the defaults DESIGN.md
/// gives, and the README documents each one.
public struct SlipwayConfig: Sendable, Equatable {
    public struct Engine: Sendable, Equatable {
        /// Share of each provider's hourly limit the engine may spend.
        public var budgetFraction: Double = 0.8
        /// Repositories tracked by an app are checked at least this often.
        public var appPollSeconds: Int = 30
    }

    public struct Provider: Sendable, Equatable {
        /// REST requests per hour; narrowed automatically by rate-limit headers. Nil: the
        /// provider's adapter says (Bitbucket's 1,000).
        public var requestsPerHour: Int?
        /// git smart-HTTP requests per hour (refs advertisements). Nil: the adapter says.
        public var gitRequestsPerHour: Int?
        /// GraphQL points per hour, where the provider meters GraphQL (GitHub). Nil: the adapter says.
        public var graphQLPointsPerHour: Int?
        /// REST requests per minute, where the provider limits a minute too (0: no such window).
        public var requestsPerMinute: Int = 0
        /// Concurrent requests per credential; nil: the adapter's default (4; GitLab, metered per
        /// minute rather than by concurrency, 8).
        public var maxInFlight: Int?
        /// The OAuth consumer's key, so `link --oauth` needs no `--client-id`.
        public var clientID: String?
        /// A file (0600) holding the OAuth consumer's secret: never the secret itself in config.
        public var clientSecretFile: String?
        /// Public Git's commit cache (`[providers.git]`), in MiB; nil: 200.
        public var cacheMB: Int?
    }

    public struct Webhooks: Sendable, Equatable {
        /// Where the daemon's receiver listens.
        public var listen: String = "127.0.0.1:8787"
        /// What providers should call, when behind a proxy or tunnel; empty means `http://<listen>`
        /// (reachable only by a provider on this host, such as the sandbox).
        public var publicURL: String = ""
        /// A repository whose hook delivers is still swept this often, in case a delivery is lost.
        public var sweepSeconds: Int = 1800
    }

    public struct Deploy: Sendable, Equatable {
        /// Builds at once on this host.
        public var maxParallel: Int = 1
        /// Deployments kept per app, with their logs.
        public var keepDeployments: Int = 50
    }

    public struct UI: Sendable, Equatable {
        public var theme: String = "default"
        /// A shared build host: no deploy, cancel, rollback or webhook changes from here.
        public var readonly = false
        /// When a deployment the user started or watches ends: `bell`, `osc` (a desktop
        /// notification where the terminal shows one, else the bell) or `off`.
        public var notify = "bell"
    }

    public var engine = Engine()
    /// Per provider (`[providers.bitbucket]` …); providers not named use `Provider()`.
    public var providers: [String: Provider] = [:]
    public var webhooks = Webhooks()
    public var deploy = Deploy()
    public var ui = UI()
    /// Key remaps: action name → keys, e.g. `quit = "Q"` or `down = ["j", "ctrl-n"]`. Validated
    /// by the TUI's keymap.
    public var keys: [String: [String]] = [:]

    public init() {}

    public func provider(_ name: String) -> Provider { providers[name] ?? Provider() }

    /// A provider's REST and git hourly allowances: the config's, else its adapter's defaults.
    /// Concurrent requests per credential for a provider: the config's, else its adapter's.
    /// The most public Git's commit cache may hold, in bytes.
    public var gitCacheBytes: Int64 { Int64(provider(ProviderKind.git.rawValue).cacheMB ?? 200) << 20 }

    public func maxInFlight(_ kind: ProviderKind) -> Int {
        provider(kind.rawValue).maxInFlight ?? ProviderRegistry.descriptor(for: kind)?.maxInFlight ?? 4
    }

    public func allowances(_ kind: ProviderKind) -> (rest: Int, git: Int) {
        let configured = provider(kind.rawValue)
        let descriptor = ProviderRegistry.descriptor(for: kind)
        return (configured.requestsPerHour ?? descriptor?.restRequestsPerHour ?? 1000,
                configured.gitRequestsPerHour ?? descriptor?.gitRequestsPerHour ?? 60000)
    }

    /// The hourly allowance of one kind of request: REST, git, or GraphQL's points (which,
    /// where an adapter states none, share the REST allowance).
    public func allowance(_ kind: ProviderKind, for request: RequestKind) -> Int {
        let (rest, git) = allowances(kind)
        switch request {
        case .rest: return rest
        case .git: return git
        case .graphql:
            return provider(kind.rawValue).graphQLPointsPerHour ?? ProviderRegistry.descriptor(for: kind)?.graphQLPointsPerHour ?? rest
        }
    }
}
