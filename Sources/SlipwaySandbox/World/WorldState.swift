import Foundation

/// Everything the sandbox's personalities share, guarded by the service's lock: each host's
/// part of the world (its user, workspaces, repositories, branches, hooks), the real git
/// repositories, the random stream, rate windows, faults, statistics and the webhook outbox.
struct WorldState: Sendable {
    let options: SandboxOptions
    /// The time of the request (or push) being handled.
    var now: Date
    var hosts: [SandboxPersonalityName: SandboxWorld]
    var random: SandboxRandom
    /// Real git repositories behind each host's `demo` workspace, when the sandbox has them.
    var demo: [SandboxPersonalityName: DemoRepositories] = [:]
    var demoPushes = 0
    var pushes = 0
    var limits: SandboxLimits
    var windows: [String: RollingWindow] = [:]
    var faults: FaultTable
    var stats = SandboxStats()
    /// Deliveries owed to hooks by pushes made under the lock; sent once it is released.
    var outbox: [OutboundDelivery] = []

    /// Records a request against the credential's window of that kind on that personality.
    mutating func admit(_ credential: String, kind: RequestKind, on personality: SandboxPersonalityName, weight: Int = 1) -> Admission {
        let limit = limits.perWindow(kind, on: personality)
        // Mutated in place through the subscript: a window holds an hour (GitLab: a minute) of stamps.
        let admitted = windows["\(personality)/\(kind)", default: RollingWindow(span: limits.span(kind, on: personality))]
            .admit(credential, limit: limit, now: now, weight: weight)
        if !admitted.allowed { stats.rateLimited += 1 }
        return Admission(allowed: admitted.allowed, used: admitted.used, limit: limit)
    }

    /// When the credential's window of that kind frees its oldest request.
    func resetsAt(_ credential: String, kind: RequestKind, on personality: SandboxPersonalityName) -> Date {
        windows["\(personality)/\(kind)"]?.resetsAt(credential, now: now) ?? now.addingTimeInterval(limits.span(kind, on: personality))
    }

    /// Requests of that kind the credential made in the last hour.
    func used(_ credential: String, kind: RequestKind, on personality: SandboxPersonalityName) -> Int {
        windows["\(personality)/\(kind)"]?.used(credential, now: now) ?? 0
    }

    /// Takes back a request that costs nothing after all (a 304 to a conditional request).
    mutating func refund(_ credential: String, kind: RequestKind, on personality: SandboxPersonalityName) {
        windows["\(personality)/\(kind)"]?.refund(credential)
    }

    mutating func resetWindows() { windows.removeAll() }
}

/// The answer of a rate window to one request.
struct Admission: Sendable {
    var allowed: Bool
    var used: Int
    /// The limit of the window in force (0: none): per hour, per minute for GitLab's REST.
    var limit: Int
}

/// Requests per hour, per personality and kind; `--rate-limit` and `--git-rate-limit` set them.
struct SandboxLimits: Sendable, Equatable {
    /// For every personality; nil: each one's own.
    var rest: Int?
    var git: Int
    var restOverrides: [SandboxPersonalityName: Int] = [:]
    var gitOverrides: [SandboxPersonalityName: Int] = [:]

    init(options: SandboxOptions) {
        rest = options.rateLimitPerHour
        git = options.gitRateLimitPerHour
        restOverrides = options.rateLimits
        gitOverrides = options.gitRateLimits
    }

    func perHour(_ kind: RequestKind, on personality: SandboxPersonalityName) -> Int {
        switch kind {
        case .git: gitOverrides[personality] ?? git
        case .rest, .graphql: restOverrides[personality] ?? rest ?? personality.defaultRequestsPerHour
        case .oauth: 0
        }
    }

    /// GitLab meters REST per minute: its window is a minute of the hourly allowance.
    func span(_ kind: RequestKind, on personality: SandboxPersonalityName) -> TimeInterval {
        personality == .gitlab && kind == .rest ? 60 : 3600
    }

    /// The limit of that window.
    func perWindow(_ kind: RequestKind, on personality: SandboxPersonalityName) -> Int {
        let hourly = perHour(kind, on: personality)
        guard span(kind, on: personality) < 3600, hourly > 0 else { return hourly }
        return max(1, hourly / 60)
    }

    /// Every personality's REST limit, for the stats.
    func restByPersonality(_ names: [SandboxPersonalityName]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: names.map { ($0.rawValue, perHour(.rest, on: $0)) })
    }
}

/// What the sandbox has answered, for `/_sandbox/stats`.
struct SandboxStats: Sendable {
    var byPath: [String: Int] = [:]
    var byKind: [String: Int] = [:]
    var byCredential: [String: Int] = [:]
    var byPersonality: [String: Int] = [:]
    var rateLimited = 0
    var unauthorized = 0
    /// Requests to App Platform's log host that carried a credential (its URLs hold their own token).
    var logRequestsWithCredentials = 0
}
