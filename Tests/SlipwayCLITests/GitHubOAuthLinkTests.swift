import Foundation
import Testing
import SlipwayHTTP
import SlipwaySandbox

/// Linking GitHub without a pasted token, through the binary against the sandbox: the device flow
/// for a GitHub App (tokens that expire and refresh themselves) and an OAuth App (tokens that do
/// not), its refusal and expiry, and the code flow with PKCE through the loopback callback.
@Suite("GitHub OAuth: device flow and code flow", .timeLimit(.minutes(3)))
struct GitHubOAuthLinkTests {
    static func sandbox(seed: UInt64, lifetime: Int? = nil, codeLifetime: Int = 900) async throws -> SandboxServer {
        var options = SandboxOptions()
        options.seed = seed
        options.workspaces = 2
        options.reposPerWorkspace = 2
        options.branchesPerRepo = 2
        options.largeRepositories = false
        options.personalities = [.github]
        options.deviceIntervalSeconds = 1
        options.deviceCodeLifetimeSeconds = codeLifetime
        options.tokenLifetimeSeconds = lifetime
        return try await SandboxServer.start(options: options)
    }

    func deviceLink(_ home: TemporaryHome, _ server: SandboxServer, client: String, extra: [String] = []) throws -> OAuthLinkProcess {
        try OAuthLinkProcess(home: home.path, arguments: ["link", "github", "--api-url", server.github.apiURL, "--web-url", server.github.webURL,
                                                          "--device", "--client-id", client] + extra)
    }

    /// What a person does at the verification page: enter the code and approve (or cancel).
    func submit(_ userCode: String, at url: String, approve: Bool = true) async throws -> Int {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/x-www-form-urlencoded")
        let body = "user_code=\(userCode)&authorize=\(approve ? "approve" : "cancel")"
        return try await transport.perform(HTTPRequest(method: .post, url: url, headers: headers, body: Data(body.utf8))).status
    }

    func accounts(_ runner: BinaryRunner) async throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(try await runner.runAsync(["accounts", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
    }

    func tokenRequests(_ server: SandboxServer) throws -> [String: Int] {
        let stats = server.service.respond(method: "GET", url: server.github.origin + "/_sandbox/stats", headers: [:], body: Data(), as: .github)
        let object = try JSONSerialization.jsonObject(with: stats.body) as? [String: Any]
        return (object?["by_personality"] as? [String: Any]).flatMap { ($0["github"] as? [String: Any])?["token_requests"] as? [String: Int] }
            ?? object?["token_requests"] as? [String: Int] ?? [:]
    }

    @Test("--device --json with a GitHub App: the code to enter on stdout, approval in a browser, an 8-hour-style token that refreshes unattended")
    func githubAppDevice() async throws {
        let server = try await Self.sandbox(seed: 61, lifetime: 5)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let link = try deviceLink(home, server, client: server.service.github.githubApp.id, extra: ["--json"])
        let printed = try await link.line(onStdout: true) { $0.hasPrefix("{") }
        let code = try #require(try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [String: Any])
        let userCode = try #require(code["user_code"] as? String)
        let verification = try #require(code["verification_uri"] as? String)
        #expect(verification == server.github.webURL + "/login/device" && code["expires_in"] as? Int == 900)
        _ = try await link.line { $0.contains(userCode) && $0.contains(verification) }
        #expect(try await submit(userCode, at: verification) == 200)
        let result = try await link.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("linked github as @sandbox-user through the device flow; its token expires every 5s and refreshes itself"), "\(result.stderr)")
        // stdout held only the one JSON object.
        #expect(result.stdout.split(separator: "\n").count == 1)

        let runner = BinaryRunner(home: home.path)
        let account = try #require(try await accounts(runner).first)
        #expect(account["auth"] as? String == "device" && account["token_expires_at"] is String)
        #expect(account["email"] as? String == "sandbox@example.com")
        let first = try await runner.runAsync(["sync", "--once"])
        #expect(first.status == 0, "\(first.stderr)")
        // The token really expires; the next sync refreshes it without the user, and without a client secret.
        try await Task.sleep(nanoseconds: 5_200_000_000)
        let second = try await runner.runAsync(["sync", "--once"])
        #expect(second.status == 0, "\(second.stderr)")
        // At least one refresh (a slow machine may need a second within the sync); each rotated,
        // or the sandbox would have refused the spent refresh token.
        #expect(try tokenRequests(server)["refresh_token"] ?? 0 >= 1)
        #expect(try await accounts(runner).first?["status"] as? String == "ok")
        for prefix in ["ghu_", "ghr_"] {
            #expect(try filesContaining(prefix, under: home.path).isEmpty, "\(prefix) token found on disk")
        }
    }

    @Test("--device with an OAuth App and --public-only: public_repo asked, a token that does not expire, no scope warning")
    func oauthAppDevice() async throws {
        let server = try await Self.sandbox(seed: 62)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let link = try deviceLink(home, server, client: server.service.github.oauthApp.id, extra: ["--public-only"])
        let line = try await link.line { $0.contains("enter the code") }
        let userCode = try #require(line.split(separator: " ").first { $0.count == 9 && $0.dropFirst(4).first == "-" })
        #expect(try await submit(String(userCode), at: server.github.webURL + "/login/device") == 200)
        let result = try await link.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("its token does not expire") && !result.stderr.contains("warning"), "\(result.stderr)")
        let account = try #require(try await accounts(BinaryRunner(home: home.path)).first)
        #expect(account["token_expires_at"] is NSNull)
        #expect(account["scopes"] as? [String] == ["admin:repo_hook", "public_repo", "read:org", "user:email"])
        let runner = BinaryRunner(home: home.path)
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        // A public_repo grant sees the public repositories, and only those.
        var mirrored: [String] = []
        for owner in (try JSONSerialization.jsonObject(with: Data(try await runner.runAsync(["ls", "github", "--json"]).stdout.utf8)) as? [[String: Any]]) ?? [] {
            let ws = owner["workspace"] as! String
            let repositories = try JSONSerialization.jsonObject(with: Data(try await runner.runAsync(["ls", "github/\(ws)", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
            mirrored += repositories.map { "\(ws)/\($0["repository"] as! String)" }
        }
        let publicOnes = server.service.repositoryNames(on: .github, publicOnly: true)
        #expect(!publicOnes.isEmpty && publicOnes.count < server.service.repositoryNames(on: .github).count)
        #expect(mirrored.sorted() == publicOnes)
    }

    @Test("a cancelled approval and an expired code each end with one line and link nothing")
    func deniedAndExpired() async throws {
        let server = try await Self.sandbox(seed: 63)
        defer { Task { await server.stop() } }
        let short = try await Self.sandbox(seed: 63, codeLifetime: 3)
        defer { Task { await short.stop() } }
        let home = TemporaryHome()
        let client = server.service.github.githubApp.id
        let denied = try deviceLink(home, server, client: client)
        let line = try await denied.line { $0.contains("enter the code") }
        let userCode = try #require(line.split(separator: " ").first { $0.count == 9 && $0.dropFirst(4).first == "-" })
        #expect(try await submit(String(userCode), at: server.github.webURL + "/login/device", approve: false) == 200)
        let refusal = try await denied.finish()
        #expect(refusal.status == 1)
        #expect(refusal.stderr.contains("authorization was declined"), "\(refusal.stderr)")

        let expired = try await deviceLink(home, short, client: short.service.github.githubApp.id).finish()
        #expect(expired.status == 1)
        #expect(expired.stderr.contains("the code expired before it was approved; run the command again"), "\(expired.stderr)")
        #expect(try await accounts(BinaryRunner(home: home.path)).isEmpty)

        // A client the provider does not know is a rejection, in one line.
        let unknown = try await deviceLink(home, server, client: "Iv23liNobody").finish()
        #expect(unknown.status == 1 && unknown.stderr.contains("incorrect_client_credentials"), "\(unknown.stderr)")
    }

    @Test("--oauth: GitHub's code flow with PKCE and the scopes through the loopback callback; the secret is sent for the exchange")
    func codeFlow() async throws {
        let server = try await Self.sandbox(seed: 64)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let app = server.service.github.oauthApp
        let link = try OAuthLinkProcess(home: home.path, arguments: ["link", "github", "--oauth", "--api-url", server.github.apiURL, "--web-url", server.github.webURL,
                                                                     "--client-id", app.id, "--client-secret", app.secret, "--timeout", "60"])
        let authorize = try await link.line { $0.contains("/login/oauth/authorize?") }.trimmingCharacters(in: .whitespaces)
        #expect(authorize.hasPrefix(server.github.webURL + "/login/oauth/authorize?"))
        #expect(authorize.contains("code_challenge_method=S256") && authorize.contains("scope=repo%20read:org%20admin:repo_hook%20user:email"))
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let approval = try await transport.perform(HTTPRequest(url: authorize))
        #expect(approval.status == 302)
        #expect(try await transport.perform(HTTPRequest(url: try #require(approval.headers["Location"]))).status == 200)
        let result = try await link.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let account = try #require(try await accounts(BinaryRunner(home: home.path)).first)
        #expect(account["auth"] as? String == "oauth" && account["token_expires_at"] is NSNull)
        #expect(try tokenRequests(server)["authorization_code"] == 1)
        #expect(try filesContaining(app.secret, under: home.path).isEmpty)
    }
}
