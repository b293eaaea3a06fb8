import Foundation
import Testing
import SlipwayCore
import SlipwaySandbox
import SlipwayTestSupport

/// GitHub as a user links and mirrors it, through the binary against the sandbox's GitHub
/// personality: `link github` with a classic or fine-grained token, `sync --once` by GraphQL in a
/// handful of requests, `ls github/...` with every owner, repository and branch head exactly;
/// a push delivered by webhook to the daemon; a rate limit that removes nothing.
@Suite("GitHub end to end", .serialized, .timeLimit(.minutes(3)))
struct GitHubEndToEndTests {
    static func sandbox(seed: UInt64, workspaces: Int = 4, repos: Int = 3, branches: Int = 3, large: Bool = false,
                        configure: (inout SandboxOptions) -> Void = { _ in }) async throws -> SandboxServer {
        var options = SandboxOptions()
        options.seed = seed
        options.workspaces = workspaces
        options.reposPerWorkspace = repos
        options.branchesPerRepo = branches
        options.largeRepositories = large
        options.personalities = [.github]
        configure(&options)
        return try await SandboxServer.start(options: options)
    }

    func link(_ runner: BinaryRunner, _ server: SandboxServer, token: String? = nil) async throws -> BinaryRunner.Result {
        try await runner.runAsync(["link", "github", "--api-url", server.github.apiURL, "--web-url", server.github.webURL, "--token-file", "-"],
                                  stdin: (token ?? server.service.github.classicToken) + "\n")
    }

    func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    func requests(_ server: SandboxServer) async throws -> [String: Int] {
        let stats = server.service.respond(method: "GET", url: server.github.origin + "/_sandbox/stats", headers: [:], body: Data(), as: .github)
        return ((try JSONSerialization.jsonObject(with: stats.body) as? [String: Any])?["requests_by_kind"] as? [String: Int]) ?? [:]
    }

    @Test("link github, sync --once by GraphQL, and ls shows every owner, repository and branch head exactly")
    func linkAndMirror() async throws {
        let server = try await Self.sandbox(seed: 21, large: true)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        let linked = try await link(runner, server)
        #expect(linked.status == 0 && linked.stderr.contains("linked github as @sandbox-user (Sandbox User)"), "\(linked.stderr)")
        let accounts = try #require(json(try await runner.runAsync(["accounts", "--json"]).stdout) as? [[String: Any]])
        #expect(accounts.first?["provider"] as? String == "github" && accounts.first?["email"] as? String == "sandbox@example.com")
        #expect(accounts.first?["scopes"] as? [String] == ["admin:repo_hook", "read:org", "repo", "user:email"])
        let before = try await requests(server)

        let synced = try await runner.runAsync(["sync", "--once", "--json"])
        #expect(synced.status == 0, "\(synced.stderr)")
        let report = try #require(json(synced.stdout) as? [String: Any])
        let after = try await requests(server)
        // One listing query for all 12 repositories, and one more per repository past 100 branches.
        let large = server.service.workspaceSlugs(on: .github).flatMap { ws in
            server.service.repositorySlugs(workspace: ws, on: .github).filter { server.service.branches(workspace: ws, repository: $0, on: .github).count > 100 }
        }
        #expect((after["graphql"] ?? 0) - (before["graphql"] ?? 0) == 1 + large.count)
        #expect((after["rest"] ?? 0) == (before["rest"] ?? 0), "the sync spent REST requests")
        #expect(report["requests"] as? Int == 1 + large.count)

        let owners = try #require(json(try await runner.runAsync(["ls", "github", "--json"]).stdout) as? [[String: Any]])
        #expect(Set(owners.compactMap { $0["workspace"] as? String }) == Set(server.service.workspaceSlugs(on: .github)))
        for ws in server.service.workspaceSlugs(on: .github) {
            let repositories = try #require(json(try await runner.runAsync(["ls", "github/\(ws)", "--json"]).stdout) as? [[String: Any]])
            #expect(Set(repositories.compactMap { $0["repository"] as? String }) == Set(server.service.repositorySlugs(workspace: ws, on: .github)))
            for repository in repositories {
                let slug = repository["repository"] as! String
                let branches = try #require(json(try await runner.runAsync(["ls", "github/\(ws)/\(slug)", "--json"]).stdout) as? [[String: Any]])
                var heads: [String: String] = [:]
                for branch in branches { heads[branch["branch"] as! String] = (branch["head"] as? [String: Any])?["hash"] as? String }
                #expect(heads == server.service.branches(workspace: ws, repository: slug, on: .github), "github/\(ws)/\(slug)")
                let head = try #require(branches.first?["head"] as? [String: Any])
                #expect((head["author"] as? String)?.contains("<") == true && head["date"] as? String != nil && head["message"] as? String != nil)
            }
        }
        // Admin rights come from the viewer's permission; the collaborator's repositories are not the user's to administer.
        let friend = try #require(json(try await runner.runAsync(["ls", "github/octo-friend", "--json"]).stdout) as? [[String: Any]])
        #expect(!friend.isEmpty && friend.allSatisfy { $0["is_admin"] as? Bool == false })

        // A branch's commits on demand, by REST.
        let ws = "sandbox-user"
        let slug = try #require(server.service.repositorySlugs(workspace: ws, on: .github).first)
        let main = try #require(server.service.branches(workspace: ws, repository: slug, on: .github).keys.first { $0 == "main" || $0 == "master" })
        let commits = try #require(json(try await runner.runAsync(["ls", "github/\(ws)/\(slug)/\(main)", "--json"]).stdout) as? [[String: Any]])
        #expect(commits.first?["hash"] as? String == server.service.branches(workspace: ws, repository: slug, on: .github)[main])
    }

    @Test("a fine-grained token links without warnings, one lacking permissions with a warning for each; a wrong token is refused in one line")
    func tokens() async throws {
        let server = try await Self.sandbox(seed: 22, workspaces: 1, repos: 1)
        defer { Task { await server.stop() } }
        let runner = BinaryRunner(home: TemporaryHome().path)
        let wrong = try await link(runner, server, token: "ghp_wrong")
        #expect(wrong.status == 1 && wrong.stderr.split(separator: "\n").count == 1, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("Bad credentials"), "\(wrong.stderr)")
        let fine = try await link(runner, server, token: server.service.github.fineGrainedToken)
        #expect(fine.status == 0 && !fine.stderr.contains("lacks") && !fine.stderr.contains("warning"), "\(fine.stderr)")
        let accounts = try #require(json(try await runner.runAsync(["accounts", "--json"]).stdout) as? [[String: Any]])
        #expect(accounts.first?["scopes"] as? [String] == [])

        // Fine-grained tokens state no scopes: what they may do is asked of the API at link time.
        let limited = BinaryRunner(home: TemporaryHome().path)
        let linked = try await link(limited, server, token: server.service.github.limitedFineGrainedToken)
        #expect(linked.status == 0, "\(linked.stderr)")
        #expect(linked.stderr.contains("warning: the token cannot read your e-mail addresses; grant Account permissions → Email addresses: read"), "\(linked.stderr)")
        #expect(linked.stderr.contains("warning: the token cannot manage webhooks; grant Repository permissions → Webhooks: read and write"), "\(linked.stderr)")
        #expect(!linked.stderr.contains("contents"), "\(linked.stderr)")
        let limitedAccount = try #require((json(try await limited.runAsync(["accounts", "--json"]).stdout) as? [[String: Any]])?.first)
        #expect(limitedAccount["email"] is NSNull)
    }

    @Test("GitHub's rate limit (403, remaining 0) pauses the account and removes nothing stored")
    func rateLimitRemovesNothing() async throws {
        let server = try await Self.sandbox(seed: 23, workspaces: 2, repos: 2)
        defer { Task { await server.stop() } }
        let runner = BinaryRunner(home: TemporaryHome().path)
        #expect(try await link(runner, server).status == 0)
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        let before = try await runner.runAsync(["ls", "github/sandbox-user", "--json"]).stdout
        // Every further request is over the limit.
        _ = server.service.respond(method: "POST", url: server.github.origin + "/_sandbox/control", headers: [:],
                                   body: Data(#"{"rate_limits": {"github": 1}, "reset_limits": true}"#.utf8), as: .github)
        let auth = ["Authorization": "Bearer \(server.service.github.classicToken)"]
        _ = server.service.respond(method: "GET", url: server.github.apiURL + "/user", headers: auth, body: Data(), as: .github)
        // GraphQL's window is its own: one point spends it (charged before the query would run).
        _ = server.service.respond(method: "POST", url: server.github.origin + "/api/graphql", headers: auth,
                                   body: Data(#"{"query": "{ viewer { login } }"}"#.utf8), as: .github)
        let limited = try await runner.runAsync(["sync", "--once", "--deadline", "5", "--json"])
        #expect(limited.status == 3, "\(limited.status) \(limited.stderr)")
        #expect(try await runner.runAsync(["ls", "github/sandbox-user", "--json"]).stdout == before)
        let accounts = try #require(json(try await runner.runAsync(["accounts", "--json"]).stdout) as? [[String: Any]])
        #expect(accounts.first?["status"] as? String != "needs_relink")
    }

    @Test("install a GitHub hook; a push is delivered signed to the daemon and moves the head without a poll")
    func webhookDelivery() async throws {
        let server = try await Self.sandbox(seed: 24, workspaces: 1, repos: 2)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        #expect(try await link(runner, server).status == 0)
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        let slug = try #require(server.service.repositorySlugs(workspace: "sandbox-user", on: .github).first)
        let path = "github/sandbox-user/\(slug)"
        try runner.writeConfig("[webhooks]\nlisten = \"127.0.0.1:0\"\n[providers.github]\ngit_requests_per_hour = 1\nrequests_per_hour = 1\ngraphql_points_per_hour = 1\n")
        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }
        let address = try #require(try await runner.webhookListener())
        let installed = try await runner.runAsync(["webhooks", "install", path, "--url", "http://\(address)"])
        #expect(installed.status == 0, "\(installed.stderr)")
        #expect(installed.stderr.contains("\(path) → http://\(address)/webhooks/github"), "\(installed.stderr)")
        await server.service.webhooks.drain()   // the ping, sent as the hook is created, verifies
        #expect(server.service.webhooks.statistics.failed == 0)

        var push: SandboxPush?
        for _ in 0..<40 where push == nil {
            let attempt = server.service.push(repository: "sandbox-user/\(slug)", on: .github)
            if attempt?.kind == .commit { push = attempt }
        }
        let pushed = try #require(push)
        await server.service.webhooks.drain()
        var head: String?
        for _ in 0..<100 {
            let branches = json(try await runner.runAsync(["ls", path, "--json"]).stdout) as? [[String: Any]] ?? []
            head = (branches.first { $0["branch"] as? String == pushed.branch }?["head"] as? [String: Any])?["hash"] as? String
            if head == pushed.new { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(head == pushed.new, "the delivered head never arrived")
        let listed = try await runner.runAsync(["webhooks", "list", path, "--json"])
        let hook = try #require((json(listed.stdout) as? [[String: Any]])?.first)
        #expect(hook["state"] as? String == "delivering" && hook["healthy"] as? Bool == true, "\(listed.stdout)")
    }

    @Test("w in the dashboard installs Slipway's hook on a GitHub repository; its pushes then arrive by delivery")
    func dashboardWebhook() async throws {
        let server = try await Self.sandbox(seed: 25, workspaces: 1, repos: 2)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        #expect(try await link(runner, server).status == 0)
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        let slugs = server.service.repositorySlugs(workspace: "sandbox-user", on: .github).sorted()
        let slug = try #require(slugs.first)
        // The embedded engine's receiver, at a port the hook can be told.
        try runner.writeConfig("[webhooks]\nlisten = \"127.0.0.1:\(freeLoopbackPort())\"\n")
        let tmux = try TmuxSession(width: 120, height: 40, environment: ["SLIPWAY_HOME": home.path, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": home.path])
        try tmux.type("\(BinaryRunner.binary); echo \"EXITED $?\"")
        var (ok, screen) = try await tmux.waitFor("engine: here")
        #expect(ok, "\(screen)")
        // The only workspace is the user's; into its repositories, the first one selected.
        try tmux.press("Enter")
        (ok, screen) = try await tmux.waitFor { $0.contains("HOOK") && $0.contains(slug) }
        #expect(ok, "\(screen)")
        try tmux.press("w")
        (ok, screen) = try await tmux.waitFor("Install Slipway's push webhook on github/sandbox-user/\(slug)? y/n")
        #expect(ok, "\(screen)")
        try tmux.press("y")
        (ok, screen) = try await tmux.waitFor { $0.contains("installed; deliveries go to") }
        #expect(ok, "\(screen)")
        let listed = try await runner.runAsync(["webhooks", "list", "github/sandbox-user/\(slug)", "--json"])
        let hook = try #require((json(listed.stdout) as? [[String: Any]])?.first, "\(listed.stdout) \(listed.stderr)")
        #expect((hook["url"] as? String)?.hasSuffix("/webhooks/github") == true, "\(hook)")
        await server.service.webhooks.drain()   // the ping, sent as the hook is created, verifies
        #expect(server.service.webhooks.statistics.delivered == 1 && server.service.webhooks.statistics.failed == 0)

        var push: SandboxPush?
        for _ in 0..<40 where push == nil {
            push = server.service.push(repository: "sandbox-user/\(slug)", on: .github).flatMap { $0.kind == .commit ? $0 : nil }
        }
        let pushed = try #require(push)
        await server.service.webhooks.drain()
        #expect(server.service.webhooks.statistics.failed == 0)
        var head: String?
        for _ in 0..<100 {
            let branches = json(try await runner.runAsync(["ls", "github/sandbox-user/\(slug)", "--json"]).stdout) as? [[String: Any]] ?? []
            head = (branches.first { $0["branch"] as? String == pushed.branch }?["head"] as? [String: Any])?["hash"] as? String
            if head == pushed.new { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(head == pushed.new, "the delivered head never arrived")
        try tmux.press("q")
        #expect(try await tmux.waitFor("EXITED 0").0)
    }

    @Test("an app built locally from a GitHub branch deploys; a real push is found by polling (no hook) and deployed")
    func pushDeploysByPolling() async throws {
        let server = try await Self.sandbox(seed: 25, workspaces: 1, repos: 1) { $0.demoRepositories = true }
        defer { Task { await server.stop() } }
        let runner = BinaryRunner(home: TemporaryHome().path)
        #expect(try await link(runner, server).status == 0)
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        try runner.writeConfig("[engine]\napp_poll_seconds = 1\n")
        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }
        let created = try await runner.runAsync(["apps", "create", "web", "--source", "github/demo/hello-web", "--branch", "main",
                                                 "--build", "make", "--run", "./run.sh"])
        #expect(created.status == 0, "\(created.stderr)")
        let first = try await runner.newestDeployment(of: "web", count: 1, phase: "ACTIVE")
        #expect(first?["cause"] as? String == "app created", "\(first ?? [:])")
        let push = try #require(await server.service.pushDemo("hello-web", on: .github))
        let pushed = try await runner.newestDeployment(of: "web", count: 2, phase: "ACTIVE")
        #expect(pushed?["commit"] as? String == push.new, "\(pushed ?? [:])")
        let logs = try await runner.runAsync(["logs", "\((pushed?["id"] as? Int) ?? 0)"])
        #expect(logs.stdout.contains("hello-web v3 is up"), "\(logs.stdout)")
    }
}
