import Foundation
import Testing
import SlipwaySandbox

/// Issue 17: an app outlives its provider's unlink, marked, and comes back with the relink.
@Suite("Apps across unlink", .timeLimit(.minutes(3)))
struct AppLifecycleTests {
    func sourceState(_ runner: BinaryRunner) async throws -> String? {
        let listed = try await runner.runAsync(["apps", "--json"])
        return ((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first)?["source_state"] as? String
    }

    @Test("unlink keeps the provider's apps, marks them unlinked and says so; relinking re-attaches them")
    func unlinkKeepsApps() async throws {
        let server = try await smallSandbox(seed: 177, repos: 1)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        let (ws, slug, branch) = try firstBranch(of: server)
        let created = try await runner.runAsync(["apps", "create", "web", "--source", "bitbucket/\(ws)/\(slug)", "--branch", branch,
                                                 "--run", "true", "--no-autodeploy"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try await sourceState(runner) == "ok")

        let unlinked = try await runner.runAsync(["unlink", "bitbucket", "--yes"])
        #expect(unlinked.status == 0, "\(unlinked.stderr)")
        #expect(unlinked.stderr.contains("kept 1 app built from bitbucket (web), marked unlinked"), "\(unlinked.stderr)")
        #expect(try await sourceState(runner) == "unlinked")
        #expect(try await runner.runAsync(["apps"]).stdout.contains("(unlinked)"))

        try await runner.mirror(server)
        #expect(try await sourceState(runner) == "ok")
    }
}
