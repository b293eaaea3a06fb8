import Foundation
import Testing
import SlipwaySandbox

/// App Platform apps built from a public Git repository: App Platform's `git` source has no
/// deploy on push, so an autodeploying one is Slipway's to deploy — the engine sees the push by
/// polling and starts App Platform's deployment, once per commit; with --no-autodeploy nothing
/// starts.
@Suite("App Platform from public Git", .serialized, .timeLimit(.minutes(3)))
struct AppPlatformGitSourceTests {
    func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test("apps create --on digitalocean from git/HOST/PATH uses App Platform's git source; a push found by polling starts one App Platform deployment, which goes ACTIVE")
    func pushStartsAppPlatformDeployment() async throws {
        var options = SandboxOptions()
        options.personalities = [.git, .digitalocean]
        options.appPlatformApps = 1
        options.appPlatformPhaseSeconds = 0.4
        let server = try await SandboxServer.start(options: options)
        defer { Task { await server.stop() } }
        let runner = BinaryRunner(home: TemporaryHome().path)
        let host = "127.0.0.1:\(server.git.port)"
        let linked = try await runner.runAsync(["link", "digitalocean", "--api-url", server.digitalocean.apiURL, "--web-url", server.digitalocean.webURL,
                                                "--token-file", "-"], stdin: server.service.digitalocean.token + "\n")
        #expect(linked.status == 0, "\(linked.stderr)")
        let added = try await runner.runAsync(["repos", "add", "\(server.git.origin)/demo/hello-web.git"])
        #expect(added.status == 0, "\(added.stderr)")
        try runner.writeConfig("[engine]\napp_poll_seconds = 1\n[providers.git]\ngit_requests_per_hour = 20000\n")

        for (name, extra) in [("ship", [String]()), ("quiet", ["--no-autodeploy"])] {
            let made = try await runner.runAsync(["apps", "create", name, "--source", "git/\(host)/demo/hello-web", "--branch", "main", "--on", "digitalocean",
                                                  "--build", "make", "--run", "./run.sh", "--yes"] + extra)
            #expect(made.status == 0 && made.stderr.contains("created app '\(name)' on App Platform"), "\(made.stderr)")
        }
        let apps = try #require(json(try await runner.runAsync(["apps", "--json"]).stdout) as? [[String: Any]])
        let ship = try #require(apps.first { $0["name"] as? String == "ship" })
        #expect(ship["backend"] as? String == "digitalocean" && ship["source"] as? String == "git/\(host)/demo/hello-web" && ship["autodeploy"] as? Bool == true,
                "\(ship)")
        // App Platform's first deployment, of the head it cloned.
        let created = try await runner.deployments(of: "ship")
        #expect(created.count == 1 && created.first?["cause"] as? String == "app created", "\(created)")

        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }
        _ = try #require(try await runner.webhookListener(), "the daemon did not start")
        try await Task.sleep(nanoseconds: 1_500_000_000)
        let push = try #require(await server.service.pushDemo("hello-web", on: .git))
        var deployed: [String: Any]?
        for _ in 0..<150 where deployed == nil {
            let rows = try await runner.deployments(of: "ship")
            deployed = rows.first { $0["commit"] as? String == push.new && $0["phase"] as? String == "ACTIVE" }
            if deployed == nil { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        let seen = try await runner.deployments(of: "ship")
        let row = try #require(deployed, "the push never deployed on App Platform: \(seen)")
        #expect((row["cause"] as? String)?.contains("pushed to main") == true && row["remote_id"] is String && row["backend"] as? String == "digitalocean", "\(row)")
        // One deployment for the push, however many looks confirm it; none for the app that does not autodeploy.
        try await Task.sleep(nanoseconds: 2_500_000_000)
        #expect(try await runner.deployments(of: "ship").filter { $0["commit"] as? String == push.new }.count == 1)
        #expect(try await runner.deployments(of: "quiet").allSatisfy { $0["commit"] as? String != push.new && $0["cause"] as? String == "app created" })
    }
}
