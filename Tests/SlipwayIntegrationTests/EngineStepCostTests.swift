import Foundation
import GRDB
import Testing
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwaySandbox
import SlipwayTestSupport

/// What a scheduler step costs the engine itself, against a host held in memory (no wire): the
/// due-time index hands it only the repositories whose turn has come, so a step's queries are
/// index searches and as many at 1,000 repositories as at 100.
@Suite("Engine step cost", .timeLimit(.minutes(3)))
struct EngineStepCostTests {
    final class Statements: @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [String] = []
        var recording = false
        func heard(_ sql: String) { lock.withLock { if recording { seen.append(sql) } } }
        func take() -> [String] { lock.withLock { defer { seen = [] }; return seen } }
    }

    struct Run {
        let store: Store
        let statements: [String]
        let steps: Int
        let lookups: Int
    }

    /// `repositories` in ten workspaces, mirrored, then stepped on a virtual clock: `warmup`
    /// seconds unrecorded, then `measured` steps recorded.
    func run(repositories: Int, warmup: Int = 400, measured: Int = 200) async throws -> Run {
        let home = AccountAndSyncTests.Home()
        let statements = Statements()
        let store = try Store(path: home.path + "/slipway.db", observeStatements: { statements.heard($0) })
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let clock = VirtualClock(start: start)
        let provider = MemoryGitProvider(kind: .bitbucket, workspaces: 10, repositories: repositories / 10, branches: 3)
        let account = try store.write { db -> Account in
            var account = Account(provider: .bitbucket, username: "memory", apiURL: "http://127.0.0.1:1/2.0", webURL: "http://127.0.0.1:1",
                                  auth: .token, createdAt: start)
            try account.insert(db)
            return account
        }
        _ = try await MirrorSync(store: store, account: account, provider: provider, now: { clock.now }).run()
        try store.recordSync(accountID: account.id!, success: true, error: nil, now: start)
        let engine = SyncEngine(store: store, clock: clock, requestClock: clock) { _ in provider }
        for _ in 0..<warmup {
            clock.advance(by: 1)
            await engine.step()
        }
        let before = provider.headLookups
        statements.recording = true
        for step in 0..<measured {
            clock.advance(by: 1)
            if step % 7 == 0 { provider.push(workspace: "bitbucket-ws-\(step % 10)", repository: "repo-\(step % (repositories / 10))") }
            await engine.step()
        }
        statements.recording = false
        return Run(store: store, statements: statements.take(), steps: measured, lookups: provider.headLookups - before)
    }

    @Test("at 1,000 repositories every statement of a step searches an index (none scans the mirror), and a step runs no more of them than at 100")
    func flatSteps() async throws {
        let small = try await run(repositories: 100)
        let large = try await run(repositories: 1000)
        // Both sweep at the git budget's pace (or the sweep interval's), so the work per step is alike.
        #expect(small.lookups > 0 && large.lookups > 0)
        let perStepSmall = Double(small.statements.count) / Double(small.steps)
        let perStepLarge = Double(large.statements.count) / Double(large.steps)
        let perLookSmall = Double(small.statements.count) / Double(small.lookups)
        let perLookLarge = Double(large.statements.count) / Double(large.lookups)
        #expect(perStepLarge <= perStepSmall * 1.5, "statements a step: \(perStepSmall) at 100, \(perStepLarge) at 1,000")
        #expect(perLookLarge <= perLookSmall * 1.5, "statements a look: \(perLookSmall) at 100, \(perLookLarge) at 1,000")
        // Tables that grow with the mirror are searched, never scanned nor sorted whole.
        let growing = ["repositories", "branches", "sweep_queue", "commits", "change_events", "webhook_subscriptions"]
        var scans: Set<String> = []
        for sql in Set(large.statements) where sql.uppercased().hasPrefix("SELECT") || sql.uppercased().hasPrefix("UPDATE") {
            let plan = try large.store.read { db in 
                // The plan does not depend on the values: each parameter is bound to NULL.
                let unbound = StatementArguments(Array(repeating: DatabaseValue.null, count: sql.filter { $0 == "?" }.count))
                return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: unbound).map { $0["detail"] as String }
            }
            let touchesMirror = growing.contains { sql.contains(" \($0)") }
            for detail in plan {
                if detail.hasPrefix("SCAN"), growing.contains(where: { detail.contains(" \($0)") || detail.hasSuffix($0) }) { scans.insert("\(detail) in \(sql)") }
                // Sorting in a temporary tree means every matching row was read first.
                if touchesMirror, detail.contains("TEMP B-TREE") { scans.insert("\(detail) in \(sql)") }
            }
        }
        #expect(scans.isEmpty, "\(scans.sorted())")
    }
}
