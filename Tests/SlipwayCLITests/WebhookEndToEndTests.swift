import Foundation
import GRDB
import Testing
import SlipwayCore
import SlipwayHTTP
import SlipwaySandbox

/// Webhooks as a user runs them: the daemon and the sandbox up, `slipway webhooks install`, a
/// simulated push delivered (signed) by the sandbox, the new head on the dashboard's screen without
/// a poll; then removal, and `unlink` taking Slipway's hooks off the provider.
@Suite("Webhooks end to end", .serialized, .timeLimit(.minutes(3)))
struct WebhookEndToEndTests {
    func listing(_ runner: BinaryRunner, _ path: String) async throws -> [[String: Any]] {
        let result = try await runner.runAsync(["ls", path, "--json"])
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    func hooks(_ server: SandboxServer, _ fullName: String) -> [[String: Any]] {
        let reply = server.service.respond(method: "GET", url: server.bitbucket.apiURL + "/repositories/\(fullName)/hooks", headers: ["Authorization": "Bearer \(server.service.bitbucket.accessToken)"], body: Data())
        return ((try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any])?["values"] as? [[String: Any]] ?? []
    }

    @Test("the dashboard's embedded engine takes webhook deliveries too: a push arrives with no daemon and no poll")
    func embeddedReceiver() async throws {
        let server = try await smallSandbox(seed: 93, workspaces: 1, repos: 3, branches: 2)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        let ws = try #require(server.service.workspaceSlugs().first)
        let admin = try #require(try await listing(runner, "bitbucket/\(ws)").first { $0["is_admin"] as? Bool == true })
        let path = try #require(admin["path"] as? String)
        let slug = try #require(admin["repository"] as? String)
        // Budgets of one request an hour: only a delivery can bring the head.
        try runner.writeConfig("[webhooks]\nlisten = \"127.0.0.1:0\"\n[providers.bitbucket]\ngit_requests_per_hour = 1\nrequests_per_hour = 1\n")
        let tmux = try TmuxSession(width: 120, height: 40, environment: ["SLIPWAY_HOME": home.path, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": home.path])
        try tmux.type("\(BinaryRunner.binary); echo \"EXITED $?\"")
        let (ok, screen) = try await tmux.waitFor("engine: here")
        #expect(ok, "\(screen)")
        let address = try #require(try await runner.webhookListener(), "the dashboard's engine names its receiver in the lock")
        let installed = try await runner.runAsync(["webhooks", "install", path, "--url", "http://\(address)"])
        #expect(installed.status == 0, "\(installed.stderr)")
        var push: SandboxPush?
        for _ in 0..<40 where push == nil { push = server.service.push(repository: "\(ws)/\(slug)").flatMap { $0.kind == .commit ? $0 : nil } }
        let pushed = try #require(push)
        let store = try Store(path: home.path + "/slipway.db")
        let end = Date().addingTimeInterval(15)
        var head: String?
        while Date() < end {
            head = try store.read { db in
                try String.fetchOne(db, sql: """
                    SELECT b.head_hash FROM branches b JOIN repositories r ON r.id = b.repository_id WHERE r.slug = ? AND b.name = ?
                    """, arguments: [slug, pushed.branch])
            }
            if head == pushed.new { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(head == pushed.new, "the delivery to the dashboard's receiver moved the head")
        try tmux.press("q")
        #expect(try await tmux.waitFor("EXITED 0").0)
    }

    @Test("install → signed deliveries → new heads on the dashboard in under a second; remove; unlink removes Slipway's hooks")
    func endToEnd() async throws {
        let server = try await smallSandbox(seed: 91, workspaces: 1, repos: 4, branches: 3)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        let ws = try #require(server.service.workspaceSlugs().first)
        let repositories = try await listing(runner, "bitbucket/\(ws)")
        let admin = try #require(repositories.first { $0["is_admin"] as? Bool == true })
        let path = try #require(admin["path"] as? String)
        let slug = String(path.split(separator: "/").last!)
        let name = try #require(admin["display_name"] as? String)

        // Nothing to install on before the receiver's address is known? The sandbox is on loopback,
        // so the receiver's own address is used; but a repository the user cannot administer is refused first.
        if let readOnly = repositories.first(where: { $0["is_admin"] as? Bool != true })?["path"] as? String {
            let refused = try await runner.runAsync(["webhooks", "install", readOnly])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("not an admin of \(readOnly)"), "\(refused.stderr)")
        }

        // The engine may poll only rarely: the delivery is what brings the head.
        try runner.writeConfig("[webhooks]\nlisten = \"127.0.0.1:0\"\n[providers.bitbucket]\ngit_requests_per_hour = 1\nrequests_per_hour = 1\n")
        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }
        let address = try #require(try await runner.webhookListener())

        let installed = try await runner.runAsync(["webhooks", "install", path, "--url", "http://\(address)"])
        #expect(installed.status == 0, "\(installed.stderr)")
        #expect(installed.stderr.contains("installed a push webhook on \(path) → http://\(address)/webhooks/bitbucket"), "\(installed.stderr)")
        let again = try await runner.runAsync(["webhooks", "install", path, "--url", "http://\(address)"])
        #expect(again.status == 0)
        #expect(again.stderr.contains("already installed"), "\(again.stderr)")
        #expect(hooks(server, "\(ws)/\(slug)").count == 1)
        let fresh = try await runner.runAsync(["webhooks", "list", path, "--json"])
        #expect(((try JSONSerialization.jsonObject(with: Data(fresh.stdout.utf8)) as? [[String: Any]])?.first?["state"] as? String) == "waiting")

        // The dashboard, open at that repository's branches, hosted beside the daemon.
        let tmux = try TmuxSession(width: 120, height: 40, environment: ["SLIPWAY_HOME": home.path, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": home.path])
        try tmux.type("\(BinaryRunner.binary); echo \"EXITED $?\"")
        var (ok, screen) = try await tmux.waitFor("engine: daemon")
        #expect(ok, "\(screen)")
        try tmux.press("Enter")
        (ok, screen) = try await tmux.waitFor(name)
        #expect(ok, "\(screen)")
        try tmux.press("/")
        try tmux.typeWithoutEnter(name)
        try tmux.press("Enter", "Enter")
        (ok, screen) = try await tmux.waitFor("› \(ws) › \(slug)")
        #expect(ok, "\(screen)")

        // New commits on existing branches, delivered by the sandbox to the daemon: each shows on
        // the screen without a poll (the budgets above allow none). Three, so the median speaks.
        var timings: [Double] = []
        for _ in 0..<3 {
            var push: SandboxPush?
            var started = Date()
            for _ in 0..<40 where push == nil {
                started = Date()
                let attempt = server.service.push(repository: "\(ws)/\(slug)")
                if attempt?.kind == .commit { push = attempt }
                await server.service.webhooks.drain()
            }
            let pushed = try #require(push)
            (ok, screen) = try await tmux.waitFor(10) { $0.contains(String(pushed.new!.prefix(7))) }
            #expect(ok, "the pushed head never showed:\n\(screen)")
            timings.append(Date().timeIntervalSince(started))
        }
        print("pushes visible on the dashboard after \(timings.map { "\(Int($0 * 1000)) ms" }.joined(separator: ", "))")
        #expect(timings.sorted()[1] < 1, "the median push took \(timings.sorted()[1]) s to show")
        #expect(server.service.webhooks.statistics.failed == 0)
        try tmux.press("q")
        (ok, screen) = try await tmux.waitFor("EXITED 0")
        #expect(ok, "\(screen)")

        // Its health: delivered, not failing.
        let listed = try await runner.runAsync(["webhooks", "list", path, "--json"])
        let rows = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]) ?? []
        #expect(rows.count == 1)
        #expect(rows.first?["healthy"] as? Bool == true)
        #expect(rows.first?["state"] as? String == "delivering")
        #expect(rows.first?["last_delivery_at"] is String)

        var doctor = try await runner.runAsync(["doctor", "--json"])
        var check = ((try? JSONSerialization.jsonObject(with: Data(doctor.stdout.utf8)) as? [String: Any])?["checks"] as? [[String: Any]])?
            .first { $0["name"] as? String == "webhooks" }
        #expect(check?["status"] as? String == "ok")
        #expect((check?["detail"] as? String)?.contains("1 installed, none failing; receiver on \(address)") == true, "\(doctor.stdout)")

        // A forged delivery is refused and changes nothing, not even the hook's health: anyone
        // could send one, and it must not push the repository back to polling.
        let transport = CurlTransport()
        defer { transport.shutdown() }
        var forged = HTTPRequest(method: .post, url: "http://\(address)/webhooks/bitbucket",
                                 body: Data(#"{"push":{"changes":[]},"repository":{"full_name":"\#(ws)/\#(slug)"}}"#.utf8))
        forged.headers.add("X-Event-Key", "repo:push")
        forged.headers.add("X-Hub-Signature", "sha256=" + String(repeating: "0", count: 64))
        #expect(try await transport.perform(forged).status == 401)

        doctor = try await runner.runAsync(["doctor", "--json"])
        check = ((try? JSONSerialization.jsonObject(with: Data(doctor.stdout.utf8)) as? [String: Any])?["checks"] as? [[String: Any]])?
            .first { $0["name"] as? String == "webhooks" }
        #expect(check?["status"] as? String == "ok")
        #expect((check?["detail"] as? String)?.contains("1 installed, none failing") == true, "\(doctor.stdout)")

        let removed = try await runner.runAsync(["webhooks", "remove", path, "--yes"])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(hooks(server, "\(ws)/\(slug)").isEmpty)

        // unlink takes installed hooks off the provider (unless --keep-webhooks).
        daemon.terminate()
        daemon.waitUntilExit()
        #expect(try await runner.runAsync(["webhooks", "install", path, "--url", "http://127.0.0.1:9"]).status == 0)
        #expect(hooks(server, "\(ws)/\(slug)").count == 1)
        let unlinked = try await runner.runAsync(["unlink", "bitbucket", "--yes"])
        #expect(unlinked.status == 0, "\(unlinked.stderr)")
        #expect(unlinked.stderr.contains("removed the webhook on \(path)"), "\(unlinked.stderr)")
        #expect(hooks(server, "\(ws)/\(slug)").isEmpty)
    }

    @Test("unlink --keep-webhooks leaves them; without a reachable provider unlink stops and says how to go on")
    func keepWebhooks() async throws {
        let server = try await smallSandbox(seed: 92, workspaces: 1, repos: 1, branches: 2)
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        let ws = try #require(server.service.workspaceSlugs().first)
        let slug = try #require(server.service.repositorySlugs(workspace: ws).first)
        let path = "bitbucket/\(ws)/\(slug)"
        let install = try await runner.runAsync(["webhooks", "install", path])   // loopback provider: the receiver's own address
        #expect(install.status == 0, "\(install.stderr)")
        #expect(install.stderr.contains("http://127.0.0.1:8787/webhooks/bitbucket"), "\(install.stderr)")
        #expect(hooks(server, "\(ws)/\(slug)").count == 1)

        // No daemon runs: doctor says the hook's deliveries have nowhere to go.
        let doctor = try await runner.runAsync(["doctor"])
        #expect(doctor.stdout.contains("1 installed, but no receiver is listening"), "\(doctor.stdout)")
        #expect(doctor.stdout.contains("slipway daemon"))

        await server.stop()
        let stuck = try await runner.runAsync(["unlink", "bitbucket", "--yes"])
        #expect(stuck.status == 1)
        #expect(stuck.stderr.contains("--keep-webhooks"), "\(stuck.stderr)")
        #expect(try await runner.runAsync(["accounts", "--json"]).stdout.contains("bitbucket"))

        let kept = try await runner.runAsync(["unlink", "bitbucket", "--keep-webhooks", "--yes"])
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(hooks(server, "\(ws)/\(slug)").count == 1)
    }
}
