import Foundation
import GRDB
import SlipwayHTTP

/// Budgets kept in the store, so the daemon, a TUI and a CLI spend from one bucket per
/// (host, credential, kind). Each change is one short IMMEDIATE transaction: read, change, write.
public struct StoreBudgetLedger: BudgetLedger {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    public func update<R: Sendable>(_ key: BudgetKey, _ body: @Sendable (inout TokenBucket?) -> R) async throws -> R {
        try Self.updateSync(store: store, key, body)
    }

    /// The same, on the caller's thread (the shared ledger reconciles under its lock).
    static func updateSync<R: Sendable>(store: Store, _ key: BudgetKey, _ body: @Sendable (inout TokenBucket?) -> R) throws -> R {
        // Cached statements: every process reconciles its budgets several times a second while it
        // syncs, and the query interface built and prepared its SQL anew each time.
        try store.write { db in
            let keyArguments: StatementArguments = [key.host, key.credential, key.kind.rawValue]
            let existing = try BudgetState.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM budget_states WHERE host = ? AND credential = ? AND kind = ?"), arguments: keyArguments)
            var bucket = existing?.bucket
            let result = body(&bucket)
            if let bucket {
                let state = BudgetState(id: existing?.id, key: key, bucket: bucket)
                try db.cachedStatement(sql: """
                    INSERT INTO budget_states (host, credential, kind, capacity, tokens, refill_per_second, refilled_at, paused_until,
                    consecutive_rate_limits, header_limit, header_remaining, header_reset_at, updated_at, minute_capacity, minute_tokens)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (host, credential, kind) DO UPDATE SET capacity = excluded.capacity, tokens = excluded.tokens,
                    refill_per_second = excluded.refill_per_second, refilled_at = excluded.refilled_at, paused_until = excluded.paused_until,
                    consecutive_rate_limits = excluded.consecutive_rate_limits, header_limit = excluded.header_limit,
                    header_remaining = excluded.header_remaining, header_reset_at = excluded.header_reset_at, updated_at = excluded.updated_at,
                    minute_capacity = excluded.minute_capacity, minute_tokens = excluded.minute_tokens
                    """).execute(arguments: keyArguments + [
                        bucket.capacity, bucket.tokens, bucket.refillPerSecond, bucket.refilledAt, bucket.pausedUntil,
                        bucket.consecutiveRateLimits, bucket.headerLimit, bucket.headerRemaining, bucket.headerResetAt, state.updatedAt,
                        bucket.minute?.capacity, bucket.minute?.tokens,
                    ])
            }
            return result
        }
    }

    /// Every stored budget, for the accounts screen and `status`.
    public func all() throws -> [(key: BudgetKey, bucket: TokenBucket)] {
        try store.read { db in
            try BudgetState.order(Column("credential"), Column("host"), Column("kind")).fetchAll(db).map { ($0.key, $0.bucket) }
        }
    }
}
