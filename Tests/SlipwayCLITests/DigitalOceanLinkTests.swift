import Foundation
import Testing
import SlipwaySandbox

/// Linking App Platform's account through the binary against the sandbox: a deploy target beside
/// the Git hosts, kept out of the mirror's listings and sync.
@Suite("DigitalOcean linking", .serialized, .timeLimit(.minutes(2)))
struct DigitalOceanLinkTests {
    func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    /// A sandbox with Bitbucket and App Platform, and a home linked to both with Bitbucket mirrored.
    func linkedToBoth(faults: [String] = [], clock: PausableNow = PausableNow()) async throws -> (SandboxServer, BinaryRunner) {
        var options = SandboxOptions()
        options.faults = faults
        options.personalities = [.bitbucket, .digitalocean]
        options.workspaces = 2
        options.reposPerWorkspace = 3
        options.largeRepositories = false
        options.appPlatformPhaseSeconds = 0.4
        let server = try await SandboxServer.start(options: options, now: { clock.now })
        let runner = BinaryRunner(home: TemporaryHome().path)
        let bitbucket = try await runner.runAsync(["link", "bitbucket", "--api-url", server.bitbucket.apiURL, "--web-url", server.bitbucket.webURL,
                                                   "--token-file", "-"], stdin: server.service.bitbucket.accessToken + "\n")
        #expect(bitbucket.status == 0, "\(bitbucket.stderr)")
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        let linked = try await runner.runAsync(["link", "digitalocean", "--api-url", server.digitalocean.apiURL, "--web-url", server.digitalocean.webURL,
                                                "--token-file", "-"], stdin: server.service.digitalocean.token + "\n")
        #expect(linked.status == 0, "\(linked.stderr)")
        return (server, runner)
    }

    @Test("link digitalocean by token: accounts shows a deploy account with its e-mail and team; ls and sync leave it alone; one account only")
    func link() async throws {
        var options = SandboxOptions()
        options.personalities = [.digitalocean]
        let server = try await SandboxServer.start(options: options)
        defer { Task { await server.stop() } }
        let runner = BinaryRunner(home: TemporaryHome().path)
        let arguments = ["link", "digitalocean", "--api-url", server.digitalocean.apiURL, "--web-url", server.digitalocean.webURL, "--token-file", "-"]
        let linked = try await runner.runAsync(arguments, stdin: server.service.digitalocean.token + "\n")
        #expect(linked.status == 0 && linked.stderr.contains("linked digitalocean as sandbox@example.com (Sandbox Team) to deploy on"), "\(linked.stderr)")
        let account = try #require((json(try await runner.runAsync(["accounts", "--json"]).stdout) as? [[String: Any]])?.first)
        #expect(account["provider"] as? String == "digitalocean" && account["kind"] as? String == "deploy" && account["auth"] as? String == "token")
        #expect(account["email"] as? String == "sandbox@example.com" && account["display_name"] as? String == "Sandbox Team")
        #expect((json(try await runner.runAsync(["ls", "--json"]).stdout) as? [[String: Any]])?.isEmpty == true)
        let sync = try await runner.runAsync(["sync", "--once"])
        #expect(sync.status == 1 && sync.stderr.contains("no Git host is linked, only a deploy target"), "\(sync.stderr)")
        let again = try await runner.runAsync(arguments, stdin: server.service.digitalocean.token + "\n")
        #expect(again.status == 1 && again.stderr.contains("unlink digitalocean"), "\(again.stderr)")
        // The token is sealed, never stored as text.
        let database = try Data(contentsOf: URL(fileURLWithPath: runner.environment["SLIPWAY_HOME"]! + "/slipway.db"))
        #expect(database.firstRange(of: Data(server.service.digitalocean.token.utf8)) == nil)
        let wrong = try await BinaryRunner(home: TemporaryHome().path).runAsync(arguments, stdin: "dop_v1_wrong\n")
        #expect(wrong.status == 1 && wrong.stderr.split(separator: "\n").count == 1, "\(wrong.stderr)")
    }

    @Test("every app on the account shows in apps (backend digitalocean, region, live URL, phase), matched to the mirrored branch; deploy --wait follows one to ACTIVE; cancel stops one")
    func foundApps() async throws {
        let clock = PausableNow()
        let (server, runner) = try await linkedToBoth(clock: clock)
        defer { Task { await server.stop() } }
        let listed = try await runner.runAsync(["apps", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let apps = try #require(json(listed.stdout) as? [[String: Any]])
        #expect(apps.count == 3 && apps.allSatisfy { $0["backend"] as? String == "digitalocean" && $0["autodeploy"] as? Bool == false })
        let sample = try #require(apps.first { $0["name"] as? String == "sample-app" })
        #expect(sample["phase"] as? String == "ACTIVE" && sample["region"] is String && (sample["live_url"] as? String)?.hasPrefix("https://") == true)
        let source = try #require(sample["source"] as? String)
        #expect(source.hasPrefix("bitbucket/") && sample["source_state"] as? String == "ok", "\(sample)")
        let deployments = try #require(json(try await runner.runAsync(["deployments", "sample-app", "--json"]).stdout) as? [[String: Any]])
        #expect(deployments.first?["phase"] as? String == "ACTIVE" && deployments.first?["remote_id"] is String, "\(deployments)")
        let pinned = try await runner.runAsync(["deploy", "sample-app", "--commit", String(repeating: "a", count: 40)])
        #expect(pinned.status == 1 && pinned.stderr.contains("never a pinned commit") && pinned.stderr.split(separator: "\n").count == 1, "\(pinned.stderr)")
        let deployed = try await runner.runAsync(["deploy", "sample-app", "--wait"])
        #expect(deployed.status == 0 && deployed.stderr.contains("started on App Platform") && deployed.stderr.contains("sample-app: ACTIVE"), "\(deployed.stderr)")
        let after = try #require(json(try await runner.runAsync(["deployments", "sample-app", "--json"]).stdout) as? [[String: Any]])
        #expect(after.first?["phase"] as? String == "ACTIVE" && after.first?["remote_id"] as? String != deployments.first?["remote_id"] as? String)
        #expect(after.contains { $0["remote_id"] as? String == deployments.first?["remote_id"] as? String && $0["phase"] as? String == "SUPERSEDED" }, "\(after)")
        // App Platform's step tree, nested as it nests it, every leaf done.
        let progress = try #require(after.first?["progress"] as? [String: Any])
        let tree = try #require(progress["steps"] as? [[String: Any]])
        #expect(tree.map { $0["name"] as? String } == ["build", "deploy"] && progress["done"] as? Int == 6 && progress["total"] as? Int == 6, "\(progress)")
        let deploySteps = (tree[1]["steps"] as? [[String: Any]])?.map { $0["name"] as? String }
        #expect(deploySteps == ["initialize", "components", "finalize"] && tree.allSatisfy { $0["status"] as? String == "succeeded" })
        // Another, canceled while it builds: App Platform's clock stands still meanwhile, however slow the machine.
        clock.pause()
        let started = try await runner.runAsync(["deploy", "sample-app"])
        #expect(started.status == 0, "\(started.stderr)")
        let running = try #require((json(try await runner.runAsync(["deployments", "sample-app", "--json"]).stdout) as? [[String: Any]])?.first)
        let canceled = try await runner.runAsync(["cancel", "\(running["id"] as? Int ?? 0)"])
        #expect(canceled.status == 0 && canceled.stderr.contains("CANCELED on App Platform"), "\(canceled.stderr)")
        clock.resume()
        // An app of our own on App Platform from a mirrored branch: quoted, confirmed, created, deployed.
        let create = ["apps", "create", "shop", "--source", source, "--branch", sample["branch"] as? String ?? "main", "--on", "digitalocean",
                      "--region", "ams", "--build", "make", "--run", "./run.sh", "--env", "MODE=prod"]
        let unconfirmed = try await runner.runAsync(create)
        #expect(unconfirmed.status == 1 && unconfirmed.stderr.contains("nothing was created on App Platform"), "\(unconfirmed.stderr)")
        let badRegion = try await runner.runAsync(create.map { $0 == "ams" ? "mars" : $0 } + ["--yes"])
        #expect(badRegion.status == 1 && badRegion.stderr.contains("not an App Platform region") && badRegion.stderr.split(separator: "\n").count == 1,
                "\(badRegion.stderr)")
        let made = try await runner.runAsync(create + ["--yes"])
        #expect(made.status == 0 && made.stderr.contains("created app 'shop' on App Platform") && made.stderr.contains("$5.00 a month"), "\(made.stderr)")
        let shop = try #require((json(try await runner.runAsync(["apps", "--json"]).stdout) as? [[String: Any]])?.first { $0["name"] as? String == "shop" })
        #expect(shop["backend"] as? String == "digitalocean" && shop["autodeploy"] as? Bool == true && shop["region"] as? String == "ams", "\(shop)")
        let shopDeploy = try await runner.runAsync(["deploy", "shop", "--wait"])
        #expect(shopDeploy.status == 0 && shopDeploy.stderr.contains("shop: ACTIVE"), "\(shopDeploy.stderr)")
        #expect(try await runner.runAsync(["apps", "create", "Bad_Name", "--source", source, "--branch", "main", "--on", "digitalocean"]).status == 2)
        // Rollback is App Platform's own, to the deployment that served before.
        let before = try #require((json(try await runner.runAsync(["deployments", "sample-app", "--json"]).stdout) as? [[String: Any]])?
            .first { $0["phase"] as? String == "SUPERSEDED" && $0["remote_id"] is String })
        let rollback = try await runner.runAsync(["rollback", "sample-app", "--wait"])
        #expect(rollback.status == 0 && rollback.stderr.contains("rolls back to deployment \(before["id"] as? Int ?? 0)") && rollback.stderr.contains("sample-app: ACTIVE"),
                "\(rollback.stderr)")
        let active = (json(try await runner.runAsync(["deployments", "sample-app", "--json"]).stdout) as? [[String: Any]])?.first
        #expect(active?["commit"] as? String == before["commit"] as? String && (active?["cause"] as? String)?.hasPrefix("rollback to") == true, "\(active ?? [:])")
        // The spec as App Platform keeps it; a change sent back whole; autodeploy switched through deploy_on_push.
        let spec = try await runner.runAsync(["apps", "spec", "shop"])
        let specObject = try #require(json(spec.stdout) as? [String: Any], "\(spec.stdout)\(spec.stderr)")
        #expect(specObject["name"] as? String == "shop" && (specObject["services"] as? [[String: Any]])?.first?["run_command"] as? String == "./run.sh")
        let updated = try await runner.runAsync(["apps", "update", "shop", "--run", "./serve.sh", "--env", "LEVEL=2", "--no-autodeploy"])
        #expect(updated.status == 0 && updated.stderr.contains("nothing deploys it on a push"), "\(updated.stderr)")
        let service = (json(try await runner.runAsync(["apps", "spec", "shop"]).stdout) as? [String: Any])?["services"] as? [[String: Any]]
        #expect(service?.first?["run_command"] as? String == "./serve.sh" && (service?.first?["bitbucket"] as? [String: Any])?["deploy_on_push"] as? Bool == false,
                "\(service ?? [])")
        #expect((service?.first?["envs"] as? [[String: Any]])?.contains { $0["key"] as? String == "LEVEL" && $0["value"] as? String == "2" } == true)
        let shopAfter = (json(try await runner.runAsync(["apps", "--json"]).stdout) as? [[String: Any]])?.first { $0["name"] as? String == "shop" }
        #expect(shopAfter?["autodeploy"] as? Bool == false)
        // Deleting on App Platform takes --remote, and confirmation.
        let kept = try await runner.runAsync(["apps", "delete", "shop"])
        #expect(kept.status == 1 && kept.stderr.contains("--remote") && kept.stderr.split(separator: "\n").count == 1, "\(kept.stderr)")
        let deleted = try await runner.runAsync(["apps", "delete", "shop", "--remote", "--yes"])
        #expect(deleted.status == 0 && deleted.stderr.contains("deleted app 'shop' on App Platform"), "\(deleted.stderr)")
        let remaining = (json(try await runner.runAsync(["apps", "--json"]).stdout) as? [[String: Any]]) ?? []
        #expect(!remaining.contains { $0["name"] as? String == "shop" } && remaining.count == 3, "gone there and here: \(remaining.map { $0["name"] ?? "" })")
        let table = try await runner.runAsync(["apps"])
        #expect(table.stdout.contains("digitalocean ("), "\(table.stdout)")
    }

    @Test("a push to a branch an App Platform app deploys on push shows, then the deployment App Platform started for it, never a second one")
    func deployOnPush() async throws {
        let (server, runner) = try await linkedToBoth()
        defer { Task { await server.stop() } }
        let apps = try #require(json(try await runner.runAsync(["apps", "--json"]).stdout) as? [[String: Any]])
        let sample = try #require(apps.first { $0["name"] as? String == "sample-app" })
        let source = try #require(sample["source"] as? String)
        let repository = source.split(separator: "/").dropFirst().joined(separator: "/")
        let branch = try #require(sample["branch"] as? String)
        try runner.writeConfig("[engine]\napp_poll_seconds = 1\n")
        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }
        _ = try #require(try await runner.webhookListener(), "the daemon did not start")
        var push: SandboxPush?
        for _ in 0..<200 where push == nil {
            push = server.service.push(repository: repository, on: .bitbucket).flatMap { $0.kind == .commit && $0.branch == branch ? $0 : nil }
        }
        let pushed = try #require(push)
        var caused: [String: Any]?
        for _ in 0..<150 where caused == nil {
            let deployments = json(try await runner.runAsync(["deployments", "sample-app", "--json"]).stdout) as? [[String: Any]] ?? []
            caused = deployments.first { $0["commit"] as? String == pushed.new && ($0["cause"] as? String)?.contains("pushed to bitbucket/") == true }
            if caused == nil { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        #expect(caused != nil, "App Platform's deployment of the push never showed")
        let deployments = json(try await runner.runAsync(["deployments", "sample-app", "--json"]).stdout) as? [[String: Any]] ?? []
        #expect(deployments.filter { $0["commit"] as? String == pushed.new }.count == 1, "one deployment of the push, not two: \(deployments)")
    }

    @Test("logs of an App Platform deployment: --follow streams the build as it runs, then every log in order from the archive; --type and --component choose")
    func logs() async throws {
        let (server, runner) = try await linkedToBoth()
        defer { Task { await server.stop() } }
        #expect(try await runner.runAsync(["apps"]).status == 0)
        let started = try await runner.runAsync(["deploy", "sample-app"])
        #expect(started.status == 0, "\(started.stderr)")
        let id = try #require((json(try await runner.runAsync(["deployments", "sample-app", "--json"]).stdout) as? [[String: Any]])?.first?["id"] as? Int)
        let followed = try await runner.runAsync(["logs", "\(id)", "--follow", "--type", "build"])
        #expect(followed.status == 0 && followed.stdout.contains("› fetching app source code") && followed.stdout.contains("build complete"), "\(followed.stdout)\(followed.stderr)")
        #expect(!followed.stdout.contains("\u{1B}") && !followed.stdout.contains("deploying the image"), "build only, shown inert")
        _ = try await runner.runAsync(["deployments", "watch", "\(id)"])
        let all = try await runner.runAsync(["logs", "\(id)"])
        #expect(all.status == 0, "\(all.stderr)")
        let build = all.stdout.range(of: "build complete"), deploy = all.stdout.range(of: "deploying the image"), run = all.stdout.range(of: "listening on :8080")
        #expect(build != nil && deploy != nil && run != nil && build!.lowerBound < deploy!.lowerBound && deploy!.lowerBound < run!.lowerBound, "\(all.stdout)")
        let one = try await runner.runAsync(["logs", "\(id)", "--type", "deploy", "--component", "web"])
        #expect(one.status == 0 && one.stdout.contains("✔ deployed") && !one.stdout.contains("build complete"), "\(one.stdout)\(one.stderr)")
        let wrong = try await runner.runAsync(["logs", "\(id)", "--component", "nope"])
        #expect(wrong.status == 1 && wrong.stderr.contains("has no component 'nope'") && wrong.stderr.split(separator: "\n").count == 1, "\(wrong.stderr)")
        #expect(server.service.logRequestsWithCredentials == 0)
    }

    @Test("a storm of 429s on App Platform's apps (every other answer) pauses and retries: the engine keeps every app, nothing is removed, and a deployment still goes ACTIVE")
    func rateLimitStorm() async throws {
        let (server, runner) = try await linkedToBoth(faults: ["digitalocean:429/2@/v2/apps*"])
        defer { Task { await server.stop() } }
        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }
        _ = try #require(try await runner.webhookListener(), "the daemon did not start")
        var counts: [Int] = []
        for _ in 0..<40 {
            let apps = json(try await runner.runAsync(["apps", "--json"]).stdout) as? [[String: Any]] ?? []
            counts.append(apps.filter { $0["backend"] as? String == "digitalocean" }.count)
            try await Task.sleep(nanoseconds: 150_000_000)
        }
        let seen = try #require(counts.firstIndex(of: 3), "the engine never stored the apps through the storm: \(counts)")
        #expect(counts[seen...].allSatisfy { $0 == 3 }, "an app went missing during the storm: \(counts)")
        let deployed = try await runner.runAsync(["deploy", "sample-app", "--wait"])
        #expect(deployed.status == 0 && deployed.stderr.contains("sample-app: ACTIVE"), "\(deployed.stderr)")
        let stats = server.service.respond(method: "GET", url: server.digitalocean.origin + "/_sandbox/stats", headers: [:], body: Data(), as: .digitalocean)
        let limited = (try JSONSerialization.jsonObject(with: stats.body) as? [String: Any])?["rate_limited"] as? Int ?? 0
        #expect(limited >= 3, "the storm fired \(limited) times")
    }
}

/// The sandbox's clock: real time, except while paused (a phase then lasts as long as a test needs).
final class PausableNow: @unchecked Sendable {
    private let lock = NSLock()
    private var lost: TimeInterval = 0
    private var pausedAt: Date?

    var now: Date { lock.withLock { (pausedAt ?? Date()).addingTimeInterval(-lost) } }
    func pause() { lock.withLock { if pausedAt == nil { pausedAt = Date() } } }
    /// While paused: moves the clock on by exactly this much, and stands still again.
    func advance(_ seconds: TimeInterval) { lock.withLock { pausedAt = pausedAt?.addingTimeInterval(seconds) } }
    func resume() {
        lock.withLock {
            if let pausedAt { lost += Date().timeIntervalSince(pausedAt) }
            pausedAt = nil
        }
    }
}
