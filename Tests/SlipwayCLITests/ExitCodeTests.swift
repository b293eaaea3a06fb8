import Foundation
import Testing
import SlipwayCore
import SlipwayHTTP
import SlipwaySandbox
import GRDB

/// Issue 17: the truth in every exit code.
@Suite("Exit codes", .timeLimit(.minutes(3)))
struct ExitCodeTests {
    func control(_ server: SandboxServer, _ json: String) async throws {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let answer = try await transport.perform(HTTPRequest(method: .post, url: server.bitbucket.origin + "/_sandbox/control", body: Data(json.utf8)))
        #expect(answer.status == 200, "\(answer.text)")
    }

    @Test("sync --once exits 1 when a 503 storm lets nothing through, 0 once it clears (and 0 for a complete cycle with no changes)")
    func storm() async throws {
        let server = try await smallSandbox(seed: 171, repos: 2)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        #expect(try await runner.link(server).status == 0)
        try await control(server, #"{"faults":["503@/2.0/repositories/*"]}"#)
        let stormy = try await runner.runAsync(["sync", "--once"])
        #expect(stormy.status == 1, "\(stormy.stdout)\(stormy.stderr)")
        #expect(stormy.stderr.contains("the cycle did not complete"), "\(stormy.stderr)")
        try await control(server, #"{"faults":[]}"#)
        let clear = try await runner.runAsync(["sync", "--once"])
        #expect(clear.status == 0, "\(clear.stderr)")
        let unchanged = try await runner.runAsync(["sync", "--once"])
        #expect(unchanged.status == 0, "\(unchanged.stderr)")
        #expect(unchanged.stdout.contains(": 0 changes"), "\(unchanged.stdout)")
    }

    @Test("a refused token makes every sync --once exit 1, not only the first")
    func refusedEveryTime() async throws {
        let server = try await smallSandbox(seed: 172, repos: 1)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        #expect(try await runner.link(server).status == 0)
        try await control(server, #"{"faults":["401@/2.0/*"]}"#)
        for run in 1...2 {
            let refused = try await runner.runAsync(["sync", "--once"])
            #expect(refused.status == 1, "run \(run): \(refused.stderr)")
            #expect(refused.stderr.contains("slipway link bitbucket --relink"), "run \(run): \(refused.stderr)")
        }
    }

    @Test("a second daemon or foreground sync says in one line that an engine runs, and binds nothing")
    func secondEngine() async throws {
        let server = try await smallSandbox(seed: 173, repos: 1)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        #expect(try await runner.link(server).status == 0)
        try runner.writeConfig("[webhooks]\nlisten = \"127.0.0.1:0\"\n")
        let daemon = try runner.startDaemon()
        defer { daemon.terminate(); daemon.waitUntilExit() }
        #expect(try await runner.webhookListener() != nil)
        for command in [["daemon"], ["sync"]] {
            let second = try await runner.runAsync(command)
            #expect(second.status == 1, "\(command): \(second.stderr)")
            let lines = second.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("an engine already runs for this home"), "\(command): \(second.stderr)")
        }
    }

    @Test("accounts says rate_limited with paused_until and its budgets while a 429 pause lasts")
    func accountsDuringPause() async throws {
        let server = try await smallSandbox(seed: 174, repos: 2)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        #expect(try await runner.link(server).status == 0)
        try await control(server, #"{"faults":["429@/2.0/*"]}"#)
        let stopped = try await runner.runAsync(["sync", "--once", "--deadline", "2"])
        #expect(stopped.status == 3, "\(stopped.stderr)")
        let listed = try await runner.runAsync(["accounts", "--json"])
        let account = try #require((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first, "\(listed.stdout)")
        #expect(account["status"] as? String == "rate_limited", "\(account)")
        #expect(account["paused_until"] is String, "\(account)")
        let budgets = try #require(account["budgets"] as? [[String: Any]])
        #expect(budgets.contains { $0["kind"] as? String == "rest" && $0["window"] as? String == "hour" })
        let table = try await runner.runAsync(["accounts"])
        #expect(table.stdout.contains("rate_limited (resumes in"), "\(table.stdout)")
    }

    @Test("status's last sync is the engine's last sweep when that came after the last full cycle")
    func statusLastSweep() async throws {
        let server = try await smallSandbox(seed: 175, repos: 1)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        // What a daemon's sweep writes, an hour after the full cycle.
        let swept = Date().addingTimeInterval(3600)
        let store = try Store(path: home.path + "/slipway.db")
        try store.write { db in try db.execute(sql: "UPDATE repositories SET last_checked_at = ?", arguments: [swept]) }
        let status = try await runner.runAsync(["status", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any], "\(status.stdout)")
        let last = try #require((object["last_sync_at"] as? String).flatMap(JSONOutput.parseTimestamp))
        #expect(abs(last.timeIntervalSince(swept)) < 1, "\(object)")
        #expect(object["last_full_sync_at"] is String)
    }
}

@Suite("Binary runner", .timeLimit(.minutes(3)))
struct BinaryRunnerTests {
    @Test("a child that writes 256 KB to stderr before any stdout does not deadlock the runner")
    func chattyStderr() async throws {
        let runner = BinaryRunner(home: "/tmp")
        let script = FileManager.default.temporaryDirectory.path + "/chatty-\(UUID().uuidString).sh"
        try "#!/bin/sh\nhead -c 262144 /dev/zero | tr '\\0' e >&2\necho done\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        defer { try? FileManager.default.removeItem(atPath: script) }
        // Run by sh, not exec'd itself: a child another test forks while the script is being
        // written may hold it open for writing, and exec'ing it would then fail (ETXTBSY).
        let result = try runner.run(executable: "/bin/sh", [script])
        #expect(result.stdout == "done\n")
        #expect(result.stderr.count == 262_144)
    }
}

@Suite("Sandbox command", .timeLimit(.minutes(3)))
struct SandboxCommandTests {
    @Test("Ctrl-C stops `slipway sandbox --demo-repositories` and removes its temporary git folder")
    func interruptCleansUp() async throws {
        let scratch = TemporaryHome()
        try FileManager.default.createDirectory(atPath: scratch.path, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BinaryRunner.binary)
        process.arguments = ["sandbox", "--demo-repositories", "--port", "0"]
        var environment = BinaryRunner(home: scratch.path).environment
        environment["TMPDIR"] = scratch.path
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        final class Text: @unchecked Sendable { var value = ""; let lock = NSLock() }
        let text = Text()
        let reader = Thread {
            while true {
                let data = errors.fileHandleForReading.availableData
                if data.isEmpty { return }
                text.lock.withLock { text.value += String(decoding: data, as: UTF8.self) }
            }
        }
        reader.start()
        func gitFolders() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: scratch.path)) ?? []).filter { $0.hasPrefix("slipway-sandbox-git-") }
        }
        for _ in 0..<200 where !text.lock.withLock({ text.value.contains("Ctrl-C to stop") }) { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(text.lock.withLock { text.value }.contains("Ctrl-C to stop"))
        #expect(gitFolders().count == 4, "the demo's git folders (Bitbucket's, GitHub's, GitLab's and the public host's) should exist while it runs")
        kill(process.processIdentifier, SIGINT)
        for _ in 0..<200 where process.isRunning { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0, "\(text.lock.withLock { text.value })")
        #expect(gitFolders().isEmpty, "left behind: \(gitFolders())")
    }
}
