import Foundation
import Testing
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwaySandbox

/// Deployments from the sandbox's real git repositories over smart HTTP: the token reaches git
/// only through the fetch step's credential helper.
@Suite("Deployments against the sandbox", .timeLimit(.minutes(3)))
struct DeploymentTests {
    @Test("a push deploys to ACTIVE; a failing build is ERROR with its output; no token on disk")
    func pushes() async throws {
        var options = SandboxOptions()
        options.seed = 91
        options.workspaces = 1
        options.reposPerWorkspace = 1
        options.branchesPerRepo = 2
        options.demoRepositories = true
        let server = try await SandboxServer.start(options: options)
        defer { Task { await server.stop() } }
        let home = AccountAndSyncTests.Home()
        let store = try Store(path: home.path + "/slipway.db")
        let http = HTTPClient(transport: CurlTransport(), ledger: StoreBudgetLedger(store: store))
        let (account, provider) = try await linked(server, store: store, home: home, http: http)
        _ = try await MirrorSync(store: store, account: account, provider: provider, concurrency: 2).run()
        for (name, slug) in [("web", "hello-web"), ("api", "flaky-api")] {
            let repository = try #require(try store.repository(at: MirrorPath(provider: .bitbucket, workspace: "demo", repository: slug)))
            _ = try store.createApp(App(name: name, repositoryID: repository.id, sourcePath: "bitbucket/demo/\(slug)", branch: "main",
                                        buildCommand: "make", runCommand: "./run.sh", createdAt: Date()))
        }
        let token = server.service.bitbucket.accessToken
        // git through a wrapper that records every argument list it is given.
        let argvLog = home.path + "/git-argv.log"
        let wrapper = home.path + "/git-wrapper"
        try "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '\(argvLog)'\nexec /usr/bin/git \"$@\"\n".write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        var settings = Deployer.Settings()
        settings.git = wrapper
        let deployer = Deployer(store: store, workRoot: home.path + "/work", settings: settings, credentials: { [apiURL = account.apiURL, webURL = account.webURL] _ in GitCredential(username: "x-token-auth", password: token, origins: Set([Origin(url: apiURL), Origin(url: webURL)].compactMap { $0 })) })
        try await deployer.start()

        func settle() async {
            for _ in 0..<100 {
                await deployer.step()
                await deployer.idle()
                if (try? store.runnableDeployments(limit: 1).isEmpty) == true { return }
            }
        }
        func log(_ id: Int64) throws -> String { try store.logChunks(deploymentID: id).map(\.text).joined() }

        let (web1, _) = try await deployer.deploy(app: "web", cause: "app created")
        let (api1, _) = try await deployer.deploy(app: "api", cause: "app created")
        await settle()
        #expect(try store.deployment(id: web1.id!)?.phase == .active, "\((try? log(web1.id!)) ?? "")")
        #expect(try store.deployment(id: api1.id!)?.phase == .active, "\((try? log(api1.id!)) ?? "")")
        #expect(try log(web1.id!).contains("hello-web v2 is up"))

        // Real pushes: hello-web v3 deploys; flaky-api v3 fails its tests.
        let webPush = try #require(await server.service.pushDemo("hello-web"))
        let apiPush = try #require(await server.service.pushDemo("flaky-api"))
        let (web2, _) = try await deployer.deploy(app: "web", commit: webPush.new!, cause: "commit pushed")
        let (api2, _) = try await deployer.deploy(app: "api", commit: apiPush.new!, cause: "commit pushed")
        await settle()
        #expect(try store.deployment(id: web2.id!)?.phase == .active, "\((try? store.deployment(id: web2.id!)?.reason) ?? nil ?? "") \((try? log(web2.id!)) ?? "")")
        #expect(try store.deployment(id: web1.id!)?.phase == .superseded)
        #expect(try log(web2.id!).contains("hello-web v3 is up"))
        // The fetch cache keeps its remote: the second fetch moves origin/main, it is no new branch.
        #expect(try log(web1.id!).contains("[new branch]"))
        #expect(!(try log(web2.id!)).contains("[new branch]"), "\((try? log(web2.id!)) ?? "")")
        #expect(try log(web2.id!).contains("-> origin/main"))
        let failed = try #require(try store.deployment(id: api2.id!))
        #expect(failed.phase == .error)
        #expect(failed.reason == "step build failed: exit status 2")
        #expect(try log(api2.id!).contains("error: test suite failed on v3"))
        #expect(try store.deployment(id: api1.id!)?.phase == .active)

        // The token is in no file of the work folders and in no log.
        let work = home.path + "/work"
        let enumerator = FileManager.default.enumerator(atPath: work)
        while let file = enumerator?.nextObject() as? String {
            let path = work + "/" + file
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let data = FileManager.default.contents(atPath: path) else { continue }
            #expect(!String(decoding: data, as: UTF8.self).contains(token), "\(file) holds the token")
        }
        for id in [web1.id!, web2.id!, api1.id!, api2.id!] { #expect(!(try log(id)).contains(token)) }
        // git was run (fetches included) and never saw the token in its arguments.
        let argv = try String(contentsOfFile: argvLog, encoding: .utf8)
        #expect(argv.contains("fetch --no-tags origin"))
        #expect(!argv.contains(token))
    }

    @Test("the sandbox's smart HTTP refuses a fetch without the token")
    func refusesAnonymous() async throws {
        var options = SandboxOptions()
        options.workspaces = 1
        options.reposPerWorkspace = 1
        options.demoRepositories = true
        let server = try await SandboxServer.start(options: options)
        defer { Task { await server.stop() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let anonymous = try await transport.perform(HTTPRequest(method: .post, url: server.bitbucket.origin + "/git/demo/hello-web.git/git-upload-pack",
                                                                body: Data("0000".utf8)))
        #expect(anonymous.status == 401)
        #expect(anonymous.headers.first { $0.name.lowercased() == "www-authenticate" } != nil)
    }
}
