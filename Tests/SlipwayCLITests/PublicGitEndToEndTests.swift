import Foundation
import Testing
import SlipwayCore
import SlipwaySandbox

/// Public Git repositories as a user adds them, through the binary against the sandbox's plain
/// git host (real repositories over smart HTTP, no credentials): `repos add` checks the URL with
/// one refs advertisement and mirrors its branches with their heads' details from a partial fetch;
/// a URL that asks for credentials or does not exist adds nothing; an app built from one deploys
/// on a push found by polling.
@Suite("Public Git end to end", .serialized, .timeLimit(.minutes(3)))
struct PublicGitEndToEndTests {
    static func sandbox() async throws -> SandboxServer {
        var options = SandboxOptions()
        options.personalities = [.git]
        return try await SandboxServer.start(options: options)
    }

    func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test("repos add mirrors a public repository with head details; private, missing and insecure URLs add nothing; remove and unlink take it away")
    func addRefuseRemove() async throws {
        let server = try await Self.sandbox()
        defer { Task { await server.stop() } }
        let runner = BinaryRunner(home: TemporaryHome().path)
        let host = "127.0.0.1:\(server.git.port)"
        let added = try await runner.runAsync(["repos", "add", "\(server.git.origin)/demo/hello-web.git", "--json"])
        #expect(added.status == 0 && added.stderr.contains("added git/\(host)/demo/hello-web: 1 branch, main branch main"), "\(added.stderr)")
        let row = try #require(json(added.stdout) as? [String: Any])
        #expect(row["path"] as? String == "git/\(host)/demo/hello-web" && row["workspace"] as? String == host
                && row["repository"] as? String == "demo/hello-web" && row["branches"] as? Int == 1, "\(added.stdout)")

        // The head with its details, from the partial fetch.
        let heads = server.service.branches(workspace: "demo", repository: "hello-web", on: .git)
        let branches = try #require(json(try await runner.runAsync(["ls", "git/\(host)/demo/hello-web", "--json"]).stdout) as? [[String: Any]])
        let main = try #require(branches.first { $0["branch"] as? String == "main" }?["head"] as? [String: Any])
        #expect(main["hash"] as? String == heads["main"] && main["author"] as? String == "Demo Bot <demo@example.com>"
                && main["message"] as? String == "Start Hello web" && main["date"] is String, "\(main)")
        let account = try #require((json(try await runner.runAsync(["accounts", "--json"]).stdout) as? [[String: Any]])?.first)
        #expect(account["provider"] as? String == "git" && account["auth"] as? String == "none" && account["username"] is NSNull, "\(account)")
        let workspaces = try #require(json(try await runner.runAsync(["ls", "git", "--json"]).stdout) as? [[String: Any]])
        #expect(workspaces.map { $0["workspace"] as? String } == [host])

        // Refused in one line, nothing added, nothing sent where it should not be.
        let accountsBefore = (json(try await runner.runAsync(["accounts", "--json"]).stdout) as? [[String: Any]])?.count
        for (url, words) in [("\(server.git.origin)/private/internal.git", "asks for credentials"),
                             ("\(server.git.origin)/demo/missing.git", "no repository at"),
                             ("http://example.com/group/project.git", "allowed only on loopback"),
                             ("https://user:pw@example.com/project.git", "carries credentials")] {
            let refused = try await runner.runAsync(["repos", "add", url])
            #expect(refused.status == 1 && refused.stderr.contains(words) && refused.stderr.split(separator: "\n").count == 1, "\(url): \(refused.stderr)")
        }
        let listed = try #require(json(try await runner.runAsync(["repos", "--json"]).stdout) as? [[String: Any]])
        let accountsAfter = (json(try await runner.runAsync(["accounts", "--json"]).stdout) as? [[String: Any]])?.count
        #expect(listed.count == 1 && accountsAfter == accountsBefore)

        // A second repository on the host, then removed by its path; unlink takes the rest.
        #expect(try await runner.runAsync(["repos", "add", "\(server.git.origin)/demo/flaky-api.git"]).status == 0)
        #expect((json(try await runner.runAsync(["ls", "git/\(host)", "--json"]).stdout) as? [[String: Any]])?.count == 2)
        let removed = try await runner.runAsync(["repos", "remove", "git/\(host)/demo/flaky-api"])
        #expect(removed.status == 0 && removed.stderr.contains("removed git/\(host)/demo/flaky-api"), "\(removed.stderr)")
        let left = try #require(json(try await runner.runAsync(["ls", "git/\(host)", "--json"]).stdout) as? [[String: Any]])
        #expect(left.map { $0["repository"] as? String } == ["demo/hello-web"])
        #expect(try await runner.runAsync(["repos", "remove", "git/\(host)/demo/flaky-api"]).status == 1)
        let unlinked = try await runner.runAsync(["unlink", "git", "--yes"])
        #expect(unlinked.status == 0, "\(unlinked.stderr)")
        #expect((json(try await runner.runAsync(["accounts", "--json"]).stdout) as? [[String: Any]])?.isEmpty == true)
        #expect((json(try await runner.runAsync(["repos", "--json"]).stdout) as? [[String: Any]])?.isEmpty == true)
        // Linking public Git is not a thing: the line says what to do instead.
        let link = try await runner.runAsync(["link", "git", "--token-file", "-"], stdin: "x\n")
        #expect(link.status == 2 && link.stderr.contains("slipway repos add"), "\(link.stderr)")
    }

    @Test("an app built from a public repository deploys; a real push there shows within app_poll_seconds and deploys")
    func pushDeploysByPolling() async throws {
        let server = try await Self.sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        let host = "127.0.0.1:\(server.git.port)"
        try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
        // 2 s for a tracked repository is 1,800 looks an hour: more than a host's default 600 allow.
        try runner.writeConfig("[engine]\napp_poll_seconds = 2\n[providers.git]\ngit_requests_per_hour = 20000\n")
        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }
        _ = try #require(try await runner.webhookListener(), "the daemon did not start")
        // With an engine running, the engine mirrors what is added.
        let added = try await runner.runAsync(["repos", "add", "\(server.git.origin)/demo/hello-web.git"])
        #expect(added.status == 0 && added.stderr.contains("1 branch"), "\(added.stderr)")
        let created = try await runner.runAsync(["apps", "create", "web", "--source", "git/\(host)/demo/hello-web", "--branch", "main",
                                                 "--build", "make", "--run", "./run.sh"])
        #expect(created.status == 0, "\(created.stderr)")
        let first = try await runner.newestDeployment(of: "web", count: 1, phase: "ACTIVE")
        #expect(first?["cause"] as? String == "app created", "\(first ?? [:])")

        let push = try #require(await server.service.pushDemo("hello-web", on: .git))
        let pushedAt = Date()
        var seen: Date?
        for _ in 0..<200 where seen == nil {
            let branches = json(try await runner.runAsync(["ls", "git/\(host)/demo/hello-web", "--json"]).stdout) as? [[String: Any]] ?? []
            if (branches.first?["head"] as? [String: Any])?["hash"] as? String == push.new { seen = Date() } else { try await Task.sleep(nanoseconds: 50_000_000) }
        }
        let delay = try #require(seen).timeIntervalSince(pushedAt)
        // Within app_poll_seconds (2 s), with a second for the engine's step and the CLI's read.
        #expect(delay < 3.5, "the pushed head took \(delay) s to show")
        let deployed = try await runner.newestDeployment(of: "web", count: 2, phase: "ACTIVE")
        #expect(deployed?["commit"] as? String == push.new, "\(deployed ?? [:])")
        let logs = try await runner.runAsync(["logs", "\((deployed?["id"] as? Int) ?? 0)"])
        #expect(logs.stdout.contains("hello-web v3 is up"), "\(logs.stdout)")

        // At the default 600 an hour the host's budget cannot give it 2 s: doctor and accounts say so.
        try runner.writeConfig("[engine]\napp_poll_seconds = 2\n")
        let doctor = try await runner.runAsync(["doctor", "--json"])
        let checks = (json(doctor.stdout) as? [String: Any])?["checks"] as? [[String: Any]] ?? []
        let polling = try #require(checks.first { $0["name"] as? String == "polling" }, "\(doctor.stdout)")
        #expect(polling["status"] as? String == "warn" && (polling["detail"] as? String)?.contains("git on \(host): 1 repository apps build from get a look every 10 s, not every 2 s") == true,
                "\(polling)")
        let accounts = try await runner.runAsync(["accounts"])
        #expect(accounts.stderr.contains("every 10 s, not every 2 s"), "\(accounts.stderr)")
    }
}
