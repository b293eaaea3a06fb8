import Foundation
import Testing
import SlipwayHTTP
import Synchronization
@testable import SlipwayCore

/// Budgets spent in memory, reconciled with the store on a period: requests cost no write
/// transaction, and two processes still spend from one bucket.
@Suite("Shared budget ledger")
struct SharedBudgetLedgerTests {
    final class FakeTime: Sendable {
        let value = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        var now: Date { value.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    let key = BudgetKey(host: "api.example.com", credential: "account:1", kind: .rest)
    let moment = Date(timeIntervalSince1970: 1_800_000_000)

    func take(_ ledger: SharedBudgetLedger, _ count: Int = 1) async throws {
        let moment = self.moment
        for _ in 0..<count {
            _ = try await ledger.update(key) { bucket in
                var b = bucket ?? TokenBucket(hourlyAllowance: 1000, fraction: 0.8, now: moment)
                _ = b.take(now: moment)
                bucket = b
            }
        }
    }

    func stored(_ store: Store) throws -> Double? {
        try StoreBudgetLedger(store: store).all().first { $0.key == key }?.bucket.tokens
    }

    @Test("spending stays in memory until the period passes; then the store holds both processes' spending")
    func twoProcesses() async throws {
        let tmp = TemporaryDirectory()
        let store = try Store(path: tmp.file("slipway.db"))
        let time = FakeTime()
        let a = SharedBudgetLedger(store: store, period: 10, maxUnsynced: 100, now: { time.now })
        let b = SharedBudgetLedger(store: store, period: 10, maxUnsynced: 100, now: { time.now })

        try await take(a)
        #expect(try stored(store) == 799, "a new bucket is written at once")
        try await take(a, 29)
        #expect(try stored(store) == 799, "each request wrote the store")

        try await take(b, 10)   // B starts from the stored 799: it does not yet know A's 29
        time.advance(10)
        try await take(b)       // B reconciles: 799 − its 10, then spends one more
        #expect(try stored(store) == 789)
        try await take(a)       // A reconciles: 789 − its 29 …
        #expect(try stored(store) == 760)
        time.advance(10)
        try await take(b)
        #expect(try stored(store) == 759, "B's later spending is folded in")
        let total = try #require(try stored(store))
        // 30 by A and 12 by B from 800: never more left than that.
        #expect(total <= 800 - 30 - 11)
    }

    @Test("a burst is written every few tokens even before the period passes (a short-lived CLI loses at most those)")
    func burst() async throws {
        let tmp = TemporaryDirectory()
        let store = try Store(path: tmp.file("slipway.db"))
        let time = FakeTime()
        let ledger = SharedBudgetLedger(store: store, period: 60, maxUnsynced: 10, now: { time.now })
        try await take(ledger, 35)
        let left = try #require(try stored(store))
        #expect(left <= 800 - 30 && left > 800 - 35 - 1, "\(left)")
    }

    @Test("a large budget is written every half percent of its capacity, not every ten tokens")
    func largeBudget() async throws {
        let tmp = TemporaryDirectory()
        let store = try Store(path: tmp.file("slipway.db"))
        let time = FakeTime()
        let moment = self.moment
        let ledger = SharedBudgetLedger(store: store, period: 60, maxUnsynced: 10, now: { time.now })
        let large = BudgetKey(host: "h", credential: "account:9", kind: .rest)
        func spend(_ count: Int) async throws {
            for _ in 0..<count {
                _ = try await ledger.update(large) { bucket in
                    var b = bucket ?? TokenBucket(hourlyAllowance: 1_000_000, fraction: 1, now: moment)
                    defer { bucket = b }
                    return b.take(now: moment)
                }
            }
        }
        func left() throws -> Double? { try StoreBudgetLedger(store: store).all().first { $0.key == large }?.bucket.tokens }
        try await spend(1)
        #expect(try left() == 999_999, "the first use is written at once")
        try await spend(4_000)
        #expect(try left() == 999_999, "4,000 of 1,000,000 is under half a percent: not written yet")
        try await spend(1_000)
        #expect(try left().map { $0 <= 995_000 } == true, "past 5,000 it is")
    }

    @Test("a rate-limit pause is written at once, and a ledger that starts later sees it")
    func pauseAtOnce() async throws {
        let tmp = TemporaryDirectory()
        let store = try Store(path: tmp.file("slipway.db"))
        let time = FakeTime()
        let a = SharedBudgetLedger(store: store, period: 10, now: { time.now })
        try await take(a, 5)
        let moment = self.moment
        _ = try await a.update(key) { bucket in
            bucket?.rateLimited(pause: 60, drain: false, now: moment)
        }
        let paused = try #require(try StoreBudgetLedger(store: store).all().first { $0.key == key }?.bucket)
        #expect(paused.pausedUntil == moment.addingTimeInterval(60) && paused.consecutiveRateLimits == 1)
        #expect(paused.tokens == 795, "the spending before the pause went with it")
        let later = SharedBudgetLedger(store: store, period: 10, now: { time.now })
        let wait = try await later.update(key) { bucket in bucket?.take(now: moment) }
        #expect(wait.map { abs($0 - 60) < 0.001 } == true)
        // A success ends the run of 429s for everyone, at once.
        _ = try await a.update(key) { bucket in bucket?.succeeded() }
        #expect(try StoreBudgetLedger(store: store).all().first { $0.key == key }?.bucket.consecutiveRateLimits == 0)
    }
}
