import Foundation

/// Which allowance a request spends: the REST API's or git's smart-HTTP one.
public enum BudgetKind: String, Sendable, Codable, CaseIterable {
    case rest, git, graphql
}

/// A token bucket per (host, credential, kind), kept in the store so every process spends from
/// the same one. `credential` names the account ("account:7"), never a secret.
public struct BudgetState: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var host: String
    public var credential: String
    public var kind: BudgetKind
    /// Requests the bucket holds when full (hourly allowance × budget fraction).
    public var capacity: Double
    public var tokens: Double
    public var refillPerSecond: Double
    /// When `tokens` was last brought up to date.
    public var refilledAt: Date
    public var pausedUntil: Date?
    /// 429s in a row, which drives the doubling pause.
    public var consecutiveRateLimits: Int
    /// What the provider's rate-limit headers said last.
    public var headerLimit: Int?
    public var headerRemaining: Int?
    public var headerResetAt: Date?
    public var updatedAt: Date
    /// The per-minute window, where the provider has one.
    public var minuteCapacity: Double?
    public var minuteTokens: Double?

    public init(id: Int64? = nil, host: String, credential: String, kind: BudgetKind, capacity: Double,
                tokens: Double, refillPerSecond: Double, refilledAt: Date, pausedUntil: Date? = nil,
                consecutiveRateLimits: Int = 0, headerLimit: Int? = nil, headerRemaining: Int? = nil,
                headerResetAt: Date? = nil, updatedAt: Date, minuteCapacity: Double? = nil, minuteTokens: Double? = nil) {
        self.id = id
        self.host = host
        self.credential = credential
        self.kind = kind
        self.capacity = capacity
        self.tokens = tokens
        self.refillPerSecond = refillPerSecond
        self.refilledAt = refilledAt
        self.pausedUntil = pausedUntil
        self.consecutiveRateLimits = consecutiveRateLimits
        self.headerLimit = headerLimit
        self.headerRemaining = headerRemaining
        self.headerResetAt = headerResetAt
        self.updatedAt = updatedAt
        self.minuteCapacity = minuteCapacity
        self.minuteTokens = minuteTokens
    }
}

/// Where the engine is in syncing one scope of an account ("account", "workspace:acme",
/// "repository:42"), so a restart resumes instead of starting over.
public struct SyncState: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var accountID: Int64
    public var scope: String
    /// Opaque progress marker (e.g. the newest `updated_on` seen by discovery).
    public var cursor: String?
    public var lastAttemptAt: Date?
    public var lastSuccessAt: Date?
    public var lastError: String?
    public var nextDueAt: Date?

    public init(id: Int64? = nil, accountID: Int64, scope: String, cursor: String? = nil, lastAttemptAt: Date? = nil,
                lastSuccessAt: Date? = nil, lastError: String? = nil, nextDueAt: Date? = nil) {
        self.id = id
        self.accountID = accountID
        self.scope = scope
        self.cursor = cursor
        self.lastAttemptAt = lastAttemptAt
        self.lastSuccessAt = lastSuccessAt
        self.lastError = lastError
        self.nextDueAt = nextDueAt
    }
}
