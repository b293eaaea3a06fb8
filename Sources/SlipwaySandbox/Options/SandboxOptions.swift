/// How a sandbox world is generated and how it misbehaves; `slipway sandbox` flags map 1:1.
public struct SandboxOptions: Sendable, Equatable {
    /// The first personality's port; each further one takes the next (0: a free port each, as
    /// tests running in parallel need).
    public var port: Int = 0
    /// The personalities served, each at a base URL of its own. Bitbucket alone unless asked
    /// (`slipway sandbox` serves every one it has unless `--only` picks).
    public var personalities: [SandboxPersonalityName] = [.bitbucket]
    public var host: String = "127.0.0.1"
    public var seed: UInt64 = 1
    public var workspaces: Int = 3
    public var reposPerWorkspace: Int = 8
    public var branchesPerRepo: Int = 6
    /// Every seventh repository gets 125 extra branches, so pagination matters.
    public var largeRepositories = true
    /// The account administers every repository (an organization owner's), so a hook can be
    /// installed on each; otherwise a third of the workspaces and a quarter of the rest are not its.
    public var administersAll = false
    /// Seconds between simulated pushes; nil for none.
    public var pushEverySeconds: Double?
    /// Whether a push bumps the repository's `updated_on` (Bitbucket does not document it).
    public var bumpUpdatedOn: Bool = true
    /// REST requests per hour per credential for every personality; 0 means unlimited, nil each
    /// service's own (Bitbucket 1,000, GitHub 5,000).
    public var rateLimitPerHour: Int?
    /// git smart-HTTP requests per hour per credential; 0 means unlimited.
    public var gitRateLimitPerHour: Int = 60000
    /// Per-personality REST limits (`--rate-limit bitbucket=500`), over `rateLimitPerHour`.
    public var rateLimits: [SandboxPersonalityName: Int] = [:]
    /// Per-personality git limits (`--git-rate-limit bitbucket=100`), over `gitRateLimitPerHour`.
    public var gitRateLimits: [SandboxPersonalityName: Int] = [:]
    /// Sent as `Retry-After` on 429s when set (Bitbucket usually sends none).
    public var retryAfterSeconds: Int?
    /// How long expiring OAuth access tokens live (`expires_in`); nil: each service's own
    /// (Bitbucket 2 h, a GitHub App's user tokens 8 h).
    public var tokenLifetimeSeconds: Int?
    /// How long a device code waits for its approval; nil: each service's own (GitHub 900 s, GitLab 300 s).
    public var deviceCodeLifetimeSeconds: Int?
    /// The least wait between device-flow polls the sandbox asks for (GitHub: 5 s).
    public var deviceIntervalSeconds: Int = 5
    /// The scopes the access token reports in `X-OAuth-Scopes`.
    public var tokenScopes: [String] = ["account", "email", "repository", "webhook", "pullrequest"]
    /// A `demo` workspace of real git repositories (served over smart HTTP, clone and fetch
    /// work), pushed to along with the simulated ones.
    public var demoRepositories = false
    /// The GitLab release the GitLab personality plays (its `User-Agent`): from 19.0 hooks take a
    /// `signing_token` and sign deliveries with it; before, the parameter is ignored.
    public var gitlabVersion = "19.1.0"
    /// App Platform apps on the DigitalOcean personality's account, and deployments each.
    public var appPlatformApps = 3
    public var deploymentsPerApp = 3
    /// How long an App Platform deployment stays in each phase (pending, building, deploying).
    public var appPlatformPhaseSeconds: Double = 2
    /// Git providers App Platform's Git integration is not installed for (`github`, `gitlab`,
    /// `bitbucket`): an app built from one is refused as App Platform refuses it.
    public var appPlatformUnlinkedGitHosts: Set<String> = []
    /// Fault specifications (see `FaultSpec`), applied in order.
    public var faults: [String] = []

    public init() {}

    /// Parses a `--rate-limit` value: `N` for every personality, or `NAME=N` for one.
    public mutating func applyRateLimit(_ text: String, git: Bool) throws(ValidationError) {
        let flag = git ? "git-rate-limit" : "rate-limit"
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard let value = Int(parts.last ?? ""), value >= 0 else {
            throw .personality("--\(flag) '\(text)': expected N or NAME=N, N requests an hour (0 = none)")
        }
        if parts.count == 1 {
            if git { gitRateLimitPerHour = value } else { rateLimitPerHour = value }
        } else {
            let name = try SandboxPersonalityName.parse(parts[0])
            if git { gitRateLimits[name] = value } else { rateLimits[name] = value }
        }
    }

    public enum ValidationError: Error, CustomStringConvertible, Equatable {
        case outOfRange(String, ClosedRange<Int>)
        case fault(String)
        case personality(String)
        case version(String)

        public var description: String {
            switch self {
            case let .outOfRange(name, range): "--\(name) must be between \(range.lowerBound) and \(range.upperBound)"
            case let .fault(message), let .personality(message), let .version(message): message
            }
        }
    }

    public func validate() throws(ValidationError) {
        guard (0...65535).contains(port) else { throw .outOfRange("port", 0...65535) }
        guard !personalities.isEmpty else { throw .personality("the sandbox needs at least one personality") }
        for name in personalities where !SandboxPersonalityName.available.contains(name) {
            throw .personality("the sandbox does not serve \(name) yet; choose from \(SandboxPersonalityName.available.map(\.rawValue).joined(separator: ", "))")
        }
        if port > 0 && port + personalities.count - 1 > 65535 { throw .outOfRange("port", 0...(65536 - personalities.count)) }
        for (name, _) in rateLimits.merging(gitRateLimits, uniquingKeysWith: { a, _ in a }) where !personalities.contains(name) {
            throw .personality("a rate limit names \(name), which this sandbox does not serve")
        }
        guard rateLimits.values.allSatisfy({ $0 >= 0 }) else { throw .outOfRange("rate-limit", 0...Int.max) }
        guard gitRateLimits.values.allSatisfy({ $0 >= 0 }) else { throw .outOfRange("git-rate-limit", 0...Int.max) }
        guard (1...1000).contains(workspaces) else { throw .outOfRange("workspaces", 1...1000) }
        guard (0...100_000).contains(reposPerWorkspace) else { throw .outOfRange("repos", 0...100_000) }
        guard (1...100_000).contains(branchesPerRepo) else { throw .outOfRange("branches", 1...100_000) }
        guard (rateLimitPerHour ?? 0) >= 0 else { throw .outOfRange("rate-limit", 0...Int.max) }
        guard gitRateLimitPerHour >= 0 else { throw .outOfRange("git-rate-limit", 0...Int.max) }
        if let retryAfterSeconds, retryAfterSeconds < 0 { throw .outOfRange("retry-after", 0...Int.max) }
        guard (1...86400).contains(tokenLifetimeSeconds ?? 1) else { throw .outOfRange("token-lifetime", 1...86400) }
        guard (1...3600).contains(deviceCodeLifetimeSeconds ?? 1) else { throw .outOfRange("device-code-lifetime", 1...3600) }
        guard (1...60).contains(deviceIntervalSeconds) else { throw .outOfRange("device-interval", 1...60) }
        guard (0...10_000).contains(appPlatformApps) else { throw .outOfRange("apps", 0...10_000) }
        guard (1...1_000).contains(deploymentsPerApp) else { throw .outOfRange("deployments", 1...1_000) }
        guard gitlabVersion.split(separator: ".").first.flatMap({ Int($0) }) != nil else {
            throw .version("--gitlab-version \(gitlabVersion) is not a release number like 17.9.0")
        }
        for fault in faults {
            let spec: FaultSpec
            do { spec = try FaultSpec(parsing: fault) } catch { throw .fault(error.description) }
            if let name = spec.personality, !personalities.contains(name) {
                throw .fault("--fault '\(fault)': this sandbox does not serve \(name)")
            }
        }
    }
}
