import Dispatch
import ArgumentParser
import Foundation
import SlipwayProviders
import SlipwaySandbox

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run a simulated world of Git providers on loopback (for tests and demos).",
        discussion: """
            One world generated from --seed, served by a personality per service, each at a port of \
            its own (from --port up; 0 picks free ones). So far: \(SandboxPersonalityName.available.map(\.summary).joined(separator: "; ")). \
            The banner prints each personality's link command; the accepted \
            tokens derive from the seed (--print-token). /_sandbox/stats and /_sandbox/control observe \
            and steer the world from any personality's port.

            Rate limits take N for every personality or NAME=N for one (--rate-limit bitbucket=500). \
            Fault specs (--fault, repeatable): [NAME:]KIND[~PROBABILITY|/EVERY-NTH][xCOUNT][@PATH-GLOB], \
            where KIND is a status (503), 403-rate-limit, reset, delay:SECONDS, truncate or malformed. \
            Examples: 503x3, bitbucket:503~0.2, reset~0.1@/2.0/repositories/*, delay:2@/git/*, truncate/4.
            """
    )

    @Option(help: "Port of the first personality; each further one takes the next (0 picks free ones).") var port = 0
    @Option(help: ArgumentHelp("Serve only these personalities (comma-separated).", valueName: "NAMES")) var only: String?
    @Option(help: "Seed for the generated world (and its token).") var seed: UInt64 = 1
    @Option(help: "Number of workspaces.") var workspaces = 3
    @Option(help: "Repositories per workspace.") var repos = 8
    @Option(help: "Branches per repository (a few repositories get 125 more).") var branches = 6
    @Option(name: .customLong("push-every"), help: ArgumentHelp("Simulate a push every N seconds.", valueName: "SECONDS"))
    var pushEvery: Double?
    @Flag(name: .customLong("no-updated-on"), help: "Pushes do not bump the repository's updated_on.") var noUpdatedOn = false
    @Option(name: .customLong("rate-limit"),
            help: ArgumentHelp("REST requests per hour per credential, for all or one personality; 0 = none (repeatable; default 1000).",
                               valueName: "[NAME=]N-per-hour"))
    var rateLimits: [String] = []
    @Option(name: .customLong("git-rate-limit"),
            help: ArgumentHelp("git requests per hour per credential, for all or one personality; 0 = none (repeatable; default 60000).",
                               valueName: "[NAME=]N-per-hour"))
    var gitRateLimits: [String] = []
    @Option(name: .customLong("retry-after"), help: ArgumentHelp("Send Retry-After with 429s.", valueName: "SECONDS"))
    var retryAfter: Int?
    @Option(name: .customLong("fault"), help: ArgumentHelp("Inject a fault (repeatable; see above).", valueName: "SPEC"))
    var faults: [String] = []
    @Option(name: .customLong("token-lifetime"), help: ArgumentHelp("Expiring OAuth access tokens live this many seconds (default: each service's own — Bitbucket 7200, a GitHub App's 28800).", valueName: "SECONDS"))
    var tokenLifetime: Int?
    @Option(name: .customLong("device-code-lifetime"), help: ArgumentHelp("Device-flow codes wait this long for approval (default: each service's own — GitHub 900, GitLab 300).", valueName: "SECONDS"))
    var deviceCodeLifetime: Int?
    @Option(name: .customLong("device-interval"), help: ArgumentHelp("The least wait between device-flow polls.", valueName: "SECONDS"))
    var deviceInterval = 5
    @Flag(name: .customLong("demo-repositories"), help: "Add a 'demo' workspace of real git repositories (clone and fetch work).")
    var demoRepositories = false
    @Flag(name: .customLong("print-token"), help: "Print the token this seed's sandbox accepts (the first personality's: Bitbucket's access token, GitHub's classic token, GitLab's personal access token, DigitalOcean's personal access token), and exit.") var printToken = false
    @Flag(help: "The account administers every repository (an organization owner's), so hooks can go on each.") var administersAll = false
    @Flag(name: .customLong("no-large-repositories"), help: "No repositories with 125 extra branches (every repository gets --branches).")
    var noLargeRepositories = false
    @Option(name: .customLong("apps"), help: "App Platform apps on the digitalocean personality's account.") var appPlatformApps = SandboxOptions().appPlatformApps
    @Option(name: .customLong("deployments"), help: "Deployments each App Platform app has had.") var deploymentsPerApp = SandboxOptions().deploymentsPerApp
    @Option(name: .customLong("gitlab-version"), help: ArgumentHelp("The GitLab release the gitlab personality plays (from 19.0 hooks sign their deliveries).", valueName: "VERSION"))
    var gitlabVersion = SandboxOptions().gitlabVersion

    func options() throws(SandboxOptions.ValidationError) -> SandboxOptions {
        var o = SandboxOptions()
        o.port = port
        // Unless asked, the personalities this build can link with.
        if let only { o.personalities = try SandboxPersonalityName.parseList(only) } else { o.personalities = SandboxPersonalityName.available.filter(Self.linkable) }
        o.seed = seed
        o.workspaces = workspaces
        o.reposPerWorkspace = repos
        o.branchesPerRepo = branches
        o.pushEverySeconds = pushEvery
        o.bumpUpdatedOn = !noUpdatedOn
        for limit in rateLimits { try o.applyRateLimit(limit, git: false) }
        for limit in gitRateLimits { try o.applyRateLimit(limit, git: true) }
        o.retryAfterSeconds = retryAfter
        o.faults = faults
        o.tokenLifetimeSeconds = tokenLifetime
        o.deviceCodeLifetimeSeconds = deviceCodeLifetime
        o.deviceIntervalSeconds = deviceInterval
        o.demoRepositories = demoRepositories
        o.largeRepositories = !noLargeRepositories
        o.administersAll = administersAll
        o.gitlabVersion = gitlabVersion
        o.appPlatformApps = appPlatformApps
        o.deploymentsPerApp = deploymentsPerApp
        return o
    }

    func validate() throws {
        do { try options().validate() } catch { throw ValidationError(error.description) }
        if let pushEvery, pushEvery <= 0 { throw ValidationError("--push-every must be more than 0 seconds") }
    }

    /// Whether `slipway link` knows the personality's provider.
    static func linkable(_ name: SandboxPersonalityName) -> Bool {
        ProviderKind(rawValue: name.rawValue).flatMap(ProviderRegistry.descriptor(for:)) != nil
    }

    func run() async throws {
        if printToken {
            switch try options().personalities.first {
            case .github: Terminal.out(GitHubPersonality.tokens(seed: seed).classic)
            case .gitlab: Terminal.out(GitLabPersonality.tokens(seed: seed).full)
            case .digitalocean: Terminal.out(DigitalOceanPersonality.token(seed: seed))
            case .git: throw SlipwayCLIError.failure("the public git host takes no token; add its repositories with 'slipway repos add URL'")
            default: Terminal.out(BitbucketPersonality.tokens(seed: seed).access)
            }
            return
        }
        SandboxAllocator.keepFreedMemory()
        let server: SandboxServer
        do {
            server = try await SandboxServer.start(options: try options())
        } catch {
            throw SlipwayCLIError.failure("\(error)")
        }
        let world = server.service.summary
        var lines = ["Slipway sandbox (seed \(seed)): \(world.workspaces) workspaces, \(world.repositories) repositories, \(world.branches) branches"]
        for endpoint in server.endpoints {
            lines.append("\(endpoint.personality) on \(endpoint.origin)")
            var block = endpoint.banner
            if !Self.linkable(endpoint.personality) {
                block.removeAll { $0.label == "link" }
                block.append(BannerLine(label: "note", value: "this build of Slipway cannot link \(endpoint.personality) yet; its API is served for tests and peers"))
            }
            lines += block.map { "  \($0.label.padding(toLength: 6, withPad: " ", startingAt: 0)) \($0.value)" }
        }
        lines.append("stats    \(server.endpoints[0].origin)/_sandbox/stats")
        lines.append((pushEvery.map { "A push every \($0) s. " } ?? "") + "Ctrl-C to stop.")
        // Ctrl-C and SIGTERM stop the server and remove what it made (the demo's git folder);
        // taken before the banner, which tells a waiting script the sandbox is ready.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { Task { await server.stop() } }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        let banner = lines.joined(separator: "\n")
        FileHandle.standardError.write(Data((banner + "\n").utf8))
        await server.wait()
        await server.stop()   // finishes the clean-up a signal started, before the process exits
        Terminal.error("sandbox stopped")
    }
}
