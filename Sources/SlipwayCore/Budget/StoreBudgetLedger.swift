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
            var bucket = existing?.bucket
            let result = body(&bucket)
            if let bucket {
                var state = BudgetState(id: existing?.id, key: key, bucket: bucket)
                try state.save(db)
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
