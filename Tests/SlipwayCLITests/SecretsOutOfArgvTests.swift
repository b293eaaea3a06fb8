import Foundation
import Testing
import SlipwayCore
import SlipwaySandbox

/// Secrets that need not pass through a process's arguments (which `ps` shows to everyone).
@Suite("Secrets out of argv", .timeLimit(.minutes(3)))
struct SecretsOutOfArgvTests {
    @Test("link --email E --token-file - takes the API token from stdin")
    func apiTokenFromStdin() async throws {
        let server = try await smallSandbox(seed: 81, repos: 1)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        let linked = try await runner.runAsync(["link", "bitbucket", "--api-url", server.bitbucket.apiURL, "--web-url", server.bitbucket.webURL,
                                                "--email", server.service.email, "--token-file", "-"], stdin: server.service.bitbucket.apiToken + "\n")
        #expect(linked.status == 0, "\(linked.stderr)")
        let accounts = try await runner.runAsync(["accounts", "--json"])
        #expect(accounts.stdout.contains(#""auth":"api_token""#), "\(accounts.stdout)")
        let both = try await runner.runAsync(["link", "bitbucket", "--email", "a@b.c", "--api-token", "t", "--token-file", "-"])
        #expect(both.status == 2)
        #expect(both.stderr.contains("--email goes with one of --api-token or --token-file"))
    }

    @Test("--secret-env K takes the value from the caller's environment; a missing one creates nothing")
    func secretFromEnvironment() async throws {
        let server = try await smallSandbox(seed: 82, repos: 1)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path, extra: ["API_KEY": "s3cr3t-from-env"])
        try await runner.mirror(server)
        let (ws, slug, branch) = try firstBranch(of: server)
        let source = "bitbucket/\(ws)/\(slug)"

        let missing = try await runner.runAsync(["apps", "create", "web", "--source", source, "--branch", branch, "--run", "true",
                                                 "--no-autodeploy", "--secret-env", "NOT_SET_ANYWHERE"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("NOT_SET_ANYWHERE is not set in your environment"), "\(missing.stderr)")
        #expect(!(try await runner.runAsync(["apps", "--json"]).stdout.contains("\"web\"")))

        let created = try await runner.runAsync(["apps", "create", "web", "--source", source, "--branch", branch, "--run", "true",
                                                 "--no-autodeploy", "--secret-env", "API_KEY", "--secret-env", "OTHER=given"])
        #expect(created.status == 0, "\(created.stderr)")
        let store = try Store(path: home.path + "/slipway.db")
        let app = try #require(try store.app(named: "web"))
        let secrets = try store.secretEnvironment(appID: app.id!) { try Vault.open(keyFile: home.path + "/key", create: false) }
        #expect(secrets == ["API_KEY": "s3cr3t-from-env", "OTHER": "given"])
    }
}
