import Foundation
import Testing
import SlipwaySandbox
import SlipwayTestSupport

/// Issue 17: deployments survive the engine's death (kill -9 of the daemon).
@Suite("Engine death", .timeLimit(.minutes(3)))
struct EngineDeathTests {
    static func alive(_ pid: Int32) -> Bool { isProcessRunning(pid) }

    static func pids(_ file: String) -> [Int32] {
        ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
    }

    @Test("after kill -9 of the daemon, the next engine stops the orphaned build and service, marks the build, and runs the service exactly once")
    func killNine() async throws {
        let server = try await smallSandbox(seed: 176, workspaces: 1, repos: 1, branches: 2, demo: true)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        try runner.writeConfig("[engine]\napp_poll_seconds = 1\n[webhooks]\nlisten = \"127.0.0.1:0\"\n")
        let services = home.path + "/service-pids", builds = home.path + "/build-pids"
        var daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate(); daemon.waitUntilExit() } }

        let service = try await runner.runAsync(["apps", "create", "svc", "--source", "bitbucket/demo/hello-web", "--branch", "main", "--service",
                                                 "--run", "echo $$ >> '\(services)'; exec sleep 300"])
        #expect(service.status == 0, "\(service.stderr)")
        #expect(try await runner.newestDeployment(of: "svc", count: 1, phase: "ACTIVE")?["phase"] as? String == "ACTIVE")
        let build = try await runner.runAsync(["apps", "create", "slow", "--source", "bitbucket/demo/hello-web", "--branch", "main",
                                               "--build", "echo $$ >> '\(builds)'; exec sleep 300", "--run", "true"])
        #expect(build.status == 0, "\(build.stderr)")
        for _ in 0..<150 where Self.pids(builds).isEmpty { try await Task.sleep(nanoseconds: 100_000_000) }
        let firstService = try #require(Self.pids(services).first)
        let orphanBuild = try #require(Self.pids(builds).first)

        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
        #expect(Self.alive(firstService) && Self.alive(orphanBuild), "the scenario needs orphans to clean up")

        daemon = try runner.startDaemon()
        // Bounded, and generous: a loaded 2-core machine starts a debug daemon slowly.
        for _ in 0..<600 where Self.alive(orphanBuild) || Self.alive(firstService) || Self.pids(services).count < 2 {
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(!Self.alive(orphanBuild), "the interrupted build still runs")
        #expect(!Self.alive(firstService), "the orphaned service still runs beside its new copy")
        let slow = try #require(try await runner.deployments(of: "slow").first)
        #expect(slow["phase"] as? String == "ERROR", "\(slow)")
        // Exactly one new copy of the service, and it stays the only one: once the new engine has
        // run a later deployment to the end, its start-up (where a second copy would come from) is over.
        let probe = try await runner.runAsync(["apps", "create", "probe", "--source", "bitbucket/demo/hello-web", "--branch", "main", "--run", "true"])
        #expect(probe.status == 0, "\(probe.stderr)")
        #expect(try await runner.newestDeployment(of: "probe", count: 1, phase: "ACTIVE")?["phase"] as? String == "ACTIVE")
        let all = Self.pids(services)
        #expect(all.count == 2, "\(all)")
        #expect(all.filter(Self.alive).count == 1)
        daemon.terminate()
        daemon.waitUntilExit()
        for _ in 0..<50 where all.contains(where: Self.alive) { try await Task.sleep(nanoseconds: 100_000_000) }
        #expect(!all.contains(where: Self.alive), "a service outlived the daemon's SIGTERM")
    }
}
