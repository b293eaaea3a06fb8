import Foundation
import SlipwayHTTP
import Logging

/// Runs the commands that act on deployments — a user's `deploy` and `cancel`, from the CLI or a
/// dashboard beside the engine — with the deployer, apart from the sync engine: a deploy is
/// queued at once even while a sync cycle spends minutes on a slow provider.
public actor DeploymentCommandRunner {
    let store: Store
    let deployer: Deployer
    let clock: any SlipwayClock
    let logger: Logger

    public init(store: Store, deployer: Deployer, clock: any SlipwayClock = SystemClock(), logger: Logger = Logger(label: "slipway.commands")) {
        self.store = store
        self.deployer = deployer
        self.clock = clock
        self.logger = logger
    }

    /// Until the task is cancelled: each commit by another process (`wake`) and each `interval`
    /// look for queued commands.
    public func run(wake: AsyncStream<Void>? = nil, interval: TimeInterval = 1) async {
        try? store.failInterruptedCommands(kinds: EngineCommandKind.deployment, now: clock.now)
        let signal = WakeSignal()
        let listener = Task {
            guard let wake else { return }
            for await _ in wake { await signal.fire() }
        }
        defer { listener.cancel() }
        while !Task.isCancelled {
            await runPending()
            await signal.wait(upTo: interval, clock: clock)
        }
    }

    /// Every queued deploy and cancel, oldest first.
    public func runPending() async {
        while !Task.isCancelled, let command = try? store.claimNextCommand(kinds: EngineCommandKind.deployment, now: clock.now) {
            let (status, result) = await perform(command)
            do {
                try store.finishCommand(id: command.id!, status: status, result: result, now: clock.now)
            } catch {
                logger.error("cannot record a command's result", metadata: ["command": "\(command.id!)", "error": "\(error)"])
            }
        }
    }

    private func perform(_ command: EngineCommand) async -> (EngineCommandStatus, String) {
        switch command.kind {
        case .deploy: await deploy(payload: command.payload)
        case .cancel: await cancel(payload: command.payload)
        case .syncCycle, .refresh, .installWebhook, .mirrorRepository, .followLog: (.failed, "\(command.kind.rawValue) is the sync engine's command")
        }
    }

    /// `{"app": "web", "commit": "…", "cause": "…"}`: queue a deployment (of the branch head
    /// when no commit is given) and let the deployer start what may start.
    private func deploy(payload: String) async -> (EngineCommandStatus, String) {
        guard let request = try? DeployPayload.decode(payload) else { return (.failed, "malformed deploy request") }
        do {
            let (deployment, created) = try await deployer.deploy(app: request.app, commit: request.commit, cause: request.cause)
            await deployer.step()
            guard created else {
                return (.failed, "deployment \(deployment.id!) of \(deployment.commitHash.prefix(7)) is already \(deployment.phase.rawValue); "
                                 + "follow it with 'slipway logs \(deployment.id!) --follow', or cancel it first")
            }
            return (.done, "deployment \(deployment.id!) of \(deployment.commitHash.prefix(7)) queued")
        } catch {
            return (.failed, "\(error)")
        }
    }

    /// `{"deployment": 7}`: stop it (SIGTERM, then SIGKILL after the grace period).
    private func cancel(payload: String) async -> (EngineCommandStatus, String) {
        guard let request = try? CancelPayload.decode(payload) else { return (.failed, "malformed cancel request") }
        do {
            return try await deployer.cancel(deploymentID: request.deployment)
                ? (.done, "deployment \(request.deployment) is being canceled")
                : (.failed, "deployment \(request.deployment) is not running")
        } catch {
            return (.failed, "\(error)")
        }
    }
}
