import Foundation

/// Which allowance a request spends. Bitbucket counts git smart-HTTP against its own, far larger
/// limit, so the two are budgeted apart.
public enum RequestKind: String, Sendable, Codable, CaseIterable {
    /// GraphQL spends points from its own budget (GitHub).
    case rest, git, graphql
}

/// A budget is kept per (host, credential, kind). `credential` names the credential (an account
/// id), never the secret.
public struct BudgetKey: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var credential: String
    public var kind: RequestKind

    public init(host: String, credential: String, kind: RequestKind) {
        self.host = host
        self.credential = credential
        self.kind = kind
    }

    public var description: String { "\(credential)@\(host)/\(kind.rawValue)" }
}

/// A token bucket plus the credential's rate-limit pause: everything several processes must agree
/// on to spend from one allowance. Plain data, so a store can persist it. The main window is an
/// hour; a provider that also limits per minute (GitLab, App Platform's 250) adds `minute`, and a
/// request needs a token from both.
public struct TokenBucket: Sendable, Equatable {
    /// A second, per-minute window.
    public struct Window: Sendable, Equatable {
        public var capacity: Double
        public var tokens: Double

        public init(capacity: Double, tokens: Double) {
            self.capacity = capacity
            self.tokens = tokens
        }

        public var refillPerSecond: Double { capacity / 60 }
    }

    /// Requests the bucket holds when full (hourly allowance × budget fraction).
    public var capacity: Double
    public var tokens: Double
    public var refillPerSecond: Double
    public var refilledAt: Date
    /// No request may be sent on this credential before this moment (set by a 429).
    public var pausedUntil: Date?
    public var consecutiveRateLimits: Int
    public var headerLimit: Int?
    public var headerRemaining: Int?
    public var headerResetAt: Date?
    public var minute: Window?

    /// A full bucket for an hourly allowance (and a per-minute one, where the provider states it).
    public init(hourlyAllowance: Int, perMinute: Int? = nil, fraction: Double, now: Date) {
        let capacity = max(1, Double(hourlyAllowance) * fraction)
        self.init(capacity: capacity, tokens: capacity, refillPerSecond: capacity / 3600, refilledAt: now)
        if let perMinute, perMinute > 0 {
            let minuteCapacity = max(1, Double(perMinute) * fraction)
            minute = Window(capacity: minuteCapacity, tokens: minuteCapacity)
        }
    }

    public init(capacity: Double, tokens: Double, refillPerSecond: Double, refilledAt: Date, pausedUntil: Date? = nil,
                consecutiveRateLimits: Int = 0, headerLimit: Int? = nil, headerRemaining: Int? = nil, headerResetAt: Date? = nil) {
        self.capacity = capacity
        self.tokens = tokens
        self.refillPerSecond = refillPerSecond
        self.refilledAt = refilledAt
        self.pausedUntil = pausedUntil
        self.consecutiveRateLimits = consecutiveRateLimits
        self.headerLimit = headerLimit
        self.headerRemaining = headerRemaining
        self.headerResetAt = headerResetAt
    }

    public mutating func refill(now: Date) {
        let elapsed = now.timeIntervalSince(refilledAt)
        guard elapsed > 0 else { return }
        tokens = min(capacity, tokens + elapsed * refillPerSecond)
        if var window = minute {
            window.tokens = min(window.capacity, window.tokens + elapsed * window.refillPerSecond)
            minute = window
        }
        refilledAt = now
    }

    /// What the bucket holds at `now`, spending nothing.
    public func available(now: Date) -> Double {
        var copy = self
        copy.refill(now: now)
        return copy.tokens
    }

    /// Takes one token, or says how long until one may be taken (a pause counts too).
    public mutating func take(now: Date) -> TimeInterval? {
        take(now: now, reserve: 0)
    }

    /// Takes a token from every window, keeping `reserve` tokens of the hour (scaled for the
    /// minute) for others; or says how long until that is possible.
    public mutating func take(now: Date, reserve: Double) -> TimeInterval? {
        if let pausedUntil, pausedUntil > now { return pausedUntil.timeIntervalSince(now) }
        refill(now: now)
        let needed = 1 + min(reserve, capacity * 0.05)
        var wait: TimeInterval = 0
        if tokens < needed { wait = refillPerSecond > 0 ? (needed - tokens) / refillPerSecond : 3600 }
        if let window = minute {
            let minuteNeeded = 1 + min(reserve * window.capacity / capacity, window.capacity * 0.05)
            if window.tokens < minuteNeeded { wait = max(wait, (minuteNeeded - window.tokens) / window.refillPerSecond) }
        }
        guard wait == 0 else { return wait }
        tokens -= 1
        minute?.tokens -= 1
        return nil
    }

    /// Gives back a token that was taken but not spent (the request never left).
    public mutating func giveBack() {
        tokens = min(capacity, tokens + 1)
        if var window = minute {
            window.tokens = min(window.capacity, window.tokens + 1)
            minute = window
        }
    }

    /// Narrows the bucket by what the provider's headers say about its own count.
    public mutating func apply(_ headers: RateLimitHeaders, fraction: Double, now: Date) {
        refill(now: now)
        if headers.window == .minute {
            applyMinute(headers, fraction: fraction, now: now)
            return
        }
        if let limit = headers.limit, limit > 0 {
            headerLimit = limit
            let newCapacity = max(1, Double(limit) * fraction)
            if newCapacity < capacity { tokens = min(tokens, newCapacity) }
            capacity = newCapacity
            refillPerSecond = newCapacity / 3600
        }
        let limit = Double(headers.limit ?? headerLimit ?? Int(capacity / max(fraction, 0.01)))
        // What we may still spend: the provider's remaining minus the share we leave to others.
        let reserve = limit * (1 - fraction)
        // Float noise must not leave a phantom fraction of a token.
        func spendable(_ value: Double) -> Double { value < 1e-6 ? 0 : value }
        if let remaining = headers.remaining {
            headerRemaining = remaining
            tokens = min(tokens, spendable(Double(remaining) - reserve))
        } else if headers.nearLimit == true {
            // Bitbucket says "near" below 20 % left.
            tokens = min(tokens, spendable(limit * 0.2 - reserve))
        }
        if let reset = headers.resetAt { headerResetAt = reset }
        if headers.remaining == 0, let reset = headers.resetAt, reset > now {
            pausedUntil = max(pausedUntil ?? reset, reset)
        }
    }

    /// The same for a per-minute count: the minute window takes the provider's quota, and what it
    /// says is left (less the share left to others); an exhausted one pauses until its reset.
    private mutating func applyMinute(_ headers: RateLimitHeaders, fraction: Double, now: Date) {
        var window = minute ?? Window(capacity: max(1, Double(headers.limit ?? 60) * fraction), tokens: max(1, Double(headers.limit ?? 60) * fraction))
        if let limit = headers.limit, limit > 0 {
            let newCapacity = max(1, Double(limit) * fraction)
            if newCapacity < window.capacity { window.tokens = min(window.tokens, newCapacity) }
            window.capacity = newCapacity
        }
        if let remaining = headers.remaining {
            let reserve = Double(headers.limit ?? Int(window.capacity / max(fraction, 0.01))) * (1 - fraction)
            let left = Double(remaining) - reserve
            window.tokens = min(window.tokens, left < 1e-6 ? 0 : left)
        }
        minute = window
        if headers.remaining == 0, let reset = headers.resetAt, reset > now {
            pausedUntil = max(pausedUntil ?? reset, reset)
        }
    }

    /// Records a 429: the whole credential pauses. A provider that states its wait (Retry-After,
    /// reset headers) is taken at its word; only an unexplained 429 also drains the bucket, so
    /// spending resumes slowly after it.
    public mutating func rateLimited(pause: TimeInterval, drain: Bool = true, now: Date) {
        consecutiveRateLimits += 1
        if drain {
            tokens = 0
            minute?.tokens = 0
        }
        refilledAt = now
        let until = now.addingTimeInterval(pause)
        pausedUntil = max(pausedUntil ?? until, until)
    }

    /// Records a response that was not a 429, ending a run of them.
    public mutating func succeeded() {
        consecutiveRateLimits = 0
    }

    public func isPaused(now: Date) -> Bool {
        (pausedUntil.map { $0 > now }) ?? false
    }
}

/// What a provider's rate-limit headers say (Bitbucket `X-RateLimit-*`, GitHub `x-ratelimit-*`,
/// GitLab and DigitalOcean `RateLimit-*`).
public struct RateLimitHeaders: Sendable, Equatable {
    /// Which of the bucket's windows the numbers describe: GitLab's count a minute.
    public enum Window: Sendable, Equatable { case hour, minute }

    public var limit: Int?
    public var remaining: Int?
    public var resetAt: Date?
    public var nearLimit: Bool?
    public var window: Window

    public init(limit: Int? = nil, remaining: Int? = nil, resetAt: Date? = nil, nearLimit: Bool? = nil, window: Window = .hour) {
        self.limit = limit
        self.remaining = remaining
        self.resetAt = resetAt
        self.nearLimit = nearLimit
        self.window = window
    }

    public var isEmpty: Bool { limit == nil && remaining == nil && resetAt == nil && nearLimit == nil }

    public static func parse(_ headers: HTTPHeaders) -> RateLimitHeaders {
        func int(_ names: String...) -> Int? {
            for name in names { if let v = headers[name].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) { return v } }
            return nil
        }
        var result = RateLimitHeaders()
        result.limit = int("x-ratelimit-limit", "ratelimit-limit")
        result.remaining = int("x-ratelimit-remaining", "ratelimit-remaining")
        if let reset = int("x-ratelimit-reset", "ratelimit-reset"), reset > 1_000_000_000 {
            result.resetAt = Date(timeIntervalSince1970: TimeInterval(reset))
        }
        return result
    }
}
