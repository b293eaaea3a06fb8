import Foundation
import GRDB
import Testing
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwaySandbox
import SlipwayTestSupport

/// The engine stepped by hand on a virtual clock, against the sandbox over loopback.
@Suite("Sync engine", .timeLimit(.minutes(3)))
struct EngineTests {
    struct Rig {
        let server: SandboxServer
        let store: Store
        let engine: SyncEngine
        let clock: VirtualClock
        let account: Account
        let home: AccountAndSyncTests.Home

        /// Every branch of every repository as the sandbox has it.
        func converged() throws -> Bool {
            for ws in server.service.workspaceSlugs() {
                for slug in server.service.repositorySlugs(workspace: ws) {
                    guard let repo = try store.repository(at: MirrorPath(provider: .bitbucket, workspace: ws, repository: slug)) else { return false }
                    let stored = Dictionary(uniqueKeysWithValues: try store.branches(repositoryID: repo.id!).map { ($0.name, $0.headHash) })
                    if stored != server.service.branches(workspace: ws, repository: slug) { return false }
                }
            }
            return true
        }

        func stats() async throws -> [String: Any] {
            let transport = CurlTransport()
            defer { transport.shutdown() }
            let response = try await transport.perform(HTTPRequest(url: server.bitbucket.origin + "/_sandbox/stats"))
            return try JSONSerialization.jsonObject(with: response.body) as? [String: Any] ?? [:]
        }
    }

    func rig(transfer: TransferOptions = TransferOptions(), attempts: Int = 5, settings: SyncEngine.Settings = SyncEngine.Settings(),
             _ configure: (inout SandboxOptions) -> Void = { _ in }) async throws -> Rig {
        var options = SandboxOptions()
        options.seed = 61
        options.workspaces = 2
        options.reposPerWorkspace = 3
        options.branchesPerRepo = 4
        configure(&options)
        let server = try await SandboxServer.start(options: options)
        let home = AccountAndSyncTests.Home()
        let store = try Store(path: home.path + "/slipway.db")
        var configuration = HTTPClient.Configuration()
        configuration.backoff = Backoff(base: 0.01, cap: 0.05, maxAttempts: attempts)
        let http = HTTPClient(transport: CurlTransport(options: transfer), ledger: StoreBudgetLedger(store: store), configuration: configuration)
        let (account, provider) = try await linked(server, store: store, home: home, http: http)
        let clock = VirtualClock(start: Date())
        let engine = SyncEngine(store: store, settings: settings, clock: clock) { _ in provider }
        return Rig(server: server, store: store, engine: engine, clock: clock, account: account, home: home)
    }

    @Test("first step mirrors everything; pushes are then found through git refs, with REST only for the moved heads")
    func sweepFindsPushes() async throws {
        let r = try await rig()
        defer { let server = r.server; Task { await server.stop() } }
        await r.engine.step()
        #expect(try r.converged())
        let before = try await r.stats()["requests_by_kind"] as? [String: Int] ?? [:]
        // Pushes that do not bump updated_on: only the sweep can see them.
        var moved = 0
        while moved < 2 { moved += r.server.service.push().filter { $0.kind == .commit }.count }
        r.clock.advance(by: 600)
        await r.engine.step()
        #expect(try r.converged())
        let after = try await r.stats()["requests_by_kind"] as? [String: Int] ?? [:]
        let git = (after["git"] ?? 0) - (before["git"] ?? 0)
        #expect(git == 6)   // one refs advertisement per repository
        let rest = (after["rest"] ?? 0) - (before["rest"] ?? 0)
        #expect(rest <= 2 + 2 + 2)   // discovery pages, plus details for the moved heads
        let events = try r.store.read { db in try ChangeEvent.filter(sql: "kind = 'head_moved'").fetchCount(db) }
        #expect(events >= 1)
    }

    @Test("a repository whose heads moved lately comes round sooner than the quiet ones, out of a share of the git budget of its own")
    func activeRepositoriesFirst() async throws {
        // A git budget small enough that the sweep's pace is the budget's: 6 repositories at
        // 0.75 × 0.8 × 60 an hour come round every 10 minutes.
        var settings = SyncEngine.Settings()
        settings.gitRequestsPerHour = 60
        let r = try await rig(settings: settings) { $0.bumpUpdatedOn = false }
        defer { let server = r.server; Task { await server.stop() } }
        let engine = r.engine
        await engine.step()
        let ws = try #require(r.server.service.workspaceSlugs().first)
        let active = "\(ws)/\(try #require(r.server.service.repositorySlugs(workspace: ws).first))"
        func pushCommit() throws -> SandboxPush {
            var push: SandboxPush?
            for _ in 0..<40 where push == nil { push = r.server.service.push(repository: active).flatMap { $0.kind == .commit ? $0 : nil } }
            return try #require(push)
        }
        func gitRequests() async throws -> Int { (try await r.stats()["requests_by_kind"] as? [String: Int])?["git"] ?? 0 }
        func storedHead(_ push: SandboxPush) throws -> String? {
            let parts = push.repository.split(separator: "/")
            let repository = try #require(try r.store.repository(at: MirrorPath(provider: .bitbucket, workspace: String(parts[0]), repository: String(parts[1]))))
            return try r.store.branch(repositoryID: repository.id!, name: push.branch)?.headHash
        }
        // Past ten minutes on, every repository is due; the sweep finds the push and marks its repository active.
        let first = try pushCommit()
        r.clock.advance(by: 700)
        await engine.step()
        #expect(try storedHead(first) == first.new)
        // Now the active one has a quarter of the budget to itself (every 300 s), the five quiet
        // ones 0.7 of it (every 536 s): 400 s on, only the active one is looked at.
        let second = try pushCommit()
        let before = try await gitRequests()
        r.clock.advance(by: 400)
        await engine.step()
        #expect(try await gitRequests() - before == 1)
        #expect(try storedHead(second) == second.new)
    }

    @Test("commands from other processes are claimed, run and answered")
    func commands() async throws {
        let r = try await rig()
        defer { let server = r.server; Task { await server.stop() } }
        await r.engine.step()
        let ws = r.server.service.workspaceSlugs()[0]
        let slug = r.server.service.repositorySlugs(workspace: ws)[0]
        r.server.service.push(count: 5)
        let refresh = try r.store.enqueue(RefreshPayload(path: "bitbucket/\(ws)/\(slug)"), requestedBy: "test", now: Date())
        let cycle = try r.store.enqueue(SyncCyclePayload(), requestedBy: "test", now: Date())
        await r.engine.step()
        #expect(try r.store.command(id: refresh)?.status == .done)
        let done = try #require(try r.store.command(id: cycle))
        #expect(done.status == .done)
        let report = try JSONSerialization.jsonObject(with: Data((done.result ?? "").utf8)) as? [String: Any]
        #expect(report?["branches"] as? Int == r.server.service.summary.branches)
        #expect(try r.converged())
        let bad = try r.store.enqueue(RefreshPayload(path: "bitbucket/nowhere/x"), requestedBy: "test", now: Date())
        await r.engine.step()
        #expect(try r.store.command(id: bad)?.status == .failed)
    }

    @Test("where git refuses, the sweep falls back to REST and still converges")
    func gitRefused() async throws {
        let r = try await rig { $0.faults = ["403@/git/*"] }
        defer { let server = r.server; Task { await server.stop() } }
        await r.engine.step()
        r.server.service.push(count: 8)
        r.clock.advance(by: 600)
        await r.engine.step()
        #expect(try r.converged())
    }

    @Test("503 bursts, resets, truncated and malformed bodies: the engine keeps going and converges once they clear")
    func faults() async throws {
        let r = try await rig { $0.faults = ["503x4", "reset/9", "truncate/11", "malformed/13@/2.0/repositories/*"] }
        defer { let server = r.server; Task { await server.stop() } }
        for _ in 0..<3 {
            await r.engine.step()
            r.server.service.push(count: 3)
            r.clock.advance(by: 600)
        }
        // Clear the faults; the next steps converge with nothing lost.
        let transport = CurlTransport()
        defer { transport.shutdown() }
        _ = try await transport.perform(HTTPRequest(method: .post, url: r.server.bitbucket.origin + "/_sandbox/control", body: Data(#"{"faults":[]}"#.utf8)))
        for _ in 0..<2 {
            await r.engine.step()
            r.clock.advance(by: 600)
        }
        #expect(try r.converged())
        #expect(try r.store.integrityCheck() == "ok")
    }

    @Test("a head that moved while its details failed stays due for them: they arrive after the storm")
    func detailsAfterStorm() async throws {
        let r = try await rig()
        defer { let server = r.server; Task { await server.stop() } }
        for _ in 0..<3 where !(try r.converged()) {
            await r.engine.step()
            r.clock.advance(by: 600)
        }
        func undetailed() throws -> Int {
            try r.store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM branches WHERE head_date IS NULL AND head_message IS NULL") } ?? -1
        }
        #expect(try r.converged() && undetailed() == 0)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        _ = try await transport.perform(HTTPRequest(method: .post, url: r.server.bitbucket.origin + "/_sandbox/control",
                                                    body: Data(#"{"faults":["503@/2.0/repositories/*/commit/*"]}"#.utf8)))
        r.server.service.push(count: 2)
        for _ in 0..<3 where !(try r.converged()) {
            r.clock.advance(by: 600)
            await r.engine.step()
        }
        #expect(try r.converged())
        #expect(try undetailed() > 0, "the storm should have left heads without details")
        _ = try await transport.perform(HTTPRequest(method: .post, url: r.server.bitbucket.origin + "/_sandbox/control", body: Data(#"{"faults":[]}"#.utf8)))
        for _ in 0..<3 where try undetailed() > 0 {
            r.clock.advance(by: 600)
            await r.engine.step()
        }
        #expect(try undetailed() == 0, "heads kept empty details after the storm")
    }

    @Test("timeouts: a stalled git endpoint is cut off, recorded, the other repositories go on, and all converge once it answers")
    func timeouts() async throws {
        var transfer = TransferOptions()
        // Long enough that a loaded test machine does not cut healthy requests, short enough
        // to cut the stalled ones (they stall for 10 s).
        transfer.lowSpeedTime = 3
        // Two attempts per request and eight stalled refs advertisements: the first four
        // repositories swept at once (concurrency 4) time out twice; the other two answer.
        let r = try await rig(transfer: transfer, attempts: 2)
        defer { let server = r.server; Task { await server.stop() } }
        for _ in 0..<5 where !(try r.converged()) {
            await r.engine.step()
            r.clock.advance(by: 600)
        }
        #expect(try r.converged())
        let transport = CurlTransport()
        defer { transport.shutdown() }
        _ = try await transport.perform(HTTPRequest(method: .post, url: r.server.bitbucket.origin + "/_sandbox/control",
                                                    body: Data(#"{"faults":["delay:10x8@/git/*"]}"#.utf8)))
        r.clock.advance(by: 600)
        await r.engine.step()
        let recorded = try r.store.read { db in
            try String.fetchOne(db, sql: "SELECT last_error FROM sync_states WHERE scope = 'engine'")
        }
        #expect(recorded?.contains("timed out") == true || recorded?.contains("timeout") == true, "\(recorded ?? "nothing recorded")")
        // Repositories that answered were swept in the same step.
        let stepTime = r.clock.now
        let checked = try r.store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM repositories WHERE last_checked_at >= ?", arguments: [stepTime]) }
        #expect((checked ?? 0) >= 1)
        r.server.service.push(count: 4)
        for _ in 0..<3 {
            r.clock.advance(by: 600)
            await r.engine.step()
        }
        #expect(try r.converged())
        #expect(try r.store.integrityCheck() == "ok")
    }

    func control(_ r: Rig, _ json: String) async throws {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        _ = try await transport.perform(HTTPRequest(method: .post, url: r.server.bitbucket.origin + "/_sandbox/control", body: Data(json.utf8)))
    }

    func accessLostEvents(_ r: Rig) throws -> [String] {
        try r.store.read { db in try ChangeEvent.filter(sql: "kind = 'access_lost'").fetchAll(db) }.map(\.path)
    }

    @Test("losing access to a workspace removes it as access_lost, once a second look confirms the 403")
    func accessLost() async throws {
        let r = try await rig()
        defer { let server = r.server; Task { await server.stop() } }
        await r.engine.step()
        let lost = r.server.service.workspaceSlugs()[1]
        try await control(r, #"{"faults":["403@/2.0/repositories/\#(lost)"]}"#)
        r.clock.advance(by: 600)
        await r.engine.step()
        #expect(try r.store.workspace(accountID: r.account.id!, slug: lost) != nil, "one 403 removed the workspace")
        #expect(try accessLostEvents(r).isEmpty)
        r.clock.advance(by: 600)
        await r.engine.step()
        #expect(try r.store.workspace(accountID: r.account.id!, slug: lost) == nil)
        #expect(try accessLostEvents(r) == ["bitbucket/\(lost)"])
    }

    @Test("403s shaped like a rate limit, on discovery and on git, pause the credential and remove nothing; git stays in use")
    func rateLimitShapedForbidden() async throws {
        let r = try await rig { $0.retryAfterSeconds = 1 }
        defer { let server = r.server; Task { await server.stop() } }
        await r.engine.step()
        #expect(try r.converged())
        let ws = r.server.service.workspaceSlugs()[1]
        let limitedBefore = try await r.stats()["rate_limited"] as? Int ?? 0
        try await control(r, #"{"faults":["403-rate-limit@/2.0/repositories/\#(ws)*", "403-rate-limit@/git/*"]}"#)
        r.server.service.push(count: 4)
        r.clock.advance(by: 600)
        await r.engine.step()
        #expect(try await r.stats()["rate_limited"] as? Int ?? 0 > limitedBefore, "the faults did not fire")
        #expect(try r.store.workspace(accountID: r.account.id!, slug: ws) != nil, "a rate limit removed a workspace")
        #expect(try accessLostEvents(r).isEmpty)
        let repositories = try r.store.sweepCandidates(accountID: r.account.id!).count
        #expect(repositories == 6, "a rate limit removed repositories")

        // Once the limit passes, git is used again (a rate limit is not refused access) and all converges.
        try await control(r, #"{"faults":[]}"#)
        #expect(await eventually { (try? StoreBudgetLedger(store: r.store).all().allSatisfy { ($0.bucket.pausedUntil ?? .distantPast) <= Date() }) ?? false })
        let gitBefore = (try await r.stats()["requests_by_kind"] as? [String: Int] ?? [:])["git"] ?? 0
        r.clock.advance(by: 600)
        await r.engine.step()
        let gitAfter = (try await r.stats()["requests_by_kind"] as? [String: Int] ?? [:])["git"] ?? 0
        #expect(gitAfter - gitBefore == 6, "git was abandoned after a rate limit: \(gitAfter - gitBefore) refs requests")
        #expect(try r.converged())
    }
}

extension EngineTests {
    @Test("a 429 storm pauses the credential: nothing more is sent during the pause, and the engine keeps stepping")
    func storm() async throws {
        let r = try await rig()
        defer { let server = r.server; Task { await server.stop() } }
        await r.engine.step()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        _ = try await transport.perform(HTTPRequest(method: .post, url: r.server.bitbucket.origin + "/_sandbox/control",
                                                    body: Data(#"{"faults":["429x100@/2.0/*", "429x100@/git/*"]}"#.utf8)))
        let before = try await r.stats()["rate_limited"] as? Int ?? 0
        for _ in 0..<4 {
            r.server.service.push(count: 2)
            r.clock.advance(by: 600)
            await r.engine.step()
        }
        let after = try await r.stats()["rate_limited"] as? Int ?? 0
        // One 429 per budget (REST and git) starts the pause; nothing is sent while it lasts.
        #expect(after - before <= 2)
        let paused = try StoreBudgetLedger(store: r.store).all().filter { $0.bucket.pausedUntil.map { $0 > Date() } ?? false }
        #expect(!paused.isEmpty)
        #expect(try r.store.integrityCheck() == "ok")
    }
}
