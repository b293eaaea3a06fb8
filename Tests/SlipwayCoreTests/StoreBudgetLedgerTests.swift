import Foundation
import Testing
@testable import SlipwayCore
import SlipwayHTTP

@Suite("Budgets in the store")
struct StoreBudgetLedgerTests {
    let tmp = TemporaryDirectory()
    let key = BudgetKey(host: "api.bitbucket.org", credential: "account:1", kind: .rest)
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("two processes' connections spend from one bucket")
    func sharedBucket() async throws {
        // Two Store instances on one file stand for two processes.
        let daemon = StoreBudgetLedger(store: try Store(path: tmp.file("slipway.db")))
        let cli = StoreBudgetLedger(store: try Store(path: tmp.file("slipway.db")))
        let now = t0
        let key = self.key
        @Sendable func take(_ ledger: StoreBudgetLedger) async throws -> Bool {
            try await ledger.update(key) { bucket in
                var b = bucket ?? TokenBucket(hourlyAllowance: 10, fraction: 0.8, now: now)
                defer { bucket = b }
                return b.take(now: now) == nil
            }
        }
        var granted = 0
        for i in 0..<12 where try await take(i.isMultiple(of: 2) ? daemon : cli) { granted += 1 }
        #expect(granted == 8)
        let stored = try #require(try cli.all().first)
        #expect(stored.key == key)
        #expect(stored.bucket.tokens < 1)
    }

    @Test("a pause written by one process is seen by the other, with the header state")
    func pauseVisible() async throws {
        let a = StoreBudgetLedger(store: try Store(path: tmp.file("slipway.db")))
        let b = StoreBudgetLedger(store: try Store(path: tmp.file("slipway.db")))
        let now = t0
        try await a.update(key) { bucket in
            var x = TokenBucket(hourlyAllowance: 1000, fraction: 0.8, now: now)
            x.apply(RateLimitHeaders(limit: 1000, remaining: 500), fraction: 0.8, now: now)
            x.rateLimited(pause: 120, now: now)
            bucket = x
        }
        let seen = try await b.update(key) { bucket in bucket }
        #expect(seen?.pausedUntil == t0.addingTimeInterval(120))
        #expect(seen?.headerLimit == 1000)
        #expect(seen?.consecutiveRateLimits == 1)
    }
}
