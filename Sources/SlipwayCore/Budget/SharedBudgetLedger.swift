import Foundation
import GRDB
import SlipwayHTTP
import Synchronization

/// Budgets spent in memory and reconciled with the store's shared rows on a short period, so a
/// request costs no write transaction, while the daemon, a dashboard and a CLI still spend from one
/// bucket. A change to the pause (a rate-limit answer, or the end of a run of them) is written at
/// once; so is the first use of a key, which also picks up what other processes stored.
///
/// Reconciling merges, never overwrites: the stored bucket brought to the local bucket's time,
/// less what this process spent since it last looked, bounded by what this process knows (headers
/// may have narrowed it); the later pause and the longer run of 429s win.
public final class SharedBudgetLedger: BudgetLedger, Sendable {
    private struct Entry {
        var local: TokenBucket
        /// Tokens this process took (less those it gave back) since the last reconcile.
        var spent: Double
        var syncedAt: Date
    }

    private let store: Store
    private let period: TimeInterval
    /// Spending not yet written never exceeds this many tokens per bucket, or `unsyncedShare` of
    /// its capacity when that is more (a process may exit before its period passes: what it
    /// spent reaches the store all the same, but for these). A budget raised to millions an hour
    /// need not be written every ten requests.
    private let maxUnsynced: Double
    private let unsyncedShare: Double
    private let now: @Sendable () -> Date
    private let entries = Mutex<[BudgetKey: Entry]>([:])

    /// `period`: how stale another process's view of this process's spending may get.
    public init(store: Store, period: TimeInterval = 1, maxUnsynced: Double = 10, unsyncedShare: Double = 0.005,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.period = period
        self.maxUnsynced = maxUnsynced
        self.unsyncedShare = unsyncedShare
        self.now = now
    }

    public func update<R: Sendable>(_ key: BudgetKey, _ body: @Sendable (inout TokenBucket?) -> R) async throws -> R {
        try entries.withLock { entries in
            let moment = now()
            if entries[key] == nil || moment.timeIntervalSince(entries[key]!.syncedAt) >= period {
                entries[key] = try reconcile(key, entries[key], at: moment, localPauseWins: false)
            }
            var bucket = entries[key]?.local
            let before = bucket
            let result = body(&bucket)
            guard let after = bucket else { return result }
            var entry = entries[key] ?? Entry(local: after, spent: 0, syncedAt: moment)
            if let before {
                var refilled = before
                refilled.refill(now: after.refilledAt)
                entry.spent += refilled.tokens - after.tokens
            }
            entry.local = after
            entries[key] = entry
            // A pause starts or ends: every process must know at once.
            if before?.pausedUntil != after.pausedUntil || before?.consecutiveRateLimits != after.consecutiveRateLimits || before == nil {
                entries[key] = try reconcile(key, entry, at: moment, localPauseWins: true)
            } else if entry.spent >= max(maxUnsynced, after.capacity * unsyncedShare) {
                entries[key] = try reconcile(key, entry, at: moment, localPauseWins: false)
            }
            return result
        }
    }

    /// Writes what this process did into the shared row, and takes back what the others did.
    /// `localPauseWins`: this process just changed the pause (a 429, or a success ending a run),
    /// so its count of 429s in a row is the news; a later pause from elsewhere still stands.
    private func reconcile(_ key: BudgetKey, _ entry: Entry?, at moment: Date, localPauseWins: Bool) throws -> Entry? {
        let local = entry?.local
        let spent = max(0, entry?.spent ?? 0)
        let merged: TokenBucket? = try StoreBudgetLedger.updateSync(store: store, key) { stored in
            guard let local else { return stored }
            guard var shared = stored else {
                stored = local
                return local
            }
            var result = local
            if shared.refilledAt < local.refilledAt { shared.refill(now: local.refilledAt) }
            result.tokens = max(0, min(local.tokens, shared.tokens - spent))
            if var minute = result.minute, let sharedMinute = shared.minute {
                minute.tokens = max(0, min(minute.tokens, sharedMinute.tokens - spent))
                result.minute = minute
            }
            result.pausedUntil = [local.pausedUntil, shared.pausedUntil].compactMap { $0 }.max()
            result.consecutiveRateLimits = localPauseWins ? local.consecutiveRateLimits : max(local.consecutiveRateLimits, shared.consecutiveRateLimits)
            result.headerLimit = local.headerLimit ?? shared.headerLimit
            result.headerRemaining = local.headerRemaining ?? shared.headerRemaining
            result.headerResetAt = local.headerResetAt ?? shared.headerResetAt
            stored = result
            return result
        }
        guard let merged else { return nil }
        return Entry(local: merged, spent: 0, syncedAt: moment)
    }
}
