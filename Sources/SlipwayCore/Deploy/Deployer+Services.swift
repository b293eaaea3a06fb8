import Foundation
import SlipwayHTTP
import Synchronization

/// A service's process and how it ended, if it has.
final class ServiceRun: Sendable {
    let appID: Int64
    let deploymentID: Int64
    let flag = CancelFlag()
    private let outcome = Mutex<StepProcess.Outcome?>(nil)
    /// Fires when the process has ended (its outcome is set first).
    let ended = Signal()
    private let taskBox = Mutex<Task<Void, Never>?>(nil)

    init(appID: Int64, deploymentID: Int64) {
        self.appID = appID
        self.deploymentID = deploymentID
    }

    var hasEnded: Bool { ended.hasFired }
    var exit: StepProcess.Outcome? { outcome.withLock { $0 } }

    func start(_ arguments: [String], environment: [String: String], directory: String, grace: TimeInterval, clock: any SlipwayClock,
               tracking: (started: @Sendable (pid_t) -> Void, ended: @Sendable () -> Void),
               output: @escaping @Sendable (LogStream, String) -> Void) {
        let task = Task { [self] in
            let result = try? await StepProcess.run(arguments, environment: environment, directory: directory, grace: grace, cancel: flag,
                                                    clock: clock, started: tracking.started, output: output)
            tracking.ended()
            outcome.withLock { $0 = result }
            ended.fire()
        }
        taskBox.withLock { $0 = task }
    }

    /// SIGTERM to its group, SIGKILL after the grace period; returns once it is gone.
    func stop() async {
        flag.cancel()
        await taskBox.withLock { $0 }?.value
    }
}

/// Services (`--service`): long-running run commands. ACTIVE once ready (the health URL answers
/// 2xx, or without one the process is still up after a moment); the app's previous service is
/// stopped only then. A service that exits is started again with a growing pause; after an
/// engine restart the ACTIVE services start again.
extension Deployer {
    func startService(app: App, deploymentID: Int64, folder: String, variables: [String: String], deadline: Date?,
                      step: DeploymentStep, cancel: CancelFlag) async throws {
        try store.updateStep(id: step.id!, status: .running, now: clock.now)
        let run = launchService(app: app, deploymentID: deploymentID, folder: folder, variables: variables)
        let started = clock.now
        let readyBy = deadline ?? started.addingTimeInterval(settings.readyTimeout)
        let settledAt = started.addingTimeInterval(settings.settleTime)
        while true {
            if cancel.isCanceled {
                await run.stop()
                try store.updateStep(id: step.id!, status: .canceled, now: clock.now)
                throw StepFailure(message: "canceled during run", canceled: true)
            }
            if run.hasEnded {
                let description = run.exit?.describe(timeout: nil) ?? "could not start"
                try store.updateStep(id: step.id!, status: .failed, exitStatus: run.exit?.exitStatus.map(Int.init), now: clock.now)
                throw StepFailure(message: "the service exited (\(description)) before it was ready")
            }
            if let url = app.healthURL {
                if await Self.healthy(url) { break }
            } else if clock.now >= settledAt {
                break
            }
            if clock.now >= readyBy {
                await run.stop()
                try store.updateStep(id: step.id!, status: .failed, now: clock.now)
                throw StepFailure(message: app.healthURL.map { "the service was not ready within \(Int(readyBy.timeIntervalSince(started))) s (\($0) never answered 2xx)" }
                                  ?? "the service did not stay up")
            }
            // The next look: the next health poll, or the moment it settles; sooner if it exits
            // or a cancel comes.
            let next = app.healthURL == nil ? settledAt : clock.now.addingTimeInterval(settings.healthPollInterval)
            await clock.sleep(until: min(next, readyBy), orUntilAnyOf: [run.ended, cancel.signal])
        }
        try store.updateStep(id: step.id!, status: .succeeded, now: clock.now)
        // Ready: only now does the previous one go.
        if let previous = services[app.id!] { await previous.stop() }
        services[app.id!] = run
        supervise(run, app: app, folder: folder, variables: variables)
        try? store.appendLog(deploymentID: deploymentID, step: "run", stream: .system,
                             text: "service ready\(app.healthURL.map { " (\($0) answered)" } ?? "")\n", cap: settings.logCap, now: clock.now)
    }

    func launchService(app: App, deploymentID: Int64, folder: String, variables: [String: String]) -> ServiceRun {
        let run = ServiceRun(appID: app.id!, deploymentID: deploymentID)
        let store = self.store
        let cap = settings.logCap
        let clock = self.clock
        run.start(["/bin/sh", "-c", app.runCommand], environment: variables, directory: folder, grace: settings.grace, clock: clock,
                  tracking: tracking(deploymentID: deploymentID, step: "run")) { stream, text in
            try? store.appendLog(deploymentID: deploymentID, step: "run", stream: stream, text: text, cap: cap, now: clock.now)
        }
        return run
    }

    /// Starts the service again when it exits while it is still the app's current one.
    private func supervise(_ run: ServiceRun, app: App, folder: String, variables: [String: String]) {
        let clock = self.clock
        let settings = self.settings
        Task { [weak self] in
            var current = run
            var pause = settings.firstRestartPause
            while true {
                await current.ended.wait()
                guard let self, await self.isCurrent(current), !current.flag.isCanceled else { return }
                let description = current.exit?.describe(timeout: nil) ?? "unknown"
                try? self.store.appendLog(deploymentID: current.deploymentID, step: "run", stream: .system,
                                          text: "service exited (\(description)); starting it again in \(Int(pause)) s\n", cap: settings.logCap, now: clock.now)
                // A stop (the app replaced or deleted, the engine stopping) ends the pause at once.
                await clock.sleep(until: clock.now.addingTimeInterval(pause), orUntilAnyOf: [current.flag.signal])
                guard !current.flag.isCanceled, await self.isCurrent(current) else { return }
                let next = await self.relaunch(current, app: app, folder: folder, variables: variables)
                current = next
                pause = min(pause * 2, settings.maxRestartPause)
            }
        }
    }

    private func isCurrent(_ run: ServiceRun) -> Bool { services[run.appID] === run }

    private func relaunch(_ run: ServiceRun, app: App, folder: String, variables: [String: String]) -> ServiceRun {
        let next = launchService(app: app, deploymentID: run.deploymentID, folder: folder, variables: variables)
        services[run.appID] = next
        return next
    }

    /// After a restart: the services that were ACTIVE run again, from their deployment's folder.
    func restartActiveServices() async {
        guard let apps = try? store.apps() else { return }
        for app in apps where app.isService {
            guard services[app.id!] == nil,
                  let active = (try? store.deployments(appID: app.id!))?.first(where: { $0.phase == .active }), let id = active.id else { continue }
            let folder = Self.folder(workRoot: workRoot, app: app.name, deployment: id)
            guard FileManager.default.fileExists(atPath: folder) else { continue }
            let variables = stepVariables(app: app, deployment: active, secrets: (try? secrets(app)) ?? [:])
            try? store.appendLog(deploymentID: id, step: "run", stream: .system, text: "the engine restarted; starting the service again\n",
                                 cap: settings.logCap, now: clock.now)
            let run = launchService(app: app, deploymentID: id, folder: folder, variables: variables)
            services[app.id!] = run
            supervise(run, app: app, folder: folder, variables: variables)
        }
    }

    /// Stops every service (the engine is stopping).
    func stopServices() async {
        let all = Array(services.values)
        services.removeAll()
        for run in all { await run.stop() }
    }

    static func healthy(_ url: String) async -> Bool {
        var options = TransferOptions()
        options.connectTimeout = 1
        options.lowSpeedTime = 2
        let transport = CurlTransport(options: options)
        defer { transport.shutdown() }
        guard let response = try? await transport.perform(HTTPRequest(url: url)) else { return false }
        return (200..<300).contains(response.status)
    }
}
