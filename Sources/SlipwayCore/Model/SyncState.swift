import Foundation
import SlipwayHTTP

/// One stored budget: the HTTP client's own bucket under its key, so the store keeps exactly what
/// the client spends from (no second copy of the bucket's fields to keep in step).
public struct BudgetState: Sendable, Equatable, Identifiable {
    public var id: Int64?
    public var key: BudgetKey
    public var bucket: TokenBucket
    /// When this row was last written.
    public var updatedAt: Date

    public init(id: Int64? = nil, key: BudgetKey, bucket: TokenBucket, updatedAt: Date? = nil) {
        self.id = id
        self.key = key
        self.bucket = bucket
        self.updatedAt = updatedAt ?? bucket.refilledAt
    }

    public var kind: RequestKind { key.kind }
    public var credential: String { key.credential }
}

/// Where the engine is in syncing one scope of an account ("account", "workspace:acme",
/// "repository:42"), so a restart resumes instead of starting over.
public struct SyncState: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var accountID: Int64
    public var scope: String
    public var lastAttemptAt: Date?
    public var lastSuccessAt: Date?
    public var lastError: String?

    public init(id: Int64? = nil, accountID: Int64, scope: String, lastAttemptAt: Date? = nil,
                lastSuccessAt: Date? = nil, lastError: String? = nil) {
        self.id = id
        self.accountID = accountID
        self.scope = scope
        self.lastAttemptAt = lastAttemptAt
        self.lastSuccessAt = lastSuccessAt
        self.lastError = lastError
    }
}
