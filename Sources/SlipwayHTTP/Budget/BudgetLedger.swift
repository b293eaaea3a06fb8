import Foundation

/// Where budgets live. The core implements this on the store (one transaction per change), so
/// every process spends from the same buckets; this module knows no database.
public protocol BudgetLedger: Sendable {
    /// Reads, changes and writes one bucket atomically. `bucket` is nil when none is stored yet.
    func update<R: Sendable>(_ key: BudgetKey, _ body: @Sendable (inout TokenBucket?) -> R) async throws -> R
}

/// A ledger for one process (tests, benchmarks, and the default before a store is wired).
public final class InMemoryBudgetLedger: BudgetLedger, @unchecked Sendable {
    // `buckets` is guarded by `lock`.
    private let lock = NSLock()
    private var buckets: [BudgetKey: TokenBucket] = [:]

    public init() {}

    public func update<R: Sendable>(_ key: BudgetKey, _ body: @Sendable (inout TokenBucket?) -> R) async throws -> R {
        lock.withLock {
            var bucket = buckets[key]
            let result = body(&bucket)
            buckets[key] = bucket
            return result
        }
    }

    public func bucket(_ key: BudgetKey) -> TokenBucket? {
        lock.lock(); defer { lock.unlock() }
        return buckets[key]
    }
}
