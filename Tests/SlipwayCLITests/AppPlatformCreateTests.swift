import Foundation
import Testing
import SlipwaySandbox

/// `apps create --on digitalocean` as a user meets its refusals: a spec file of their own, App
/// Platform without access to the Git provider, and a token with read scopes only.
@Suite("App Platform: create from a spec, and what App Platform refuses", .serialized, .timeLimit(.minutes(2)))
struct AppPlatformCreateTests {
    func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    /// Bitbucket mirrored and App Platform linked with `token` (the full one unless given).
    func linked(unlinkedGitHosts: Set<String> = [], readOnly: Bool = false) async throws -> (SandboxServer, BinaryRunner, source: String, branch: String) {
        var options = SandboxOptions()
        options.personalities = [.bitbucket, .digitalocean]
        options.workspaces = 1
        options.reposPerWorkspace = 2
        options.largeRepositories = false
        options.appPlatformPhaseSeconds = 0.4
        options.appPlatformUnlinkedGitHosts = unlinkedGitHosts
        let server = try await SandboxServer.start(options: options)
        let runner = BinaryRunner(home: TemporaryHome().path)
        let bitbucket = try await runner.runAsync(["link", "bitbucket", "--api-url", server.bitbucket.apiURL, "--web-url", server.bitbucket.webURL,
                                                   "--token-file", "-"], stdin: server.service.bitbucket.accessToken + "\n")
        #expect(bitbucket.status == 0, "\(bitbucket.stderr)")
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        let token = readOnly ? server.service.digitalocean.readOnlyToken : server.service.digitalocean.token
        let linked = try await runner.runAsync(["link", "digitalocean", "--api-url", server.digitalocean.apiURL, "--web-url", server.digitalocean.webURL,
                                                "--token-file", "-"], stdin: token + "\n")
        #expect(linked.status == 0, "\(linked.stderr)")
        let workspace = try #require((json(try await runner.runAsync(["ls", "bitbucket", "--json"]).stdout) as? [[String: Any]])?.first?["path"] as? String)
        let repository = try #require((json(try await runner.runAsync(["ls", workspace, "--json"]).stdout) as? [[String: Any]])?.first?["path"] as? String)
        let head = try #require((json(try await runner.runAsync(["ls", repository, "--json"]).stdout) as? [[String: Any]])?.first?["name"] as? String)
        return (server, runner, repository, head)
    }

    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spec-\(UUID().uuidString).json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("--spec FILE creates the app as written (name filled in, every field passed on), matched to the mirrored branch; YAML, another name and mixed flags are refused in one line")
    func fromSpec() async throws {
        let (server, runner, source, branch) = try await linked()
        defer { Task { await server.stop() } }
        let repo = source.split(separator: "/").dropFirst().joined(separator: "/")
        let spec = try write("""
            {"region": "fra", "services": [{"name": "api", "bitbucket": {"repo": "\(repo)", "branch": "\(branch)", "deploy_on_push": true},
              "build_command": "make", "run_command": "./api", "http_port": 9000, "instance_count": 2,
              "envs": [{"key": "MODE", "value": "prod", "scope": "RUN_TIME", "type": "GENERAL"}]}]}
            """)
        let made = try await runner.runAsync(["apps", "create", "from-spec", "--spec", spec, "--on", "digitalocean", "--yes"])
        #expect(made.status == 0 && made.stderr.contains("created app 'from-spec' on App Platform") && made.stderr.contains("from \(source) \(branch)")
                && made.stderr.contains("$5.00 a month"), "\(made.stderr)")
        let app = try #require((json(try await runner.runAsync(["apps", "--json"]).stdout) as? [[String: Any]])?.first { $0["name"] as? String == "from-spec" })
        #expect(app["backend"] as? String == "digitalocean" && app["source"] as? String == source && app["branch"] as? String == branch
                && app["region"] as? String == "fra" && app["autodeploy"] as? Bool == true, "\(app)")
        let kept = try #require(json(try await runner.runAsync(["apps", "spec", "from-spec"]).stdout) as? [String: Any])
        let service = try #require((kept["services"] as? [[String: Any]])?.first)
        #expect(kept["name"] as? String == "from-spec" && service["build_command"] as? String == "make" && (service["envs"] as? [Any])?.count == 1, "\(kept)")

        let yaml = try write("name: web\nservices:\n  - name: web\n")
        let refusedYAML = try await runner.runAsync(["apps", "create", "web", "--spec", yaml, "--on", "digitalocean", "--yes"])
        #expect(refusedYAML.status == 1 && refusedYAML.stderr.contains("is not JSON") && refusedYAML.stderr.split(separator: "\n").count == 1, "\(refusedYAML.stderr)")
        let other = try write(#"{"name": "elsewhere", "services": []}"#)
        let renamed = try await runner.runAsync(["apps", "create", "web", "--spec", other, "--on", "digitalocean", "--yes"])
        #expect(renamed.status == 1 && renamed.stderr.contains("names the app 'elsewhere', not 'web'"), "\(renamed.stderr)")
        let mixed = try await runner.runAsync(["apps", "create", "web", "--spec", spec, "--on", "digitalocean", "--branch", "main"])
        #expect(mixed.status == 2 && mixed.stderr.contains("--spec gives the whole app; drop --branch"), "\(mixed.stderr)")
        let local = try await runner.runAsync(["apps", "create", "web", "--spec", spec])
        #expect(local.status == 2 && local.stderr.contains("add --on digitalocean"), "\(local.stderr)")
        // App Platform's own validation comes back as one line.
        let invalid = try write(#"{"services": [{"name": "x"}]}"#)
        let refused = try await runner.runAsync(["apps", "create", "bad-spec", "--spec", invalid, "--on", "digitalocean", "--yes"])
        #expect(refused.status == 1 && refused.stderr.contains("must have exactly one source") && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
    }

    @Test("an App Platform without access to Bitbucket: the create is refused with where to grant it (the control panel) and App Platform's own words")
    func noGitAccess() async throws {
        let (server, runner, source, branch) = try await linked(unlinkedGitHosts: ["bitbucket"])
        defer { Task { await server.stop() } }
        let refused = try await runner.runAsync(["apps", "create", "shop", "--source", source, "--branch", branch, "--on", "digitalocean", "--run", "./run", "--yes"])
        #expect(refused.status == 1 && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("App Platform has no access to your Bitbucket Cloud account")
                && refused.stderr.contains("\(server.digitalocean.webURL)/apps/bitbucket/install")
                && refused.stderr.contains("Bitbucket user not authenticated"), "\(refused.stderr)")
        #expect((json(try await runner.runAsync(["apps", "--json"]).stdout) as? [[String: Any]])?.contains { $0["name"] as? String == "shop" } == false)
    }

    @Test("a read-only token browses App Platform; each write is refused in one line naming the scope it lacks")
    func readOnlyToken() async throws {
        let (server, runner, source, branch) = try await linked(readOnly: true)
        defer { Task { await server.stop() } }
        let apps = try #require(json(try await runner.runAsync(["apps", "--json"]).stdout) as? [[String: Any]])
        #expect(apps.contains { $0["name"] as? String == "sample-app" }, "\(apps)")
        let create = try await runner.runAsync(["apps", "create", "shop", "--source", source, "--branch", branch, "--on", "digitalocean", "--run", "./run", "--yes"])
        #expect(create.status == 1 && create.stderr.contains("lacks the app:create scope") && create.stderr.split(separator: "\n").count == 1, "\(create.stderr)")
        let deploy = try await runner.runAsync(["deploy", "sample-app"])
        #expect(deploy.status == 1 && deploy.stderr.contains("lacks the app:update scope"), "\(deploy.stderr)")
        let delete = try await runner.runAsync(["apps", "delete", "sample-app", "--remote", "--yes"])
        #expect(delete.status == 1 && delete.stderr.contains("lacks the app:delete scope"), "\(delete.stderr)")
        #expect(try await runner.runAsync(["apps", "spec", "sample-app"]).status == 0)
    }

    @Test("deploy NAME of an App Platform app not looked at yet asks App Platform for it first; an unknown name is still refused in one line")
    func deployUnseen() async throws {
        let (server, runner, _, _) = try await linked()
        defer { Task { await server.stop() } }
        let deployed = try await runner.runAsync(["deploy", "sample-app"])
        #expect(deployed.status == 0 && deployed.stderr.contains("started on App Platform"), "\(deployed.stderr)")
        let unknown = try await runner.runAsync(["deploy", "no-such-app"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no app named 'no-such-app'") && unknown.stderr.split(separator: "\n").count == 1, "\(unknown.stderr)")
    }
}
