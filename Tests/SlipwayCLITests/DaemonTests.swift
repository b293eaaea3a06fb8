import Foundation
import GRDB
import Testing
import SlipwayCore
import SlipwayHTTP
import SlipwaySandbox
import SlipwayProviders

/// `slipway daemon` as a build host runs it.
@Suite("slipway daemon", .timeLimit(.minutes(3)))
struct DaemonTests {
    func sandbox(pushEvery: Double? = nil, repos: Int = 3) async throws -> SandboxServer {
        var options = SandboxOptions()
        options.seed = 71
        options.workspaces = 2
        options.reposPerWorkspace = repos
        options.branchesPerRepo = 4
        options.pushEverySeconds = pushEvery
        return try await SandboxServer.start(options: options)
    }

    func waitUntil(_ timeout: TimeInterval = 20, _ condition: () async throws -> Bool) async throws -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if try await condition() { return true }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return false
    }

    func heads(_ runner: BinaryRunner, _ path: String) async throws -> [String: String] {
        let listing = (try? JSONSerialization.jsonObject(with: Data(try await runner.runAsync(["ls", path, "--json"]).stdout.utf8)) as? [[String: Any]]) ?? []
        var heads: [String: String] = [:]
        for entry in listing { heads[entry["name"] as! String] = (entry["head"] as? [String: Any])?["hash"] as? String }
        return heads
    }

    @Test("the daemon mirrors, picks up pushes, answers sync --once through a command, and stops gracefully on SIGTERM")
    func lifecycle() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        let linked = try await runner.link(server)
        #expect(linked.status == 0)
        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }

        #expect(try await waitUntil { try await runner.runAsync(["status", "--json"]).stdout.contains(#""running":true"#) })
        let statusRun = try await runner.runAsync(["status", "--json"])
        #expect(statusRun.status == 0, "\(statusRun.stderr)")
        let status = try? JSONSerialization.jsonObject(with: Data(statusRun.stdout.utf8)) as? [String: Any]
        #expect(status?["pid"] as? Int == Int(daemon.processIdentifier))
        #expect(status?["host"] as? String == "daemon")

        // A push in the sandbox appears in another process's view of the store.
        let ws = server.service.workspaceSlugs()[0]
        let slug = server.service.repositorySlugs(workspace: ws)[0]
        var pushed: SandboxPush?
        while pushed == nil { pushed = server.service.push().first { $0.repository == "\(ws)/\(slug)" && $0.kind == .commit } }
        let seen = try await waitUntil(30) {
            try await heads(runner, "bitbucket/\(ws)/\(slug)") == server.service.branches(workspace: ws, repository: slug)
        }
        #expect(seen)

        // With the engine running, opening a branch asks it for the new commits (it alone writes
        // the mirror): one refresh command from this CLI, and the commits are listed.
        let branchName = try #require(server.service.branches(workspace: ws, repository: slug).keys.sorted().first)
        let opened = try await runner.runAsync(["ls", "bitbucket/\(ws)/\(slug)/\(branchName)", "--json"])
        #expect(opened.status == 0 && opened.stderr.isEmpty, "\(opened.stderr)")
        #expect(((try? JSONSerialization.jsonObject(with: Data(opened.stdout.utf8))) as? [[String: Any]])?.isEmpty == false)
        let asked = try Store(path: home.path + "/slipway.db").read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM commands WHERE kind = 'refresh' AND requested_by LIKE 'cli:%' AND status = 'done'")
        }
        #expect(asked == 1)

        // With the engine running, sync --once asks it for the cycle.
        let once = try await runner.runAsync(["sync", "--once", "--json"])
        #expect(once.status == 0, "\(once.stderr)")
        let report = try? JSONSerialization.jsonObject(with: Data(once.stdout.utf8)) as? [String: Any]
        #expect(report != nil, "stdout: \(once.stdout.prefix(300)) stderr: \(once.stderr)")
        #expect(report?["branches"] as? Int == server.service.summary.branches)

        daemon.terminate()   // SIGTERM
        #expect(try await waitUntil { !daemon.isRunning })
        #expect(daemon.terminationStatus == 0)
        #expect(try await runner.runAsync(["status", "--json"]).stdout.contains(#""running":false"#))
        let store = try Store(path: home.path + "/slipway.db")
        #expect(try store.integrityCheck() == "ok")
    }

    @Test("kill -9 at any moment leaves a sound database, and the next run converges")
    func killNine() async throws {
        let server = try await sandbox(repos: 30)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.link(server)
        for delay in [50_000, 150_000, 400_000] as [UInt32] {
            let daemon = try runner.startDaemon()
            usleep(delay)
            server.service.push(count: 5)
            kill(daemon.processIdentifier, SIGKILL)
            _ = try await waitUntil { !daemon.isRunning }
            let store = try Store(path: home.path + "/slipway.db")
            #expect(try store.integrityCheck() == "ok")
        }
        let sync = try await runner.runAsync(["sync", "--once"])
        #expect(sync.status == 0, "\(sync.stderr)")
        for ws in server.service.workspaceSlugs() {
            for slug in server.service.repositorySlugs(workspace: ws) {
                #expect(try await heads(runner, "bitbucket/\(ws)/\(slug)") == server.service.branches(workspace: ws, repository: slug))
            }
        }
    }
}

@Suite("apps and deployments through the daemon", .timeLimit(.minutes(3)))
struct AppDeployTests {
    @Test("apps create queues the head's deployment; the daemon's deployer runs it and reports the failing step with git's words")
    func createDeploys() async throws {
        let server = try await smallSandbox(seed: 72, workspaces: 1, repos: 2, branches: 2)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        let ws = try #require(server.service.workspaceSlugs().first)
        let repo = try #require(server.service.repositorySlugs(workspace: ws).first)
        let branch = try #require(server.service.branches(workspace: ws, repository: repo).keys.sorted().first)

        // No engine yet: the deployment waits, and says so.
        let created = try await runner.runAsync(["apps", "create", "web", "--source", "bitbucket/\(ws)/\(repo)", "--branch", branch,
                                                 "--build", "make", "--run", "./serve", "--env", "MODE=demo"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stderr.contains("its first deployment is queued; no engine runs for this home"))
        #expect(try await runner.runAsync(["cancel", "1"]).stderr.contains("no deployment 1"))

        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }

        // The daemon claims the queued request; the sandbox serves refs but not packs, so the
        // fetch fails — an honest ERROR naming the step, with git's message in the log.
        var row: [String: Any] = [:]
        for _ in 0..<150 {
            let listed = try await runner.runAsync(["deployments", "web", "--json"])
            row = ((try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]) ?? []).first ?? [:]
            if let phase = row["phase"] as? String, phase == "ERROR" || phase == "ACTIVE" { break }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        #expect(row["phase"] as? String == "ERROR")
        #expect(row["cause"] as? String == "app created")
        #expect((row["commit"] as? String)?.count == 40)
        let id = try #require(row["id"] as? Int)
        let logs = try await runner.runAsync(["logs", "\(id)"])
        #expect(logs.stdout.contains("deploying"), "\(logs.stdout)")
        #expect(logs.stdout.contains("step fetch failed: exit status"), "\(logs.stdout)")
        // The token never reached the log.
        #expect(!logs.stdout.contains(server.service.bitbucket.accessToken))
    }
}

@Suite("a push deploys through the daemon", .timeLimit(.minutes(3)))
struct PushDeployTests {
    @Test("apps create deploys the head; a real push in the sandbox is swept, deployed and ACTIVE with its log; a failing one is ERROR")
    func pushDeploys() async throws {
        let server = try await smallSandbox(seed: 73, workspaces: 1, repos: 1, branches: 2, demo: true)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        try runner.writeConfig("[engine]\napp_poll_seconds = 1\n")
        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }
        for _ in 0..<50 where !(try await runner.runAsync(["status", "--json"]).stdout.contains(#""running":true"#)) {
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        for (name, slug) in [("web", "hello-web"), ("api", "flaky-api")] {
            let created = try await runner.runAsync(["apps", "create", name, "--source", "bitbucket/demo/\(slug)", "--branch", "main", "--build", "make", "--run", "./run.sh"])
            #expect(created.status == 0, "\(created.stderr)")
        }
        let first = try await runner.newestDeployment(of: "web", count: 1, phase: "ACTIVE")
        #expect(first?["cause"] as? String == "app created")

        // Real commits in the sandbox: the engine sweeps them and the deployer deploys them.
        let webPush = try #require(await server.service.pushDemo("hello-web"))
        let apiPush = try #require(await server.service.pushDemo("flaky-api"))
        let pushed = try await runner.newestDeployment(of: "web", count: 2, phase: "ACTIVE")
        #expect(pushed?["commit"] as? String == webPush.new)
        #expect(pushed?["cause"] as? String == "commit \(webPush.new!.prefix(7)) pushed to main")
        let logs = try await runner.runAsync(["logs", "\((pushed?["id"] as? Int) ?? 0)"])
        #expect(logs.stdout.contains("hello-web v3 is up"), "\(logs.stdout)")
        let failed = try await runner.newestDeployment(of: "api", count: 2, phase: "ERROR")
        #expect(failed?["commit"] as? String == apiPush.new)
        let failedLogs = try await runner.runAsync(["logs", "\((failed?["id"] as? Int) ?? 0)"])
        #expect(failedLogs.stdout.contains("error: test suite failed on v3"))
        #expect(failedLogs.stdout.contains("step build failed: exit status 2"))
    }
}

@Suite("following a service's log", .timeLimit(.minutes(3)))
struct ServiceLogTests {
    @Test("logs --follow keeps printing a service's output after it is ACTIVE, and ends when the service is replaced")
    func followService() async throws {
        let server = try await smallSandbox(seed: 75, workspaces: 1, repos: 1, branches: 2, demo: true)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        try runner.writeConfig("[engine]\napp_poll_seconds = 1\n[webhooks]\nlisten = \"127.0.0.1:0\"\n")
        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }
        let loop = "i=0; while true; do echo \"tick $i\"; i=$((i+1)); sleep 0.2; done"
        let created = try await runner.runAsync(["apps", "create", "ticker", "--source", "bitbucket/demo/hello-web", "--branch", "main", "--run", loop, "--service"])
        #expect(created.status == 0, "\(created.stderr)")
        let active = try await runner.newestDeployment(of: "ticker", count: 1, phase: "ACTIVE")
        #expect(active?["phase"] as? String == "ACTIVE")
        let deployment = try #require(active?["id"] as? Int)

        // Started after ACTIVE: it must still see lines the service writes later.
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: BinaryRunner.binary)
        follower.arguments = ["logs", "\(deployment)", "--follow"]
        follower.environment = runner.environment
        let output = Pipe()
        follower.standardOutput = output
        follower.standardError = FileHandle.nullDevice
        try follower.run()
        // Read on a thread of its own until the pipe closes (no readability handler to tear down).
        let collected = LockedText()
        let reader = output.fileHandleForReading
        Thread {
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                collected.append(String(decoding: data, as: UTF8.self))
            }
        }.start()
        defer { if follower.isRunning { follower.terminate() } }
        let seenAtStart = try await runner.runAsync(["logs", "\(deployment)"]).stdout.components(separatedBy: "tick ").count - 1
        var later = false
        for _ in 0..<100 where !later {
            try await Task.sleep(nanoseconds: 100_000_000)
            later = collected.text.contains("tick \(seenAtStart + 5)")
        }
        #expect(later, "the follower stopped at ACTIVE:\n\(collected.text.suffix(300))")
        #expect(follower.isRunning)

        // A pushed commit deploys and replaces it: the old one is SUPERSEDED and the follower ends.
        #expect(await server.service.pushDemo("hello-web") != nil)
        var ended = false
        for _ in 0..<300 where !ended {
            try await Task.sleep(nanoseconds: 100_000_000)
            ended = !follower.isRunning
        }
        #expect(ended, "the follower kept running after the service was replaced")
    }
}

/// Text appended from a pipe's handler thread and read by the test.
final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    func append(_ more: String) { lock.withLock { value += more } }
    var text: String { lock.withLock { value } }
}

@Suite("webhook deliveries to the daemon", .timeLimit(.minutes(3)))
struct WebhookDeliveryTests {
    @Test("a signed repo:push shows the new head at once; a bad signature changes nothing; a repeat is ignored")
    func delivery() async throws {
        let server = try await smallSandbox(seed: 74, workspaces: 1, repos: 2, branches: 2)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        let ws = try #require(server.service.workspaceSlugs().first)
        let repo = try #require(server.service.repositorySlugs(workspace: ws).first)
        // A hook Slipway installed (the installer comes next): its secret sealed in the vault.
        let store = try Store(path: home.path + "/slipway.db")
        let repository = try #require(try store.repository(at: MirrorPath(provider: .bitbucket, workspace: ws, repository: repo)))
        try store.addWebhookSubscription(repositoryID: repository.id!, remoteID: "{hook}", url: "https://example.com/webhooks/bitbucket", events: ["repo:push"], secret: "s3cret-hook",
                                         vault: try Vault.open(keyFile: home.path + "/key", create: false), now: Date())
        // The engine polls rarely here: only the delivery can bring the new head this fast.
        try runner.writeConfig("[webhooks]\nlisten = \"127.0.0.1:0\"\n[providers.bitbucket]\ngit_requests_per_hour = 1\nrequests_per_hour = 1\n")
        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }
        let listener = try await runner.webhookListener()
        let address = try #require(listener)
        let push = try #require((0..<20).lazy.compactMap { _ in server.service.push(repository: "\(ws)/\(repo)") }.first { $0.kind == .commit })
        let body = Data("""
            {"push":{"changes":[{"old":{"type":"branch","name":"\(push.branch)","target":{"type":"commit","hash":"\(push.old ?? "")"}},
            "new":{"type":"branch","name":"\(push.branch)","target":{"type":"commit","hash":"\(push.new!)","date":"2026-11-29T12:00:00+00:00",
            "message":"Pushed through a webhook\\n","author":{"type":"author","raw":"Ada Lovelace <ada@example.com>"}}},
            "created":false,"closed":false,"forced":false,"truncated":false,"commits":[]}]},
            "repository":{"type":"repository","full_name":"\(ws)/\(repo)","uuid":"\(repository.remoteID ?? "")"},"actor":{"type":"user"}}
            """.utf8)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        func deliver(_ signature: String, request id: String) async throws -> Int {
            var request = HTTPRequest(method: .post, url: "http://\(address)/webhooks/bitbucket", body: body)
            request.headers.add("X-Event-Key", "repo:push")
            request.headers.add("X-Request-UUID", id)
            request.headers.add("X-Hub-Signature", signature)
            request.headers.add("Content-Type", "application/json")
            return try await transport.perform(request).status
        }
        var requestID = "bad-1"
        #expect(try await deliver(WebhookSignature.header(body: body, secret: "wrong"), request: requestID) == 401)
        func head() async throws -> String? {
            let listed = try await runner.runAsync(["ls", "bitbucket/\(ws)/\(repo)", "--json"])
            let rows = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]) ?? []
            return rows.first { $0["name"] as? String == push.branch }.flatMap { ($0["head"] as? [String: Any])?["hash"] as? String }
        }
        #expect(try await head() == push.old)
        requestID = "good-1"
        #expect(try await deliver(WebhookSignature.header(body: body, secret: "s3cret-hook"), request: requestID) == 200)
        #expect(try await head() == push.new)
        #expect(try await deliver(WebhookSignature.header(body: body, secret: "s3cret-hook"), request: requestID) == 200)
    }
}
