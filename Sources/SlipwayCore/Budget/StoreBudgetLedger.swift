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
        try store.write { db in
            let existing = try BudgetState
                .filter(Column("host") == key.host && Column("credential") == key.credential && Column("kind") == key.kind.rawValue)
                .fetchOne(db)
            var bucket = existing.map(Self.bucket(from:))
            let result = body(&bucket)
            if let bucket {
                var state = Self.state(from: bucket, key: key, id: existing?.id)
                try state.save(db)
            }
            return result
        }
    }

    /// Every stored budget, for the accounts screen and `status`.
    public func all() throws -> [(key: BudgetKey, bucket: TokenBucket)] {
        try store.read { db in
            try BudgetState.order(Column("credential"), Column("host"), Column("kind")).fetchAll(db).map {
                (BudgetKey(host: $0.host, credential: $0.credential, kind: RequestKind(rawValue: $0.kind.rawValue) ?? .rest), Self.bucket(from: $0))
            }
        }
    }

    static func bucket(from state: BudgetState) -> TokenBucket {
        var bucket = TokenBucket(capacity: state.capacity, tokens: state.tokens, refillPerSecond: state.refillPerSecond, refilledAt: state.refilledAt,
                                 pausedUntil: state.pausedUntil, consecutiveRateLimits: state.consecutiveRateLimits, headerLimit: state.headerLimit,
                                 headerRemaining: state.headerRemaining, headerResetAt: state.headerResetAt)
        if let capacity = state.minuteCapacity, let tokens = state.minuteTokens { bucket.minute = .init(capacity: capacity, tokens: tokens) }
        return bucket
    }

    static func state(from bucket: TokenBucket, key: BudgetKey, id: Int64?) -> BudgetState {
        BudgetState(id: id, host: key.host, credential: key.credential, kind: BudgetKind(rawValue: key.kind.rawValue) ?? .rest,
                    capacity: bucket.capacity, tokens: bucket.tokens, refillPerSecond: bucket.refillPerSecond,
                    refilledAt: bucket.refilledAt, pausedUntil: bucket.pausedUntil, consecutiveRateLimits: bucket.consecutiveRateLimits,
                    headerLimit: bucket.headerLimit, headerRemaining: bucket.headerRemaining, headerResetAt: bucket.headerResetAt,
                    updatedAt: bucket.refilledAt, minuteCapacity: bucket.minute?.capacity, minuteTokens: bucket.minute?.tokens)
    }
}
