import ArgumentParser
import Logging
import SlipwayServer
import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwaySandbox

struct TUICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui",
        abstract: "Open the dashboard (the default when no command is given)."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await DashboardRunner(context: try global.context()).run()
    }
}

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start a sandbox, a temporary home linked to it and the engine, and open the dashboard.",
        discussion: "Needs no credentials and no network: everything runs on loopback and is removed on exit."
    )

    @Option(help: "Seed for the sandbox's world.") var seed: UInt64 = 1
    @Option(name: .customLong("push-every"), help: ArgumentHelp("Simulate a push every N seconds.", valueName: "SECONDS"))
    var pushEvery: Double = 4
    @Flag(name: .customLong("webhooks"), inversion: .prefixedNo,
          help: "Install webhooks on the sandbox's repositories, so pushes show at once (--no-webhooks: by polling only).")
    var webhooks = true

    func validate() throws {
        if pushEvery <= 0 { throw ValidationError("--push-every must be more than 0 seconds") }
    }

    func run() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-demo-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let context = try GlobalOptions.context(home: home)
        var options = SandboxOptions()
        options.seed = seed
        options.pushEverySeconds = pushEvery
        options.demoRepositories = true
        // Every personality: three Git hosts and public Git in one world, and App Platform beside
        // this host — its apps deploy there while local ones deploy here.
        options.personalities = [.bitbucket, .github, .gitlab, .git, .digitalocean]
        let server: SandboxServer
        do {
            server = try await SandboxServer.start(options: options)
        } catch {
            throw SlipwayCLIError.failure("cannot start the demo sandbox: \(error)")
        }
        do {
            let factory = ProviderFactory(context: context)
            let linker = AccountLinker(store: context.store, keyFile: context.paths.keyFile, http: factory.http)
            var accounts: [Account] = []
            for (provider, endpoint, token) in [(ProviderKind.bitbucket, server.bitbucket, server.service.bitbucket.accessToken),
                                                (.github, server.github, server.service.github.classicToken),
                                                (.gitlab, server.gitlab, server.service.gitlab.token)] {
                let (account, _) = try await linker.link(LinkRequest(provider: provider, apiURL: endpoint.apiURL, webURL: endpoint.webURL, secret: .token(token)))
                // Mirror each once (a fraction of a second), so the demo apps have their source.
                _ = try await MirrorSync(store: context.store, account: account, provider: try factory.provider(for: account), concurrency: 4).run()
                accounts.append(account)
            }
            try await addPublicRepository(context: context, server: server, factory: factory)
            try createDemoApps(context: context, gitHost: try PublicGitURL.parse(server.git.origin + "/x.git").host)
            try await createAppPlatformApp(context: context, server: server, linker: linker, factory: factory)
            let receiver = webhooks ? try await installWebhooks(context: context, accounts: accounts) : nil
            // The sandbox is local and small: sweep often so pushes show within seconds even without hooks.
            do {
                try await DashboardRunner(context: context, engineTuning: { $0.sweepInterval = 1; $0.discoveryInterval = 5 }, engineReceives: false).run()
            } catch {
                await receiver?.stop()
                throw error
            }
            await receiver?.stop()
        } catch {
            await server.stop()
            if let error = error as? SlipwayCLIError { throw error }
            throw SlipwayCLIError.failure("the demo failed: \(error)")
        }
        await server.stop()
    }

    /// The public Git host's copy of flaky-api, added by URL as `slipway repos add` does.
    func addPublicRepository(context: CommandContext, server: SandboxServer, factory: ProviderFactory) async throws {
        let url = try PublicGitURL.parse("\(server.git.origin)/demo/flaky-api.git")
        guard case let .added(account) = try context.store.addPublicRepository(url, now: Date()) else { return }
        _ = try await PublicRepositoryMirror.mirror(url, account: account, store: context.store, provider: try factory.provider(for: account), now: Date())
    }

    /// App Platform linked too, with its existing apps and one of the demo's own: `hello-cloud`,
    /// built on App Platform from GitHub's copy of hello-web and deployed there on each push.
    func createAppPlatformApp(context: CommandContext, server: SandboxServer, linker: AccountLinker, factory: ProviderFactory) async throws {
        let (account, _) = try await linker.link(LinkRequest(provider: .digitalocean, apiURL: server.digitalocean.apiURL, webURL: server.digitalocean.webURL,
                                                             secret: .token(server.service.digitalocean.token)))
        let platform = try factory.appPlatform(for: account)
        let spec = AppPlatformClient.ServiceSpec(name: "hello-cloud", region: "ams", source: .hosted(provider: .github, repository: "demo/hello-web",
                                                                                                        branch: "main", deployOnPush: true),
                                                 buildCommand: "make", runCommand: "./run.sh", httpPort: 8080, instanceSize: nil, environment: [:], secrets: [:])
        try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(15)) {
            try context.store.applyRemoteApps(try await platform.apps(), now: Date())
            try context.store.recordCreatedRemoteApp(try await platform.createApp(spec), autodeploy: true, now: Date())
        }
    }

    /// A receiver on a free loopback port, and a hook on every repository the sandbox user
    /// administers on each Git host: the sandbox then delivers each push as that provider would.
    func installWebhooks(context: CommandContext, accounts: [Account]) async throws -> WebhookReceiver {
        let logger = Logger(label: "slipway.webhooks")
        let receiver = try await WebhookReceiver.start(host: "127.0.0.1", port: 0, dialects: ProviderRegistry.webhookDialects,
                                                       handler: StoreWebhookHandler(store: context.store, keyFile: context.paths.keyFile, logger: logger))
        for account in accounts {
            let installer = try WebhooksCommand.installer(context, account: account)
            let url = try WebhookTarget.url(for: account, override: "http://127.0.0.1:\(receiver.port)", publicURL: "", listen: "")
            for candidate in try context.store.sweepCandidates(accountID: account.id!) where candidate.repository.isAdmin {
                let path = MirrorPath(provider: account.provider, workspace: candidate.workspaceSlug, repository: candidate.repository.slug).description
                do {
                    _ = try await installer.install(.init(repository: candidate.repository, workspaceSlug: candidate.workspaceSlug, path: path), url: url)
                } catch {
                    logger.warning("demo webhook not installed", metadata: ["repository": "\(path)", "error": "\(error)"])
                }
            }
        }
        return receiver
    }

    /// Two apps on the sandbox's real repositories: one that deploys, one whose build fails on
    /// odd versions. Their first deployments are queued for the engine the dashboard hosts.
    func createDemoApps(context: CommandContext, gitHost host: String) throws {
        // One from each kind of source: a Git host's repository, and a public one added by URL.
        let apps = [("hello-web", "bitbucket/demo/hello-web", "./run.sh"), ("flaky-api", "git/\(host)/demo/flaky-api", "echo \"flaky-api v$(cat VERSION) answers\""),
                    ("hello-lab", "gitlab/demo/hello-web", "./run.sh")]
        for (name, source, run) in apps {
            guard let repository = try context.store.repository(at: try context.store.resolvePath(source)) else { continue }
            _ = try context.store.createApp(App(name: name, repositoryID: repository.id, sourcePath: source, branch: "main", buildCommand: "make",
                                                runCommand: run, createdAt: Date()))
            _ = try context.store.enqueue(DeployPayload(app: name, cause: "app created"), requestedBy: "demo", now: Date())
        }
    }
}
