import Foundation
import GRDB
import Testing
import SlipwayCore
import SlipwayHTTP
import SlipwaySandbox
import SlipwayTestSupport

/// OAuth linking and unattended refresh, through the real binary against the sandbox.
@Suite("OAuth: link by code or client credentials, refresh unattended", .timeLimit(.minutes(3)))
struct OAuthLinkTests {
    func sandbox(lifetime: Int = 7200) async throws -> SandboxServer {
        var options = SandboxOptions()
        options.seed = 51
        options.workspaces = 1
        options.reposPerWorkspace = 2
        options.branchesPerRepo = 3
        options.tokenLifetimeSeconds = lifetime
        return try await SandboxServer.start(options: options)
    }

    func post(_ server: SandboxServer, _ path: String, _ json: [String: Any]) async throws -> [String: Any] {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let response = try await transport.perform(HTTPRequest(method: .post, url: server.bitbucket.origin + path, body: try JSONSerialization.data(withJSONObject: json)))
        return try JSONSerialization.jsonObject(with: response.body) as? [String: Any] ?? [:]
    }

    func tokenRequests(_ server: SandboxServer) async throws -> [String: Int] {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let response = try await transport.perform(HTTPRequest(url: server.bitbucket.origin + "/_sandbox/stats"))
        return (try JSONSerialization.jsonObject(with: response.body) as? [String: Any])?["token_requests"] as? [String: Int] ?? [:]
    }

    func linkClientCredentials(_ runner: BinaryRunner, _ server: SandboxServer) async throws -> BinaryRunner.Result {
        try await runner.runAsync(["link", "bitbucket", "--client-credentials", "--api-url", server.bitbucket.apiURL, "--web-url", server.bitbucket.webURL,
                                   "--client-id", server.service.bitbucket.consumer.key, "--client-secret", "-"], stdin: server.service.bitbucket.consumer.secret + "\n")
    }

    func accounts(_ runner: BinaryRunner) async throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(try await runner.runAsync(["accounts", "--json"]).stdout.utf8)) as? [[String: Any]] ?? []
    }

    @Test("client credentials: linked, listed with expiry and scopes, synced")
    func clientCredentials() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        let linked = try await linkClientCredentials(runner, server)
        #expect(linked.status == 0, "\(linked.stderr)")
        let account = try #require(try await accounts(runner).first)
        #expect(account["auth"] as? String == "client_credentials")
        #expect(account["token_expires_at"] is String)
        #expect(account["scopes"] as? [String] == ["account", "email", "repository", "webhook", "pullrequest"])
        #expect(account["email"] as? String == server.service.email)
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        #expect(try await tokenRequests(server)["client_credentials"] == 1)
        for secret in [server.service.bitbucket.consumer.secret] {
            #expect(try filesContaining(secret, under: home.path).isEmpty)
        }
    }

    @Test("code flow through the loopback callback; a forged state is refused while the real callback completes")
    func codeFlowCallback() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let link = try OAuthLinkProcess(home: home.path, server: server)
        let authorize = try await link.authorizeURL()
        #expect(authorize.hasPrefix(server.bitbucket.webURL + "/site/oauth2/authorize?"))
        #expect(authorize.contains("code_challenge_method=S256"))
        let transport = CurlTransport()
        defer { transport.shutdown() }
        // The browser's part: the sandbox approves and redirects to the loopback listener.
        let approval = try await transport.perform(HTTPRequest(url: authorize))
        #expect(approval.status == 302)
        let redirect = try #require(approval.headers["Location"])
        var forged = try #require(URLComponents(string: redirect))
        forged.queryItems = forged.queryItems?.map { $0.name == "state" ? URLQueryItem(name: "state", value: "forged") : $0 }
        #expect(try await transport.perform(HTTPRequest(url: forged.string!)).status == 400)
        #expect(try await transport.perform(HTTPRequest(url: redirect)).status == 200)
        let result = try await link.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let account = try #require(try await accounts(BinaryRunner(home: home.path)).first)
        #expect(account["auth"] as? String == "oauth")
        #expect(try await tokenRequests(server)["authorization_code"] == 1)
        // No access token, refresh token or consumer secret in any file under the home.
        for needle in ["sbxoauth", "sbxrefresh", server.service.bitbucket.consumer.secret] {
            #expect(try filesContaining(needle, under: home.path).isEmpty, "\(needle) found on disk")
        }
    }

    @Test("the consumer's key and secret file can come from the config; a secret in the config itself is refused")
    func fromConfig() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
        let secretFile = home.path + "/consumer-secret"
        FileManager.default.createFile(atPath: secretFile, contents: Data((server.service.bitbucket.consumer.secret + "\n").utf8))
        chmod(secretFile, 0o644)
        try runner.writeConfig("[providers.bitbucket]\nclient_id = \"\(server.service.bitbucket.consumer.key)\"\nclient_secret_file = \"\(secretFile)\"\n")
        let args = ["link", "bitbucket", "--client-credentials", "--api-url", server.bitbucket.apiURL, "--web-url", server.bitbucket.webURL]
        let loose = try await runner.runAsync(args)
        #expect(loose.status == 1)
        #expect(loose.stderr.contains("chmod 600 \(secretFile)"))
        chmod(secretFile, 0o600)
        let linked = try await runner.runAsync(args)
        #expect(linked.status == 0, "\(linked.stderr)")
        try runner.writeConfig("[providers.bitbucket]\nclient_secret = \"oops\"\n")
        let refused = try await runner.runAsync(["status"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("client_secret_file"))
    }

    @Test("no authorization in time: a clear error and nothing saved")
    func timeout() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        let result = try await runner.runAsync(["link", "bitbucket", "--oauth", "--api-url", server.bitbucket.apiURL, "--web-url", server.bitbucket.webURL,
                                                "--client-id", server.service.bitbucket.consumer.key, "--client-secret", server.service.bitbucket.consumer.secret,
                                                "--timeout", "1"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no authorization arrived in time"))
        #expect(try await accounts(runner).isEmpty)
    }

    @Test("code flow by pasting the redirected URL (ssh, browser elsewhere)")
    func codeFlowPasted() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let link = try OAuthLinkProcess(home: home.path, server: server)
        let authorize = try await link.authorizeURL()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let redirect = try #require(try await transport.perform(HTTPRequest(url: authorize)).headers["Location"])
        link.type("not-a-url !\n")   // a bad paste is reported, and the wait goes on
        link.type(redirect + "\n")
        let result = try await link.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("neither the redirected URL nor a code"))
        #expect(try await accounts(BinaryRunner(home: home.path)).first?["auth"] as? String == "oauth")
    }

    /// Long enough that a sync on a loaded machine finishes within one token's lifetime (a
    /// shorter one expired mid-sync under load and refreshed twice).
    static let shortLifetime = 5

    @Test("tokens refresh before expiry, rotating each time, and syncs go on across expiry")
    func refreshRotation() async throws {
        let (server, home, runner) = try await linkedByCodeFlow(lifetime: Self.shortLifetime)
        defer { withExtendedLifetime(home) {} }   // its deinit removes the home the binary uses
        defer { Task { await server.stop() } }
        for round in 1...2 {
            try await Task.sleep(nanoseconds: UInt64(Self.shortLifetime) * 1_000_000_000 + 100_000_000)   // the sandbox's tokens really expire
            let sync = try await runner.runAsync(["sync", "--once", "--json"])
            #expect(sync.status == 0, "round \(round): \(sync.stderr)")
            #expect(try await tokenRequests(server)["refresh_token"] == round)
        }
        #expect(try await accounts(runner).first?["status"] as? String == "ok")
    }

    @Test("each refresh asks for the e-mail again: a grant that lost the email scope clears it, and nothing fails")
    func emailOnRefresh() async throws {
        let server = try await sandbox(lifetime: Self.shortLifetime)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        #expect(try await linkClientCredentials(runner, server).status == 0)
        #expect(try await accounts(runner).first?["email"] as? String == server.service.email)
        _ = try await post(server, "/_sandbox/control", ["oauth_scopes": ["account", "repository", "webhook"]])
        try await Task.sleep(nanoseconds: UInt64(Self.shortLifetime) * 1_000_000_000 + 100_000_000)   // the token really expires
        let sync = try await runner.runAsync(["sync", "--once"])
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(try await tokenRequests(server)["client_credentials"] == 2)
        let account = try #require(try await accounts(runner).first)
        #expect(account["email"] is NSNull)
        #expect(account["status"] as? String == "ok")
    }

    @Test("a 401 'Access token expired' mid-sync refreshes once and continues")
    func refreshOn401() async throws {
        let (server, home, runner) = try await linkedByCodeFlow(lifetime: Self.shortLifetime)
        defer { withExtendedLifetime(home) {} }   // its deinit removes the home the binary uses
        defer { Task { await server.stop() } }
        // Forget when to refresh, so only the provider's 401 can tell.
        let store = try Store(path: home.path + "/slipway.db")
        try store.write { db in try db.execute(sql: "UPDATE accounts SET token_refresh_at = NULL") }
        try await Task.sleep(nanoseconds: UInt64(Self.shortLifetime) * 1_000_000_000 + 100_000_000)
        let sync = try await runner.runAsync(["sync", "--once"])
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(try await tokenRequests(server)["refresh_token"] == 1)
    }

    @Test("two processes refreshing at once spend the refresh token once")
    func singleFlightAcrossProcesses() async throws {
        // Tokens live 6 s (stale at 4.8 s): long enough that a loaded machine does not make the
        // second process find the refreshed token stale again.
        let (server, home, runner) = try await linkedByCodeFlow(lifetime: 6)
        defer { withExtendedLifetime(home) {} }   // its deinit removes the home the binary uses
        defer { Task { await server.stop() } }
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        let ws = server.service.workspaceSlugs()[0]
        let repo = server.service.repositorySlugs(workspace: ws)[0]
        let main = server.service.branches(workspace: ws, repository: repo).keys.first { $0 == "main" || $0 == "master" }!
        // A loaded machine may have made the sync itself refresh: what counts is what the two spend.
        let before = try await tokenRequests(server)["refresh_token"] ?? 0
        try await Task.sleep(nanoseconds: 5_000_000_000)
        // Two processes open the same branch at once; both find the token stale.
        async let a = runner.runAsync(["ls", "bitbucket/\(ws)/\(repo)/\(main)", "--json"])
        async let b = runner.runAsync(["ls", "bitbucket/\(ws)/\(repo)/\(main)", "--json"])
        let (first, second) = try await (a, b)
        #expect(first.status == 0 && second.status == 0)
        #expect(!first.stderr.contains("failed") && !second.stderr.contains("failed"), "\(first.stderr) \(second.stderr)")
        #expect(try await tokenRequests(server)["refresh_token"] == before + 1)
    }

    @Test("a revoked grant marks the account needs_relink, keeps its data and says how to relink")
    func revoked() async throws {
        let (server, home, runner) = try await linkedByCodeFlow(lifetime: 2)
        defer { withExtendedLifetime(home) {} }   // its deinit removes the home the binary uses
        defer { Task { await server.stop() } }
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        _ = try await post(server, "/_sandbox/control", ["revoke_tokens": true])
        try await Task.sleep(nanoseconds: 2_100_000_000)
        let sync = try await runner.runAsync(["sync", "--once"])
        #expect(sync.status == 1)
        #expect(sync.stderr.contains("needs relinking"))
        #expect(sync.stderr.contains("slipway link bitbucket --relink"))
        #expect(try await accounts(runner).first?["status"] as? String == "needs_relink")
        let workspaces = try JSONSerialization.jsonObject(with: Data(try await runner.runAsync(["ls", "bitbucket", "--json"]).stdout.utf8)) as? [Any]
        #expect(workspaces?.isEmpty == false)
    }

    /// A sandbox whose tokens live `lifetime` seconds, and a home linked to it by the code flow.
    @Test("with --client-secret - the secret comes from stdin and the redirected URL is pasted at the terminal")
    func pastedAtTerminalAfterStdinSecret() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let tmux = try TmuxSession(width: 400, height: 30, environment: ["SLIPWAY_HOME": home.path, "HOME": home.path, "LANG": "C.UTF-8"])
        try tmux.type("printf '%s\\n' '\(server.service.bitbucket.consumer.secret)' | '\(BinaryRunner.binary)' link bitbucket --oauth --api-url \(server.bitbucket.apiURL) "
                      + "--web-url \(server.bitbucket.webURL) --client-id \(server.service.bitbucket.consumer.key) --client-secret - --timeout 60")
        let (asked, screen) = try await tmux.waitFor("or paste the URL the browser was sent to")
        #expect(asked, "\(screen)")
        let authorize = try #require(screen.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.contains("/site/oauth2/authorize?") }.map(String.init))
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let redirect = try #require(try await transport.perform(HTTPRequest(url: authorize)).headers["Location"])
        try tmux.type(redirect)
        let (linked, after) = try await tmux.waitFor("through OAuth")
        #expect(linked, "\(after)")
    }

    func linkedByCodeFlow(lifetime: Int) async throws -> (SandboxServer, TemporaryHome, BinaryRunner) {
        let server = try await sandbox(lifetime: lifetime)
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        let linked = try await linkByCodeFlow(runner, server, home: home)
        #expect(linked.status == 0, "\(linked.stderr)")
        return (server, home, runner)
    }

    /// An OAuth-code account (with a refresh token) linked without a browser: the test plays the browser.
    func linkByCodeFlow(_ runner: BinaryRunner, _ server: SandboxServer, home: TemporaryHome) async throws -> BinaryRunner.Result {
        let link = try OAuthLinkProcess(home: home.path, server: server)
        let authorize = try await link.authorizeURL()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let redirect = try #require(try await transport.perform(HTTPRequest(url: authorize)).headers["Location"])
        _ = try await transport.perform(HTTPRequest(url: redirect))
        return try await link.finish()
    }
}

/// `slipway link bitbucket --oauth` running in the background, as a user at a terminal would see it.
final class OAuthLinkProcess: @unchecked Sendable {
    let process = Process()
    let input = Pipe(), output = Pipe(), errors = Pipe()
    private let lock = NSLock()
    private var stderrText = ""
    private var stdoutText = ""

    convenience init(home: String, server: SandboxServer) throws {
        try self.init(home: home, arguments: ["link", "bitbucket", "--oauth", "--api-url", server.bitbucket.apiURL, "--web-url", server.bitbucket.webURL,
                                              "--client-id", server.service.bitbucket.consumer.key, "--client-secret", server.service.bitbucket.consumer.secret,
                                              "--timeout", "60"])
    }

    /// Any `link` that waits for a person (code or device flow), its output read as it comes.
    init(home: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: BinaryRunner.binary)
        process.arguments = arguments
        process.environment = BinaryRunner(home: home).environment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.stderrText += String(decoding: data, as: UTF8.self) }
        }
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.stdoutText += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    var stderr: String { lock.withLock { stderrText } }
    var stdout: String { lock.withLock { stdoutText } }

    /// The first line of stdout or stderr that satisfies `match`, once printed.
    func line(onStdout: Bool = false, _ match: (Substring) -> Bool) async throws -> String {
        for _ in 0..<1000 {
            if let line = (onStdout ? stdout : stderr).split(separator: "\n").first(where: match) { return String(line) }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        throw HarnessFailure("nothing matching was printed: \(stderr)")
    }

    /// The authorize URL the command printed.
    func authorizeURL() async throws -> String {
        for _ in 0..<500 {
            if let line = stderr.split(separator: "\n").first(where: { $0.contains("/site/oauth2/authorize?") }) {
                return line.trimmingCharacters(in: .whitespaces)
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        throw HarnessFailure("no authorize URL printed: \(stderr)")
    }

    func type(_ text: String) {
        input.fileHandleForWriting.write(Data(text.utf8))
    }

    func finish() async throws -> BinaryRunner.Result {
        guard await eventually(within: 60, { !process.isRunning }) else { process.terminate(); throw HarnessFailure("the link command did not end: \(stderr)") }
        errors.fileHandleForReading.readabilityHandler = nil
        output.fileHandleForReading.readabilityHandler = nil
        let rest = errors.fileHandleForReading.readDataToEndOfFile()
        let restOut = output.fileHandleForReading.readDataToEndOfFile()
        lock.withLock {
            stderrText += String(decoding: rest, as: UTF8.self)
            stdoutText += String(decoding: restOut, as: UTF8.self)
        }
        return BinaryRunner.Result(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }
}

struct HarnessFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
