import Foundation
import SlipwayHTTP

/// One budget as a person reads it at a moment — what is left of what, how fast it refills,
/// whether it is paused and what the provider's headers last said — without the token bucket's
/// mechanics. What the dashboard shows comes from here (the TUI knows no HTTP).
public struct BudgetReading: Sendable, Equatable {
    /// A window of a budget: its tokens now and its capacity.
    public struct Window: Sendable, Equatable {
        public var tokens: Double
        public var capacity: Double
    }

    /// `rest`, `graphql` or `git`, as `accounts --json` names it.
    public var kind: String
    /// The hourly window, refilled to the moment read.
    public var hour: Window
    public var refillPerSecond: Double
    /// The per-minute window, where the provider states one.
    public var minute: Window?
    /// What may be spent now: the hourly tokens, or the provider's own count when it says less.
    public var left: Int
    /// Until when a rate limit pauses it, if that is still ahead.
    public var pausedUntil: Date?
    public var consecutiveRateLimits: Int
    /// What the provider's rate-limit headers last said.
    public var providerLimit: Int?
    public var providerRemaining: Int?
    public var providerResetsAt: Date?

    public var isREST: Bool { kind == RequestKind.rest.rawValue }
    public var isGit: Bool { kind == RequestKind.git.rawValue }

    /// Seconds until the hourly window is full again; nil when it is full or never refills.
    public var fullIn: TimeInterval? {
        guard hour.tokens < hour.capacity, refillPerSecond > 0 else { return nil }
        return (hour.capacity - hour.tokens) / refillPerSecond
    }

    public init(_ state: BudgetState, now: Date) {
        var bucket = state.bucket
        bucket.refill(now: now)
        kind = state.kind.rawValue
        hour = Window(tokens: bucket.tokens, capacity: bucket.capacity)
        refillPerSecond = bucket.refillPerSecond
        minute = bucket.minute.map { Window(tokens: $0.tokens, capacity: $0.capacity) }
        let available = Int(state.bucket.available(now: now))
        left = bucket.headerRemaining.map { min($0, available) } ?? available
        pausedUntil = bucket.pausedUntil.flatMap { $0 > now ? $0 : nil }
        consecutiveRateLimits = bucket.consecutiveRateLimits
        providerLimit = bucket.headerLimit
        providerRemaining = bucket.headerRemaining
        providerResetsAt = bucket.headerResetAt
    }
}

extension BudgetState {
    /// This budget as read at `now`.
    public func reading(now: Date) -> BudgetReading { BudgetReading(self, now: now) }
}
