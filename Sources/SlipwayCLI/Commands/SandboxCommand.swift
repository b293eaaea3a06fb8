import Dispatch
import ArgumentParser
import Foundation
import SlipwayProviders
import SlipwaySandbox

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run a Bitbucket-compatible simulator on loopback (for tests and demos).",
        discussion: """
            Serves Bitbucket Cloud's REST API 2.0 under /2.0 and git's refs advertisement under \
            /git/WORKSPACE/REPO.git, with data generated from --seed. The accepted access token is \
            derived from the seed (--print-token); /_sandbox/stats and /_sandbox/control observe and \
            steer it.

            Fault specs (--fault, repeatable): KIND[~PROBABILITY|/EVERY-NTH][xCOUNT][@PATH-GLOB], where \
            KIND is a status (503), reset, delay:SECONDS, truncate or malformed. Examples: 503x3, \
            reset~0.1@/2.0/repositories/*, delay:2@/git/*, truncate/4.
            """
    )

    @Option(help: "Port to listen on (0 picks a free one).") var port = 0
    @Option(help: "Seed for the generated world (and its token).") var seed: UInt64 = 1
    @Option(help: "Number of workspaces.") var workspaces = 3
    @Option(help: "Repositories per workspace.") var repos = 8
    @Option(help: "Branches per repository (a few repositories get 125 more).") var branches = 6
    @Option(name: .customLong("push-every"), help: ArgumentHelp("Simulate a push every N seconds.", valueName: "SECONDS"))
    var pushEvery: Double?
    @Flag(name: .customLong("no-updated-on"), help: "Pushes do not bump the repository's updated_on.") var noUpdatedOn = false
    @Option(name: .customLong("rate-limit"), help: ArgumentHelp("REST requests per hour per credential; 0 = none.", valueName: "N-per-hour"))
    var rateLimit = 1000
    @Option(name: .customLong("git-rate-limit"), help: ArgumentHelp("git requests per hour per credential; 0 = none.", valueName: "N-per-hour"))
    var gitRateLimit = 60000
    @Option(name: .customLong("retry-after"), help: ArgumentHelp("Send Retry-After with 429s.", valueName: "SECONDS"))
    var retryAfter: Int?
    @Option(name: .customLong("fault"), help: ArgumentHelp("Inject a fault (repeatable; see above).", valueName: "SPEC"))
    var faults: [String] = []
    @Option(name: .customLong("token-lifetime"), help: ArgumentHelp("OAuth access tokens expire after this many seconds.", valueName: "SECONDS"))
    var tokenLifetime = 7200
    @Flag(name: .customLong("demo-repositories"), help: "Add a 'demo' workspace of real git repositories (clone and fetch work).")
    var demoRepositories = false
    @Flag(name: .customLong("print-token"), help: "Print the access token this seed's sandbox accepts, and exit.") var printToken = false

    var options: SandboxOptions {
        var o = SandboxOptions()
        o.port = port
        o.seed = seed
        o.workspaces = workspaces
        o.reposPerWorkspace = repos
        o.branchesPerRepo = branches
        o.pushEverySeconds = pushEvery
        o.bumpUpdatedOn = !noUpdatedOn
        o.rateLimitPerHour = rateLimit
        o.gitRateLimitPerHour = gitRateLimit
        o.retryAfterSeconds = retryAfter
        o.faults = faults
        o.tokenLifetimeSeconds = tokenLifetime
        o.demoRepositories = demoRepositories
        return o
    }

    func validate() throws {
        do { try options.validate() } catch { throw ValidationError(error.description) }
        if let pushEvery, pushEvery <= 0 { throw ValidationError("--push-every must be more than 0 seconds") }
    }

    func run() async throws {
        if printToken {
            Terminal.out(SandboxService.tokens(seed: seed).access)
            return
        }
        let server: SandboxServer
        do {
            server = try await SandboxServer.start(options: options)
        } catch {
            throw SlipwayCLIError.failure("\(error)")
        }
        let world = server.service.summary
        let token = server.service.accessToken
        let banner = """
            Slipway sandbox on \(server.origin) (seed \(seed)): \(world.workspaces) workspaces, \(world.repositories) repositories, \(world.branches) branches
              API    \(server.apiURL)
              git    \(server.origin)/git/WORKSPACE/REPO.git  (user \(BitbucketProvider.descriptor.gitUsername(.bearer(token))))
              token  \(token)
              oauth  consumer key \(server.service.consumer.key), secret \(server.service.consumer.secret) (tokens live \(tokenLifetime) s)
              link   echo \(token) | \(server.linkCommand)
              stats  \(server.origin)/_sandbox/stats
            \(pushEvery.map { "A push every \($0) s. " } ?? "")Ctrl-C to stop.
            """
        FileHandle.standardError.write(Data((banner + "\n").utf8))
        // Ctrl-C and SIGTERM stop the server and remove what it made (the demo's git folder).
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { Task { await server.stop() } }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        await server.wait()
        await server.stop()   // finishes the clean-up a signal started, before the process exits
        Terminal.error("sandbox stopped")
    }
}
