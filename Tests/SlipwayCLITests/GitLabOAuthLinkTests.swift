import Foundation
import Testing
import SlipwayHTTP
import SlipwaySandbox

/// Linking GitLab by OAuth through the binary against the sandbox: the device grant, the code flow
/// with PKCE and no client secret, `--webhooks` asking for `api`, and 2-hour tokens (shortened
/// here) that refresh once even when two processes find them expired at the same moment.
@Suite("GitLab OAuth: device grant, PKCE, rotating refresh", .timeLimit(.minutes(3)))
struct GitLabOAuthLinkTests {
    static func sandbox(seed: UInt64, lifetime: Int? = nil) async throws -> SandboxServer {
        var options = SandboxOptions()
        options.seed = seed
        options.workspaces = 3
        options.reposPerWorkspace = 2
        options.branchesPerRepo = 2
        options.largeRepositories = false
        options.personalities = [.gitlab]
        options.deviceIntervalSeconds = 1
        options.tokenLifetimeSeconds = lifetime
        return try await SandboxServer.start(options: options)
    }

    func tokenRequests(_ server: SandboxServer) throws -> [String: Int] {
        let stats = server.service.respond(method: "GET", url: server.gitlab.origin + "/_sandbox/stats", headers: [:], body: Data(), as: .gitlab)
        let object = try JSONSerialization.jsonObject(with: stats.body) as? [String: Any]
        return ((object?["by_personality"] as? [String: Any])?["gitlab"] as? [String: Any])?["token_requests"] as? [String: Int] ?? [:]
    }

    func accounts(_ runner: BinaryRunner) async throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(try await runner.runAsync(["accounts", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
    }

    /// Links by the device grant, approving the code at the activation page as a person would.
    func linkByDevice(_ home: TemporaryHome, _ server: SandboxServer, extra: [String] = []) async throws -> BinaryRunner.Result {
        let link = try OAuthLinkProcess(home: home.path, arguments: ["link", "gitlab", "--api-url", server.gitlab.apiURL, "--web-url", server.gitlab.webURL,
                                                                     "--device", "--client-id", server.service.gitlab.application.id, "--json"] + extra)
        let printed = try await link.line(onStdout: true) { $0.hasPrefix("{") }
        let code = try #require(try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [String: Any])
        let userCode = try #require(code["user_code"] as? String)
        #expect(code["verification_uri"] as? String == server.gitlab.webURL + "/oauth/device" && code["expires_in"] as? Int == 300)
        #expect((code["verification_uri_complete"] as? String)?.hasSuffix("?user_code=\(userCode)") == true)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/x-www-form-urlencoded")
        let approved = try await transport.perform(HTTPRequest(method: .post, url: server.gitlab.webURL + "/oauth/device", headers: headers,
                                                               body: Data("user_code=\(userCode)&action=approve".utf8)))
        #expect(approved.status == 200)
        return try await link.finish()
    }

    @Test("--device: linked with GitLab's 2-hour token, read scopes only and a line about hooks; --webhooks asks for api too")
    func device() async throws {
        let server = try await Self.sandbox(seed: 71)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let result = try await linkByDevice(home, server)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("linked gitlab as @sandbox-user through the device flow; its token expires every 2h and refreshes itself"), "\(result.stderr)")
        #expect(result.stderr.contains("warning: the token lacks the api scope"), "\(result.stderr)")
        let runner = BinaryRunner(home: home.path)
        let account = try #require(try await accounts(runner).first)
        #expect(account["auth"] as? String == "device" && account["scopes"] as? [String] == ["read_api", "read_repository", "read_user"])
        #expect(account["token_expires_at"] is String && account["email"] as? String == "sandbox@example.com")
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)

        let other = TemporaryHome()
        let withHooks = try await linkByDevice(other, server, extra: ["--webhooks"])
        #expect(withHooks.status == 0 && !withHooks.stderr.contains("warning"), "\(withHooks.stderr)")
        #expect(try await accounts(BinaryRunner(home: other.path)).first?["scopes"] as? [String] == ["read_api", "read_repository", "read_user", "api"])
    }

    @Test("--oauth: the code flow with PKCE and no client secret, through the loopback callback")
    func codeFlowWithoutSecret() async throws {
        let server = try await Self.sandbox(seed: 72)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let link = try OAuthLinkProcess(home: home.path, arguments: ["link", "gitlab", "--oauth", "--api-url", server.gitlab.apiURL, "--web-url", server.gitlab.webURL,
                                                                     "--client-id", server.service.gitlab.application.id, "--timeout", "60"])
        let authorize = try await link.line { $0.contains("/oauth/authorize?") }.trimmingCharacters(in: .whitespaces)
        #expect(authorize.contains("code_challenge_method=S256") && authorize.contains("scope=read_api%20read_repository%20read_user"), "\(authorize)")
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let approval = try await transport.perform(HTTPRequest(url: authorize))
        #expect(approval.status == 302)
        #expect(try await transport.perform(HTTPRequest(url: try #require(approval.headers["Location"]))).status == 200)
        let result = try await link.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let account = try #require(try await accounts(BinaryRunner(home: home.path)).first)
        #expect(account["auth"] as? String == "oauth" && account["token_expires_at"] is String)
        #expect(try tokenRequests(server)["authorization_code"] == 1)
    }

    @Test("an expired token refreshes once, rotating, even with two processes racing for it")
    func refreshRace() async throws {
        // Long enough that neither process outlives the new token on a loaded machine.
        let server = try await Self.sandbox(seed: 73, lifetime: 10)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        #expect(try await linkByDevice(home, server).status == 0)
        let runner = BinaryRunner(home: home.path)
        try await Task.sleep(nanoseconds: 10_300_000_000)   // the sandbox's token really expires
        async let first = runner.runAsync(["sync", "--once"])
        async let second = runner.runAsync(["ls", "gitlab", "--json"])
        let (a, b) = try await (first, second)
        #expect(a.status == 0, "\(a.stderr)")
        #expect(b.status == 0, "\(b.stderr)")
        // The first to take the lock refreshed; the other found the new pair stored and used it.
        let refreshed = try tokenRequests(server)["refresh_token"] ?? 0
        #expect(refreshed == 1, "refreshed \(refreshed) times")
        #expect(try await accounts(runner).first?["status"] as? String == "ok")
        for needle in [server.service.gitlab.application.secret] {
            #expect(try filesContaining(needle, under: home.path).isEmpty)
        }
    }
}
