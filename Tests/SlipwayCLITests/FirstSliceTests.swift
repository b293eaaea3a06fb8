import Foundation
import Testing
import SlipwayCore
import SlipwayHTTP
import SlipwaySandbox

/// The first slice end to end: the real binary links to an in-process sandbox, mirrors it, lists
/// it and unlinks, as a user would.
@Suite("link, sync, ls, unlink against the sandbox", .timeLimit(.minutes(3)))
struct FirstSliceTests {
    func sandbox(_ configure: (inout SandboxOptions) -> Void = { _ in }) async throws -> SandboxServer {
        var options = SandboxOptions()
        options.seed = 21
        options.workspaces = 2
        options.reposPerWorkspace = 5
        options.branchesPerRepo = 5
        configure(&options)
        return try await SandboxServer.start(options: options)
    }

    func link(_ runner: BinaryRunner, _ server: SandboxServer) async throws -> BinaryRunner.Result {
        try await runner.runAsync(["link", "bitbucket", "--api-url", server.bitbucket.apiURL, "--web-url", server.bitbucket.webURL, "--token-file", "-"],
                       stdin: server.service.bitbucket.accessToken + "\n")
    }

    func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test("link with a token on stdin, sync, list everything the sandbox has, see changes, unlink")
    func endToEnd() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)

        let linked = try await link(runner, server)
        #expect(linked.status == 0, "\(linked.stderr)")
        #expect(linked.stderr.contains("linked bitbucket as @sandbox-user"))

        let accounts = try json(try await runner.runAsync(["accounts", "--json"]).stdout) as? [[String: Any]]
        #expect(accounts?.first?["username"] as? String == "sandbox-user")
        #expect(accounts?.first?["api_url"] as? String == server.bitbucket.apiURL)
        #expect(accounts?.first?["auth"] as? String == "token")
        #expect(accounts?.first?["kind"] as? String == "git")
        #expect(accounts?.first?["email"] as? String == server.service.email)

        // The one-account rule, before any request.
        let again = try await link(runner, server)
        #expect(again.status == 1)
        #expect(again.stderr == "slipway: bitbucket is already linked as @sandbox-user; run 'slipway unlink bitbucket' first\n")

        let first = try await runner.runAsync(["sync", "--once", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let report = try #require(try json(first.stdout) as? [String: Any])
        #expect((report["errors"] as? [Any])?.isEmpty == true)
        #expect(report["rate_limit"] as? [String: Any] != nil)
        #expect((report["requests"] as? Int ?? 0) > 0)

        // Every workspace (with its name), repository and branch head the sandbox has.
        let workspaces = try json(try await runner.runAsync(["ls", "bitbucket", "--json"]).stdout) as? [[String: Any]] ?? []
        #expect(workspaces.compactMap { $0["name"] as? String }.sorted() == server.service.workspaceSlugs().sorted())
        #expect(workspaces.allSatisfy { ($0["display_name"] as? String)?.isEmpty == false })
        #expect(workspaces.allSatisfy { $0["workspace"] as? String == $0["name"] as? String && $0["repository"] is NSNull && $0["branch"] is NSNull })
        for ws in server.service.workspaceSlugs() {
            let repos = try json(try await runner.runAsync(["ls", "bitbucket/\(ws)", "--json"]).stdout) as? [[String: Any]] ?? []
            #expect(Set(repos.compactMap { $0["name"] as? String }) == Set(server.service.repositorySlugs(workspace: ws)))
            for repo in server.service.repositorySlugs(workspace: ws) {
                let branches = try json(try await runner.runAsync(["ls", "bitbucket/\(ws)/\(repo)", "--json"]).stdout) as? [[String: Any]] ?? []
                var heads: [String: String] = [:]
                for b in branches { heads[b["name"] as! String] = (b["head"] as? [String: Any])?["hash"] as? String }
                #expect(heads == server.service.branches(workspace: ws, repository: repo), "\(ws)/\(repo)")
                // Each item names its parts apart from the path.
                #expect(branches.allSatisfy { $0["provider"] as? String == "bitbucket" && $0["workspace"] as? String == ws && $0["repository"] as? String == repo
                        && $0["branch"] as? String == $0["name"] as? String && $0["path"] as? String == "bitbucket/\(ws)/\(repo)/\($0["name"] as? String ?? "")" })
            }
        }

        // Pushes, then a second cycle reports exactly what moved.
        let pushes = server.service.push(count: 6)
        let second = try await runner.runAsync(["sync", "--once", "--json"])
        let changes = (try json(second.stdout) as? [String: Any])?["changes"] as? [[String: Any]] ?? []
        var expected = Set<String>()
        for push in pushes {
            switch push.kind {
            case .commit: expected.insert("head_moved bitbucket/\(push.repository)/\(push.branch)")
            case .branchCreated: expected.insert("branch_created bitbucket/\(push.repository)/\(push.branch)")
            case .branchDeleted: expected.insert("branch_deleted bitbucket/\(push.repository)/\(push.branch)")
            }
        }
        let reported = Set(changes.map { "\($0["kind"] as! String) \($0["path"] as! String)" })
        // A branch created and then pushed to within one cycle is simply "created".
        #expect(reported.isSubset(of: expected.union(expected.compactMap { $0.hasPrefix("head_moved") ? "branch_created" + $0.dropFirst("head_moved".count) : nil })))
        #expect(!reported.isEmpty)

        // Text output sanitizes hostile commit messages.
        let text = try await runner.runAsync(["ls", "bitbucket/\(server.service.workspaceSlugs()[0])/\(server.service.repositorySlugs(workspace: server.service.workspaceSlugs()[0])[0])"])
        #expect(!text.stdout.contains("\u{1B}") && !text.stdout.contains("\r"))

        // The token is nowhere on disk.
        #expect(try filesContaining(server.service.bitbucket.accessToken, under: home.path).isEmpty)

        let unlinked = try await runner.runAsync(["unlink", "bitbucket", "--yes"])
        #expect(unlinked.status == 0)
        #expect(try await runner.runAsync(["ls", "--json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        #expect(try await runner.runAsync(["ls", "bitbucket"]).status == 1)
    }

    @Test("a workspace with 120 repositories and a repository with 130 branches are mirrored exactly")
    func scale() async throws {
        let server = try await sandbox { $0.workspaces = 1; $0.reposPerWorkspace = 120 }
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        #expect(try await link(runner, server).status == 0)
        let sync = try await runner.runAsync(["sync", "--once", "--json"])
        #expect(sync.status == 0, "\(sync.stderr)")
        let ws = server.service.workspaceSlugs()[0]
        let repos = try json(try await runner.runAsync(["ls", "bitbucket/\(ws)", "--json"]).stdout) as? [[String: Any]] ?? []
        #expect(repos.count == 120)
        let big = server.service.repositorySlugs(workspace: ws)[3]
        let branches = try json(try await runner.runAsync(["ls", "bitbucket/\(ws)/\(big)", "--json"]).stdout) as? [[String: Any]] ?? []
        #expect(branches.count == 130)
        var heads: [String: String] = [:]
        for b in branches { heads[b["name"] as! String] = (b["head"] as? [String: Any])?["hash"] as? String }
        #expect(heads == server.service.branches(workspace: ws, repository: big))
        // Step 0's cost: the workspace listing, the workspace, the repository pages (all and
        // admin), and per repository one branch page per 100 branches — nothing else.
        let requests = (try json(sync.stdout) as? [String: Any])?["requests"] as? Int
        let stats = try await sandboxStats(server)
        let byPath = try #require(stats["requests_by_path"] as? [String: Int])
        let bigOnes = (0..<120).filter { $0 % 7 == 3 }.count
        #expect(byPath["/2.0/repositories/{workspace}/{repo}/refs/branches"] == 120 + bigOnes)
        #expect(byPath["/2.0/user/workspaces"] == 1)
        #expect(byPath["/2.0/workspaces/{workspace}"] == 1)
        #expect(byPath.keys.filter { $0.hasPrefix("/2.0/repositories/{workspace}/{repo}") }.count == 1)
        #expect((stats["requests_by_kind"] as? [String: Int])?["rest"] == requests.map { $0 + 2 })   // + the link's /user and /user/emails
    }

    @Test("a 429 pauses the credential: the sync stops within its deadline with exit 3 and keeps what it stored")
    func rateLimitedDeadline() async throws {
        // API tokens get no X-RateLimit headers, so the sandbox's 429 is the first word of the limit.
        let server = try await sandbox { $0.rateLimitPerHour = 12 }
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        let linked = try await runner.runAsync(["link", "bitbucket", "--api-url", server.bitbucket.apiURL, "--web-url", server.bitbucket.webURL,
                                                "--email", server.service.email, "--api-token", server.service.bitbucket.apiToken])
        #expect(linked.status == 0)
        let started = Date()
        let sync = try await runner.runAsync(["sync", "--once", "--json", "--deadline", "3"])
        #expect(sync.status == 3, "\(sync.stderr)")
        #expect(Date().timeIntervalSince(started) < 15)
        let report = try #require(try json(sync.stdout) as? [String: Any])
        let resume = try #require(report["resume_at"] as? String)
        #expect(JSONOutput.parseTimestamp(resume).map { $0.timeIntervalSinceNow > 50 } == true)   // at least the 60 s pause
        let limit = (report["rate_limit"] as? [String: Any])?["bitbucket"] as? [String: Any]
        #expect(limit?["paused_until"] as? String == resume)
        #expect(sync.stderr.contains("rate limited"))
        // What it stored before the limit is kept.
        let workspaces = try json(try await runner.runAsync(["ls", "bitbucket", "--json"]).stdout) as? [[String: Any]] ?? []
        #expect(!workspaces.isEmpty)
        // Nothing was sent during the pause: the sandbox answered exactly one 429.
        #expect(try await sandboxStats(server)["rate_limited"] as? Int == 1)
    }

    @Test("with X-RateLimit headers the budget narrows first: the sync stops at the deadline without provoking a 429")
    func narrowedBudget() async throws {
        let server = try await sandbox { $0.rateLimitPerHour = 12 }
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        #expect(try await link(runner, server).status == 0)
        let sync = try await runner.runAsync(["sync", "--once", "--json", "--deadline", "2"])
        #expect(sync.status == 3, "\(sync.stderr)")
        let report = try #require(try json(sync.stdout) as? [String: Any])
        #expect(report["resume_at"] is String)
        let limit = (report["rate_limit"] as? [String: Any])?["bitbucket"] as? [String: Any]
        #expect(limit?["limit"] as? Int == 12)
        #expect(try await sandboxStats(server)["rate_limited"] as? Int == 0)
    }

    func sandboxStats(_ server: SandboxServer) async throws -> [String: Any] {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let response = try await transport.perform(HTTPRequest(url: server.bitbucket.origin + "/_sandbox/stats"))
        return try JSONSerialization.jsonObject(with: response.body) as? [String: Any] ?? [:]
    }

    @Test("a rejected token is a clear error and nothing is stored")
    func rejected() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        let result = try await runner.runAsync(["link", "bitbucket", "--api-url", server.bitbucket.apiURL, "--web-url", server.bitbucket.webURL, "--token-file", "-"], stdin: "wrong\n")
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("slipway: Bitbucket Cloud did not accept the credentials"))
        #expect(!result.stderr.contains("wrong"))
        #expect(try await runner.runAsync(["accounts", "--json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        let empty = try await runner.runAsync(["link", "bitbucket", "--api-url", server.bitbucket.apiURL, "--token-file", "-"], stdin: "\n")
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("the token is empty"))
    }

    @Test("API tokens link with e-mail and token")
    func apiToken() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        let result = try await runner.runAsync(["link", "bitbucket", "--api-url", server.bitbucket.apiURL, "--web-url", server.bitbucket.webURL,
                                     "--email", server.service.email, "--api-token", server.service.bitbucket.apiToken])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        #expect(try filesContaining(server.service.bitbucket.apiToken, under: home.path).isEmpty)
    }
}

/// Every file under a folder whose bytes contain the needle.
func filesContaining(_ needle: String, under root: String) throws -> [String] {
    var hits: [String] = []
    let needleBytes = Data(needle.utf8)
    guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
    for case let relative as String in enumerator {
        let path = root + "/" + relative
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileManager.default.contents(atPath: path) else { continue }
        if data.range(of: needleBytes) != nil { hits.append(relative) }
    }
    return hits
}
