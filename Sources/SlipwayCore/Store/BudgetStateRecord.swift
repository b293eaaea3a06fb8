import Foundation
import GRDB
import SlipwayHTTP

/// `budget_states` rows map column by column onto the client's `TokenBucket`, in this one place.
extension BudgetState: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "budget_states"

    public init(row: Row) throws {
        var bucket = TokenBucket(capacity: row["capacity"], tokens: row["tokens"], refillPerSecond: row["refill_per_second"],
                                 refilledAt: row["refilled_at"], pausedUntil: row["paused_until"],
                                 consecutiveRateLimits: row["consecutive_rate_limits"], headerLimit: row["header_limit"],
                                 headerRemaining: row["header_remaining"], headerResetAt: row["header_reset_at"])
        if let capacity: Double = row["minute_capacity"], let tokens: Double = row["minute_tokens"] {
            bucket.minute = .init(capacity: capacity, tokens: tokens)
        }
        let kind: String = row["kind"]
        self.init(id: row["id"], key: BudgetKey(host: row["host"], credential: row["credential"], kind: RequestKind(rawValue: kind) ?? .rest),
                  bucket: bucket, updatedAt: row["updated_at"])
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id
        container["host"] = key.host
        container["credential"] = key.credential
        container["kind"] = key.kind.rawValue
        container["capacity"] = bucket.capacity
        container["tokens"] = bucket.tokens
        container["refill_per_second"] = bucket.refillPerSecond
        container["refilled_at"] = bucket.refilledAt
        container["paused_until"] = bucket.pausedUntil
        container["consecutive_rate_limits"] = bucket.consecutiveRateLimits
        container["header_limit"] = bucket.headerLimit
        container["header_remaining"] = bucket.headerRemaining
        container["header_reset_at"] = bucket.headerResetAt
        container["updated_at"] = updatedAt
        container["minute_capacity"] = bucket.minute?.capacity
        container["minute_tokens"] = bucket.minute?.tokens
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
