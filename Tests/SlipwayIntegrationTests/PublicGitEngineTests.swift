import Foundation
import Testing
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwaySandbox
import SlipwayTestSupport

/// Public Git's hosts each have a budget of their own, so one host's rate limit is its own
/// business: the engine stepped by hand against two sandbox git hosts over loopback.
@Suite("Sync engine, public Git hosts", .timeLimit(.minutes(2)))
struct PublicGitEngineTests {
    @Test("a 429 from one host pauses that host only: the other host's pushes still arrive in the same step, and nothing is removed")
    func oneHostLimited() async throws {
        var options = SandboxOptions()
        options.personalities = [.git]
        let limited = try await SandboxServer.start(options: options)
        let open = try await SandboxServer.start(options: options)
        defer { Task { await limited.stop(); await open.stop() } }
        let home = AccountAndSyncTests.Home()
        let store = try Store(path: home.path + "/slipway.db")
        // The limited host first, so its repositories lead the sweep's queue.
        for server in [limited, open] {
            for slug in ["hello-web", "flaky-api"] {
                _ = try store.addPublicRepository(try PublicGitURL.parse("\(server.git.origin)/demo/\(slug).git"), now: Date())
            }
        }
        let account = try #require(try store.account(for: .git))
        var configuration = HTTPClient.Configuration()
        configuration.backoff = Backoff(base: 0.01, cap: 0.05, maxAttempts: 3)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let http = HTTPClient(transport: transport, ledger: StoreBudgetLedger(store: store), configuration: configuration)
        let cache = home.path + "/git-cache"
        var settings = SyncEngine.Settings()
        // One sweep at a time: the limited host's answer comes before the open host is asked.
        settings.perProvider[.git] = .init(restRequestsPerHour: 600, gitRequestsPerHour: 20_000, concurrency: 1)
        let clock = VirtualClock(start: Date())
        let engine = SyncEngine(store: store, settings: settings, clock: clock) { _ in
            PublicGitProvider(repositories: try store.publicRepositories(), http: http, budgetCredential: "account:\(account.id!)",
                              cache: GitObjectCache(directory: cache, limitBytes: 200 << 20))
        }
        await engine.step()
        func head(_ server: SandboxServer, _ slug: String) throws -> String? {
            let path = MirrorPath(provider: .git, workspace: "127.0.0.1:\(server.git.port)", repository: "demo/\(slug)")
            let repository = try #require(try store.repository(at: path), "\(path) is not mirrored")
            return try store.branches(repositoryID: repository.id!).first { $0.name == "main" }?.headHash
        }
        let limitedBefore = try head(limited, "hello-web")
        let openBefore = try head(open, "hello-web")
        #expect(limitedBefore != nil && openBefore != nil)

        _ = try await transport.perform(HTTPRequest(method: .post, url: limited.git.origin + "/_sandbox/control",
                                                    body: Data(#"{"faults":["429x100"]}"#.utf8)))
        var pushed: [String: String] = [:]
        for slug in ["hello-web", "flaky-api"] {
            _ = try #require(await limited.service.pushDemo(slug, on: .git))
            pushed[slug] = try #require(await open.service.pushDemo(slug, on: .git)).new
        }
        clock.advance(by: 600)
        await engine.step()

        for slug in ["hello-web", "flaky-api"] {
            let now = try head(open, slug)
            #expect(now == pushed[slug], "the open host's \(slug) waited for the limited host")
        }
        // The limited host's repositories are still there, as they were: a pause removes nothing.
        let limitedAfter = try head(limited, "hello-web")
        let limitedOther = try head(limited, "flaky-api")
        #expect(limitedAfter == limitedBefore && limitedOther != nil)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test("the full listing mirrors every open host while another answers 429: that host is the report's error, and nothing is thrown")
    func fullListingAroundALimitedHost() async throws {
        var options = SandboxOptions()
        options.personalities = [.git]
        let open = try await SandboxServer.start(options: options)
        options.faults = ["429x100"]
        let limited = try await SandboxServer.start(options: options)
        defer { Task { await limited.stop(); await open.stop() } }
        let home = AccountAndSyncTests.Home()
        let store = try Store(path: home.path + "/slipway.db")
        for server in [limited, open] {
            _ = try store.addPublicRepository(try PublicGitURL.parse("\(server.git.origin)/demo/hello-web.git"), now: Date())
        }
        let account = try #require(try store.account(for: .git))
        let transport = CurlTransport()
        defer { transport.shutdown() }
        var configuration = HTTPClient.Configuration()
        configuration.backoff = Backoff(base: 0.01, cap: 0.05, maxAttempts: 3)
        let http = HTTPClient(transport: transport, ledger: StoreBudgetLedger(store: store), configuration: configuration)
        let provider = PublicGitProvider(repositories: try store.publicRepositories(), http: http, budgetCredential: "account:\(account.id!)",
                                         cache: GitObjectCache(directory: home.path + "/git-cache", limitBytes: 200 << 20))
        let report = try await RequestContext.run(lane: .background, deadline: Date().addingTimeInterval(2)) {
            try await MirrorSync(store: store, account: account, provider: provider).run()
        }
        let openHost = "127.0.0.1:\(open.git.port)"
        let limitedHost = "127.0.0.1:\(limited.git.port)"
        let mirrored = try store.repository(at: MirrorPath(provider: .git, workspace: openHost, repository: "demo/hello-web"))
        #expect(try store.branches(repositoryID: try #require(mirrored?.id)).first { $0.name == "main" }?.headHash
                    == open.service.branches(workspace: "demo", repository: "hello-web", on: .git)["main"])
        #expect(report.errors.map(\.path) == ["git/\(limitedHost)"], "\(report.errors)")
        #expect(report.errors.first?.message.contains("rate limit") == true, "\(report.errors)")
    }
}
