import Foundation
import Testing
import SlipwaySandbox
import SlipwayTestSupport
import SlipwayCore
import SlipwayTUI
import SlipwayServer
@testable import SlipwayCLI

/// Issue 18: the CLI as users of gh expect it — waiting on deployments with honest exit codes,
/// rollback, why a deployment failed, relinking in place, a read-only mode, confirmations,
/// completions, errors that say what to do, and the daemon's health.
@Suite("CLI polish", .timeLimit(.minutes(3)))
struct PolishTests {
    func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    /// A linked, mirrored home on a demo sandbox, with a daemon running.
    func demoHome(seed: UInt64) async throws -> (SandboxServer, TemporaryHome, BinaryRunner, Process) {
        let server = try await smallSandbox(seed: seed, repos: 1, demo: true)
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        try runner.writeConfig("[engine]\napp_poll_seconds = 1\n[webhooks]\nlisten = \"127.0.0.1:0\"\n")
        let daemon = try runner.startDaemon()
        #expect(try await runner.webhookListener() != nil, "the daemon did not start")
        return (server, home, runner, daemon)
    }

    @Test("deploy --wait and deployments watch follow to the end: 0 for ACTIVE, 1 otherwise; rollback redeploys the previous ACTIVE commit")
    func waitWatchRollback() async throws {
        let (server, home, runner, daemon) = try await demoHome(seed: 181)
        defer { withExtendedLifetime(home) {}; daemon.terminate(); daemon.waitUntilExit(); Task { await server.stop() } }
        let good = try await runner.runAsync(["apps", "create", "good", "--source", "bitbucket/demo/hello-web", "--branch", "main", "--run", "true"])
        #expect(good.status == 0, "\(good.stderr)")
        let bad = try await runner.runAsync(["apps", "create", "bad", "--source", "bitbucket/demo/hello-web", "--branch", "main", "--run", "exit 2",
                                             "--no-autodeploy"])
        #expect(bad.status == 0, "\(bad.stderr)")
        let first = try #require(try await runner.newestDeployment(of: "good", count: 1, phase: "ACTIVE"))
        #expect(try await runner.newestDeployment(of: "bad", count: 1, phase: "ERROR")?["phase"] as? String == "ERROR")

        let redeploy = try await runner.runAsync(["deploy", "good", "--wait"])
        #expect(redeploy.status == 0, "\(redeploy.stderr)")
        #expect(redeploy.stdout.contains("ACTIVE") && redeploy.stdout.contains("fetch") && redeploy.stdout.contains("succeeded in"), "\(redeploy.stdout)")
        #expect(redeploy.stderr.contains("is ACTIVE after"))
        let failing = try await runner.runAsync(["deploy", "bad", "--wait"])
        #expect(failing.status == 1)
        #expect(failing.stderr.contains("ended ERROR") && failing.stderr.contains("step run failed: exit status 2"), "\(failing.stderr)")

        // The first is SUPERSEDED by the redeploy now: watching it ends at once, 1; the redeploy is ACTIVE.
        let firstID = try #require(first["id"] as? Int)
        #expect(try await runner.runAsync(["deployments", "watch", "\(firstID)"]).status == 1)
        let goodID = try #require(try await runner.deployments(of: "good").first?["id"] as? Int)
        let badID = try #require(try await runner.deployments(of: "bad").first?["id"] as? Int)
        #expect(try await runner.runAsync(["deployments", "watch", "\(goodID)"]).status == 0)
        #expect(try await runner.runAsync(["deployments", "watch", "\(badID)"]).status == 1)

        // Only one ACTIVE commit so far: nothing to roll back to.
        let none = try await runner.runAsync(["rollback", "good"])
        #expect(none.status == 1 && none.stderr.contains("no earlier ACTIVE deployment"), "\(none.stderr)")
        // A push deploys a new commit; rollback goes back to the first.
        let push = try #require(await server.service.pushDemo("hello-web"))
        let newer = try await runner.newestDeployment(of: "good", count: 3, phase: "ACTIVE")
        #expect(newer?["commit"] as? String == push.new, "\(newer ?? [:])")
        let rollback = try await runner.runAsync(["rollback", "good", "--wait"])
        #expect(rollback.status == 0, "\(rollback.stderr)")
        let newest = try #require(try await runner.deployments(of: "good").first)
        #expect(newest["commit"] as? String == first["commit"] as? String)
        #expect((newest["cause"] as? String)?.hasPrefix("rollback to \((first["commit"] as? String ?? "").prefix(7))") == true, "\(newest)")
    }

    @Test("deployments say why one failed and how long each step took; apps show variables (secrets masked) and the timeout")
    func reasonsStepsAndVariables() async throws {
        let (server, home, runner, daemon) = try await demoHome(seed: 182)
        defer { withExtendedLifetime(home) {}; daemon.terminate(); daemon.waitUntilExit(); Task { await server.stop() } }
        let created = try await runner.runAsync(["apps", "create", "bad", "--source", "bitbucket/demo/hello-web", "--branch", "main",
                                                 "--run", "exit 3", "--env", "GREETING=hi", "--secret-env", "API_KEY=hush-hush", "--timeout", "90s"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try await runner.newestDeployment(of: "bad", count: 1, phase: "ERROR") != nil)
        let rows = try #require(json(try await runner.runAsync(["deployments", "bad", "--json"]).stdout) as? [[String: Any]])
        let row = try #require(rows.first)
        #expect(row["reason"] as? String == "step run failed: exit status 3")
        #expect(row["backend"] as? String == "local")
        let progress = try #require(row["progress"] as? [String: Any])
        let steps = try #require(progress["steps"] as? [[String: Any]])
        #expect(steps.map { $0["name"] as? String } == ["fetch", "checkout", "build", "run"].filter { name in steps.contains { $0["name"] as? String == name } })
        #expect(steps.first?["started_at"] is String && steps.first?["ended_at"] is String)
        #expect(progress["total"] as? Int == steps.count)
        let table = try await runner.runAsync(["deployments", "bad"]).stdout
        #expect(table.contains("step run failed: exit status 3") && table.contains("fetch ") && table.contains("run ") && table.contains("✗"), "\(table)")

        let apps = try #require(json(try await runner.runAsync(["apps", "--json"]).stdout) as? [[String: Any]])
        let variables = try #require(apps.first?["variables"] as? [[String: Any]])
        #expect(variables.contains { $0["name"] as? String == "GREETING" && $0["value"] as? String == "hi" && $0["secret"] as? Bool == false })
        #expect(variables.contains { $0["name"] as? String == "API_KEY" && $0["value"] as? String == "••••••" && $0["secret"] as? Bool == true })
        #expect(apps.first?["timeout_seconds"] as? Int == 90)
        // The contract's fields for a local app: its backend, one component, no remote id.
        let app = try #require(apps.first)
        #expect(app["backend"] as? String == "local" && app["source_state"] as? String == "ok" && app["phase"] as? String == "ERROR")
        #expect(app["remote_id"] is NSNull && app["region"] is NSNull && app["live_url"] is NSNull)
        let components = try #require(app["components"] as? [[String: Any]])
        #expect(components.count == 1 && components.first?["name"] as? String == "bad" && components.first?["source"] as? String == "bitbucket/demo/hello-web"
                && components.first?["branch"] as? String == "main")
        #expect(row["remote_id"] is NSNull)
        let listed = try await runner.runAsync(["apps"])
        #expect(listed.stdout.contains("API_KEY=••••••") && listed.stdout.contains("90 s") && listed.stdout.contains("ERROR"), "\(listed.stdout)")
        let listedJSON = try await runner.runAsync(["apps", "--json"]).stdout
        #expect(!listed.stdout.contains("hush-hush") && !listedJSON.contains("hush-hush"))
    }

    @Test("apps create installs the push webhook when the daemon can be reached; /healthz says the engine runs and the store takes writes")
    func webhookOnCreateAndHealth() async throws {
        let (server, home, runner, daemon) = try await demoHome(seed: 183)
        defer { withExtendedLifetime(home) {}; daemon.terminate(); daemon.waitUntilExit(); Task { await server.stop() } }
        let created = try await runner.runAsync(["apps", "create", "web", "--source", "bitbucket/demo/hello-web", "--branch", "main", "--run", "true"])
        #expect(created.status == 0)
        #expect(created.stderr.contains("installed a push webhook on bitbucket/demo/hello-web"), "\(created.stderr)")
        let listener = try #require(try await runner.webhookListener())
        let health = try runner.run(executable: "/usr/bin/curl", ["-s", "-w", "\n%{http_code}", "http://\(listener)/healthz"])
        #expect(health.stdout.hasSuffix("\n200"), "\(health.stdout)")
        let body = try #require(json(String(health.stdout.split(separator: "\n").dropLast().joined(separator: "\n"))) as? [String: Any])
        #expect(body["status"] as? String == "ok" && body["engine"] as? String == "running" && body["store"] as? String == "writable", "\(body)")
    }

    @Test("link --relink renews the same account in place (mirror kept, healthy again); another user or nothing linked is refused")
    func relink() async throws {
        let server = try await smallSandbox(seed: 184, repos: 2)
        let other = try await smallSandbox(seed: 185, repos: 1)
        defer { Task { await server.stop(); await other.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        let nothing = try await runner.runAsync(["link", "bitbucket", "--relink", "--token-file", "-"], stdin: server.service.bitbucket.accessToken + "\n")
        #expect(nothing.status == 1 && nothing.stderr.contains("nothing to relink"), "\(nothing.stderr)")
        try await runner.mirror(server)
        let before = try await runner.runAsync(["ls", "bitbucket", "--json"]).stdout
        let again = try await runner.runAsync(["link", "bitbucket", "--relink", "--token-file", "-"], stdin: server.service.bitbucket.accessToken + "\n")
        #expect(again.status == 0 && again.stderr.contains("relinked bitbucket as @sandbox-user; its mirror, apps and hooks are kept"), "\(again.stderr)")
        #expect(try await runner.runAsync(["ls", "bitbucket", "--json"]).stdout == before)
        let stranger = try await runner.runAsync(["link", "bitbucket", "--relink", "--api-url", other.bitbucket.apiURL, "--web-url", other.bitbucket.webURL, "--token-file", "-"],
                                                 stdin: other.service.bitbucket.accessToken + "\n")
        #expect(stranger.status == 1 && stranger.stderr.contains("--relink keeps the same account"), "\(stranger.stderr)")
        let accounts = try #require(json(try await runner.runAsync(["accounts", "--json"]).stdout) as? [[String: Any]])
        #expect(accounts.first?["api_url"] as? String == server.bitbucket.apiURL, "the refused relink changed the account")
        #expect(try await runner.runAsync(["link", "bitbucket", "--token-file", "-"], stdin: "x\n").stderr.contains("run 'slipway unlink bitbucket' first"))
    }

    @Test("read-only refuses every write in one line; destructive commands need --yes without a terminal")
    func readonlyAndConfirmations() async throws {
        let server = try await smallSandbox(seed: 186, repos: 1)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        let (ws, slug, branch) = try firstBranch(of: server)
        #expect(try await runner.runAsync(["apps", "create", "web", "--source", "bitbucket/\(ws)/\(slug)", "--branch", branch, "--run", "true",
                                           "--no-autodeploy"]).status == 0)

        let flagged = try await runner.runAsync(["deploy", "web", "--readonly"])
        #expect(flagged.status == 1 && flagged.stderr.contains("read-only"), "\(flagged.stderr)")
        try runner.writeConfig("[ui]\nreadonly = true\n")
        for command in [["apps", "delete", "web", "--yes"], ["unlink", "bitbucket", "--yes"], ["cancel", "1"], ["rollback", "web"],
                        ["webhooks", "install", "bitbucket/\(ws)/\(slug)"], ["link", "bitbucket", "--token-file", "-"]] {
            let refused = try await runner.runAsync(command, stdin: "")
            #expect(refused.status == 1 && refused.stderr.contains("read-only"), "\(command): \(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1)
        }
        #expect(try await runner.runAsync(["apps"]).status == 0, "reading still works")
        try runner.writeConfig("")

        let unconfirmed = try await runner.runAsync(["apps", "delete", "web"])
        #expect(unconfirmed.status == 1 && unconfirmed.stderr.contains("pass --yes"), "\(unconfirmed.stderr)")
        #expect(try await runner.runAsync(["apps"]).stdout.contains("web"))
        #expect(try await runner.runAsync(["unlink", "bitbucket"]).stderr.contains("pass --yes"))
        #expect(try await runner.runAsync(["apps", "delete", "web", "--yes"]).status == 0)
    }

    @Test("errors say what to do: a typo'd path names the nearest one, --api-url without /2.0 says so, config problems come all at once")
    func errorsThatHelp() async throws {
        let server = try await smallSandbox(seed: 187, repos: 2)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        let ws = try #require(server.service.workspaceSlugs().first)
        let slug = try #require(server.service.repositorySlugs(workspace: ws).first)
        let typo = try await runner.runAsync(["ls", "bitbucket/\(ws)/\(slug.dropLast())x"])
        #expect(typo.status == 1 && typo.stderr.contains("did you mean bitbucket/\(ws)/\(slug)?"), "\(typo.stderr)")
        let far = try await runner.runAsync(["ls", "bitbucket/\(ws)/zzzzzzzzzzzzzzzz"])
        #expect(far.stderr.contains("see 'slipway ls bitbucket/\(ws)'"), "\(far.stderr)")
        let wsTypo = try await runner.runAsync(["apps", "create", "x", "--source", "bitbucket/\(ws)x/\(slug)", "--branch", "main", "--run", "true"])
        #expect(wsTypo.stderr.contains("did you mean bitbucket/\(ws)/\(slug)?"), "\(wsTypo.stderr)")

        let noVersion = TemporaryHome()
        let bare = try await BinaryRunner(home: noVersion.path).runAsync(["link", "bitbucket", "--api-url", server.bitbucket.webURL, "--token-file", "-"], stdin: "x\n")
        #expect(bare.status != 0 && bare.stderr.contains("ends in /2.0") && bare.stderr.contains("did you mean \(server.bitbucket.webURL)/2.0?"), "\(bare.stderr)")
        let help = try await runner.runAsync(["link", "--help"])
        #expect(help.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ").contains("values: bitbucket, github, gitlab, digitalocean)"), "help offers only the providers that can be linked: \(help.stdout)")

        try runner.writeConfig("[engine]\nbudget_fraction = 3\n[deploy]\nmax_parallel = \"two\"\n")
        let broken = try await runner.runAsync(["accounts"])
        #expect(broken.status == 1)
        let lines = broken.stderr.split(separator: "\n")
        #expect(lines.count == 2 && broken.stderr.contains("deploy.max_parallel") && broken.stderr.contains("engine.budget_fraction"), "\(broken.stderr)")
    }

    @Test("doctor checks key remaps and themes, naming file and line")
    func doctorKeysAndThemes() async throws {
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try FileManager.default.createDirectory(atPath: home.path + "/themes", withIntermediateDirectories: true)
        try "name = \"broken\"\n[ui]\nselected = { fg = \"chartreuse\" }\n".write(toFile: home.path + "/themes/broken.toml", atomically: true, encoding: .utf8)
        try runner.writeConfig("[ui]\ntheme = \"broken\"\n[keys]\nquit = \"Q\"\nnope = \"n\"\n")
        let doctor = try await runner.runAsync(["doctor", "--json"])
        let checks = try #require((json(doctor.stdout) as? [String: Any])?["checks"] as? [[String: Any]])
        let keys = try #require(checks.first { $0["name"] as? String == "keys" })
        let theme = try #require(checks.first { $0["name"] as? String == "theme" })
        #expect(keys["status"] as? String == "warn" && (keys["detail"] as? String)?.contains("config.toml:5: unknown action 'nope'") == true, "\(keys)")
        #expect(theme["status"] as? String == "warn" && (theme["detail"] as? String)?.contains("broken.toml:3") == true, "\(theme)")
        try runner.writeConfig("")
        try FileManager.default.removeItem(atPath: home.path + "/themes/broken.toml")
        let healthy = try #require((json(try await runner.runAsync(["doctor", "--json"]).stdout) as? [String: Any])?["checks"] as? [[String: Any]])
        #expect(healthy.first { $0["name"] as? String == "keys" }?["status"] as? String == "ok")
        #expect(healthy.first { $0["name"] as? String == "theme" }?["status"] as? String == "ok")
    }

    @Test("shell completion offers app names, deployment ids and mirror paths from the store")
    func completions() async throws {
        let server = try await smallSandbox(seed: 188, repos: 2)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        let (ws, slug, branch) = try firstBranch(of: server)
        #expect(try await runner.runAsync(["apps", "create", "web", "--source", "bitbucket/\(ws)/\(slug)", "--branch", branch, "--run", "true"]).status == 0)
        // A deployment, as the engine would queue it.
        let store = try Store(path: home.path + "/slipway.db")
        _ = try store.enqueueDeployment(appID: 1, commit: String(repeating: "a", count: 40), cause: "test", now: Date())
        let words = ["slipway", "--home", home.path]
        #expect(Completions.apps(words, 0, "w") == ["web"])
        #expect(Completions.apps(words, 0, "x").isEmpty)
        #expect(Completions.deployments(words, 0, "") == ["1"])
        #expect(Completions.mirrorPaths(words, 0, "bit") == ["bitbucket"])
        #expect(Completions.mirrorPaths(words, 0, "bitbucket/").contains("bitbucket/\(ws)"))
        #expect(Completions.repositoryPaths(words, 0, "bitbucket/\(ws)/").contains("bitbucket/\(ws)/\(slug)"))
        #expect(Completions.repositoryPaths(words, 0, "bitbucket/\(ws)/\(slug)/").isEmpty, "--source stops at repositories")
        #expect(Completions.mirrorPaths(words, 0, "bitbucket/\(ws)/\(slug)/").contains("bitbucket/\(ws)/\(slug)/\(branch)"))
        // A home that does not exist is not created by completing.
        let missing = NSTemporaryDirectory() + "slipway-no-home-\(UUID().uuidString)"
        #expect(Completions.apps(["slipway", "--home", missing], 0, "").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: missing))
    }
}

@Suite("Daemon health")
struct EngineHealthTests {
    @Test("/healthz fails while the engine does not run, and passes while it does")
    func engineState() async throws {
        let home = TemporaryHome()
        try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
        let health = EngineHealth(store: try Store(path: home.path + "/slipway.db"))
        func body(_ report: HealthReport) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(report.json.utf8))) as? [String: Any] ?? [:]
        }
        let stopped = await health.health()
        #expect(!stopped.healthy && body(stopped)["engine"] as? String == "stopped" && body(stopped)["status"] as? String == "failing", "\(stopped.json)")
        health.engine(runningSince: Date())
        let running = await health.health()
        #expect(running.healthy && body(running)["store"] as? String == "writable", "\(running.json)")
    }
}

@Suite("Wording")
struct WordingTests {
    @Test("a receiver that cannot listen says why in words, never errno text")
    func bindFailures() {
        #expect(EngineRuntime.bindFailure("bind(descriptor:ptr:bytes:): Address already in use (errno: 98)").hasPrefix("something else listens there"))
        #expect(EngineRuntime.bindFailure("bind(descriptor:ptr:bytes:): Permission denied (errno: 13)").contains("above 1024"))
        #expect(EngineRuntime.bindFailure("bind(descriptor:ptr:bytes:): Cannot assign requested address (errno: 99)").contains("no such address"))
        #expect(EngineRuntime.bindFailure("bind(descriptor:ptr:bytes:): Network is down (errno: 100)") == "network is down")
    }

    @Test("times read as phrases: just now, 5m ago, never; durations are never 'now'")
    func times() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(Age.phrase(now, now: now) == "just now")
        #expect(Age.phrase(now.addingTimeInterval(-300), now: now) == "5m ago")
        #expect(Age.phrase(nil, now: now) == "never")
        #expect(Age.elapsed(0.4) == "0.4s" && Age.elapsed(0) == "0.0s" && Age.elapsed(125) == "2m05s")
        #expect(RelativeTime.text(now, now: now) == "just now")
    }
}
