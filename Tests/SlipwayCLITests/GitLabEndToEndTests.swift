import Foundation
import Testing
import SlipwayCore
import SlipwaySandbox

/// GitLab as a user links and mirrors it, through the binary against the sandbox's GitLab
/// personality: `link gitlab` with a personal access token, `sync --once` in one request per
/// projects page and per project, `ls gitlab/...` with nested groups resolved by the longest
/// workspace, a per-minute 429 that removes nothing, and a push delivered by webhook.
@Suite("GitLab end to end", .serialized, .timeLimit(.minutes(3)))
struct GitLabEndToEndTests {
    static func sandbox(seed: UInt64, workspaces: Int = 5, repos: Int = 2, branches: Int = 3,
                        configure: (inout SandboxOptions) -> Void = { _ in }) async throws -> SandboxServer {
        var options = SandboxOptions()
        options.seed = seed
        options.workspaces = workspaces
        options.reposPerWorkspace = repos
        options.branchesPerRepo = branches
        options.largeRepositories = false
        options.personalities = [.gitlab]
        configure(&options)
        return try await SandboxServer.start(options: options)
    }

    func link(_ runner: BinaryRunner, _ server: SandboxServer, token: String? = nil) async throws -> BinaryRunner.Result {
        try await runner.runAsync(["link", "gitlab", "--api-url", server.gitlab.apiURL, "--web-url", server.gitlab.webURL, "--token-file", "-"],
                                  stdin: (token ?? server.service.gitlab.token) + "\n")
    }

    func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test("link gitlab, sync --once, and ls shows every nested group, project and branch head exactly")
    func linkAndMirror() async throws {
        let server = try await Self.sandbox(seed: 41)
        defer { Task { await server.stop() } }
        let runner = BinaryRunner(home: TemporaryHome().path)
        let linked = try await link(runner, server)
        #expect(linked.status == 0 && linked.stderr.contains("linked gitlab as @sandbox-user (Sandbox User)") && !linked.stderr.contains("warning"),
                "\(linked.stderr)")
        let account = try #require((json(try await runner.runAsync(["accounts", "--json"]).stdout) as? [[String: Any]])?.first)
        #expect(account["provider"] as? String == "gitlab" && account["email"] as? String == "sandbox@example.com")
        #expect(account["scopes"] as? [String] == ["api", "read_api", "read_repository", "read_user"])

        let synced = try await runner.runAsync(["sync", "--once", "--json"])
        #expect(synced.status == 0, "\(synced.stderr)")
        // One keyset page of projects, then one branches page per project: no request per branch.
        let projects = server.service.repositoryNames(on: .gitlab)
        #expect((json(synced.stdout) as? [String: Any])?["requests"] as? Int == 1 + projects.count)

        let owners = try #require(json(try await runner.runAsync(["ls", "gitlab", "--json"]).stdout) as? [[String: Any]])
        #expect(Set(owners.compactMap { $0["workspace"] as? String }) == Set(server.service.workspaceSlugs(on: .gitlab)))
        #expect(owners.contains { $0["workspace"] as? String == "acme-corp/platform/infra" })
        for ws in server.service.workspaceSlugs(on: .gitlab) {
            let repositories = try #require(json(try await runner.runAsync(["ls", "gitlab/\(ws)", "--json"]).stdout) as? [[String: Any]])
            #expect(Set(repositories.compactMap { $0["repository"] as? String }) == Set(server.service.repositorySlugs(workspace: ws, on: .gitlab)), "\(ws)")
            for repository in repositories {
                let slug = repository["repository"] as! String
                let branches = try #require(json(try await runner.runAsync(["ls", "gitlab/\(ws)/\(slug)", "--json"]).stdout) as? [[String: Any]])
                var heads: [String: String] = [:]
                for branch in branches { heads[branch["branch"] as! String] = (branch["head"] as? [String: Any])?["hash"] as? String }
                #expect(heads == server.service.branches(workspace: ws, repository: slug, on: .gitlab), "gitlab/\(ws)/\(slug)")
                let head = try #require(branches.first?["head"] as? [String: Any])
                #expect((head["author"] as? String)?.contains("<") == true && head["date"] as? String != nil)
            }
        }
        // A nested group's project and a branch whose name holds '/': the longest workspace wins, the rest is the branch.
        let slug = try #require(server.service.repositorySlugs(workspace: "acme-corp/platform/infra", on: .gitlab).first)
        let heads = server.service.branches(workspace: "acme-corp/platform/infra", repository: slug, on: .gitlab)
        let branch = try #require(heads.keys.sorted().first { $0.contains("/") } ?? heads.keys.sorted().first)
        let commits = try #require(json(try await runner.runAsync(["ls", "gitlab/acme-corp/platform/infra/\(slug)/\(branch)", "--json"]).stdout) as? [[String: Any]])
        #expect(commits.first?["hash"] as? String == heads[branch] && commits.first?["workspace"] as? String == "acme-corp/platform/infra")
        #expect(commits.first?["branch"] as? String == branch)
    }

    @Test("a read-only token links with a warning about hooks and is refused one in a clear line; a wrong token is refused")
    func tokens() async throws {
        let server = try await Self.sandbox(seed: 42, workspaces: 1, repos: 1)
        defer { Task { await server.stop() } }
        let runner = BinaryRunner(home: TemporaryHome().path)
        let wrong = try await link(runner, server, token: "glpat-wrong")
        #expect(wrong.status == 1 && wrong.stderr.split(separator: "\n").count == 1 && wrong.stderr.contains("401"), "\(wrong.stderr)")
        let linked = try await link(runner, server, token: server.service.gitlab.readOnlyToken)
        #expect(linked.status == 0 && linked.stderr.contains("warning: the token lacks the api scope, so Slipway cannot install webhooks"), "\(linked.stderr)")
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        let slug = try #require(server.service.repositorySlugs(workspace: "sandbox-user", on: .gitlab).first)
        let refused = try await runner.runAsync(["webhooks", "install", "gitlab/sandbox-user/\(slug)", "--url", "http://127.0.0.1:9"])
        #expect(refused.status == 1 && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
    }

    @Test("GitLab's per-minute 429 (text/plain 'Retry later') pauses the account and removes nothing stored")
    func rateLimitRemovesNothing() async throws {
        let server = try await Self.sandbox(seed: 43, workspaces: 2, repos: 2)
        defer { Task { await server.stop() } }
        let runner = BinaryRunner(home: TemporaryHome().path)
        #expect(try await link(runner, server).status == 0)
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        let before = try await runner.runAsync(["ls", "gitlab/acme-corp", "--json"]).stdout
        // One request a minute, already spent.
        _ = server.service.respond(method: "POST", url: server.gitlab.origin + "/_sandbox/control", headers: [:],
                                   body: Data(#"{"rate_limits": {"gitlab": 60}, "reset_limits": true}"#.utf8), as: .gitlab)
        _ = server.service.respond(method: "GET", url: server.gitlab.apiURL + "/user", headers: ["PRIVATE-TOKEN": server.service.gitlab.token],
                                   body: Data(), as: .gitlab)
        // Hours of sweeps due at once: the git window is spent too.
        try runner.writeConfig("[providers.gitlab]\ngit_requests_per_hour = 1\n")
        let limited = try await runner.runAsync(["sync", "--once", "--deadline", "5", "--json"])
        #expect(limited.status == 3, "\(limited.status) \(limited.stderr)")
        let report = json(limited.stdout) as? [String: Any]
        #expect((report?["rate_limit"] as? [String: Any])?["gitlab"] != nil, "\(limited.stdout)")
        #expect(try await runner.runAsync(["ls", "gitlab/acme-corp", "--json"]).stdout == before)
        let account = try #require((json(try await runner.runAsync(["accounts", "--json"]).stdout) as? [[String: Any]])?.first)
        #expect(account["status"] as? String != "needs_relink")
    }

    @Test("install a GitLab hook; a push is delivered to the daemon, signed, and moves the head without a poll")
    func webhookDelivery() async throws {
        let server = try await Self.sandbox(seed: 44, workspaces: 1, repos: 2)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        #expect(try await link(runner, server).status == 0)
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        let slug = try #require(server.service.repositorySlugs(workspace: "sandbox-user", on: .gitlab).first)
        let path = "gitlab/sandbox-user/\(slug)"
        try runner.writeConfig("[webhooks]\nlisten = \"127.0.0.1:0\"\n[providers.gitlab]\ngit_requests_per_hour = 1\nrequests_per_minute = 1\n")
        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }
        let address = try #require(try await runner.webhookListener())
        let installed = try await runner.runAsync(["webhooks", "install", path, "--url", "http://\(address)"])
        #expect(installed.status == 0, "\(installed.stderr)")
        #expect(installed.stderr.contains("\(path) → http://\(address)/webhooks/gitlab"), "\(installed.stderr)")

        var push: SandboxPush?
        for _ in 0..<40 where push == nil {
            push = server.service.push(repository: "sandbox-user/\(slug)", on: .gitlab).flatMap { $0.kind == .commit ? $0 : nil }
        }
        let pushed = try #require(push)
        await server.service.webhooks.drain()
        #expect(server.service.webhooks.statistics.delivered == 1 && server.service.webhooks.statistics.failed == 0)
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
        // The sandbox plays GitLab 19: the hook got a signing token, so its signature proved the push.
        #expect(hook["proof"] as? String == "signature", "\(listed.stdout)")
    }

    @Test("an app built locally from a GitLab branch deploys; a real push is found by polling (no hook) and deployed")
    func pushDeploysByPolling() async throws {
        let server = try await Self.sandbox(seed: 45, workspaces: 1, repos: 1) { $0.demoRepositories = true }
        defer { Task { await server.stop() } }
        let runner = BinaryRunner(home: TemporaryHome().path)
        #expect(try await link(runner, server).status == 0)
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        try runner.writeConfig("[engine]\napp_poll_seconds = 1\n")
        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }
        let created = try await runner.runAsync(["apps", "create", "web", "--source", "gitlab/demo/hello-web", "--branch", "main",
                                                 "--build", "make", "--run", "./run.sh"])
        #expect(created.status == 0, "\(created.stderr)")
        let first = try await runner.newestDeployment(of: "web", count: 1, phase: "ACTIVE")
        #expect(first?["cause"] as? String == "app created", "\(first ?? [:])")
        let push = try #require(await server.service.pushDemo("hello-web", on: .gitlab))
        let pushed = try await runner.newestDeployment(of: "web", count: 2, phase: "ACTIVE")
        #expect(pushed?["commit"] as? String == push.new, "\(pushed ?? [:])")
        let logs = try await runner.runAsync(["logs", "\((pushed?["id"] as? Int) ?? 0)"])
        #expect(logs.stdout.contains("hello-web v3 is up"), "\(logs.stdout)")
    }
}
