import ArgumentParser
import SlipwaySandbox

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run a Bitbucket-compatible simulator on loopback (for tests and demos)."
    )

    @Option(help: "Port to listen on (0 picks a free one).") var port = 0
    @Option(help: "Seed for the generated world.") var seed: UInt64 = 1
    @Option(help: "Number of workspaces.") var workspaces = 3
    @Option(help: "Repositories per workspace.") var repos = 8
    @Option(help: "Branches per repository.") var branches = 6
    @Option(name: .customLong("push-every"), help: ArgumentHelp("Simulate a push every N seconds.", valueName: "SECONDS"))
    var pushEvery: Double?
    @Option(name: .customLong("rate-limit"), help: ArgumentHelp("REST requests per hour per user; 0 = none.", valueName: "N-per-hour"))
    var rateLimit = 1000
    @Option(name: .customLong("fault"), help: ArgumentHelp("Inject a fault (repeatable).", valueName: "SPEC"))
    var faults: [String] = []

    var options: SandboxOptions {
        var o = SandboxOptions()
        o.port = port
        o.seed = seed
        o.workspaces = workspaces
        o.reposPerWorkspace = repos
        o.branchesPerRepo = branches
        o.pushEverySeconds = pushEvery
        o.rateLimitPerHour = rateLimit
        o.faults = faults
        return o
    }

    func validate() throws {
        do { try options.validate() } catch { throw ValidationError(error.description) }
        if let pushEvery, pushEvery <= 0 { throw ValidationError("--push-every must be more than 0 seconds") }
    }

    func run() async throws {
        throw SlipwayCLIError.unavailable(command: "sandbox", capability: "the Bitbucket simulator")
    }
}
