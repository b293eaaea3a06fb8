import Foundation
import SlipwayHTTP
import Synchronization

/// A service's process and how it ended, if it has.
final class ServiceRun: Sendable {
    let appID: Int64
    let deploymentID: Int64
    let flag = CancelFlag()
    private let outcome = Mutex<StepProcess.Outcome?>(nil)
    private let ended = Mutex<Bool>(false)
    private let taskBox = Mutex<Task<Void, Never>?>(nil)

    init(appID: Int64, deploymentID: Int64) {
        self.appID = appID
        self.deploymentID = deploymentID
    }

    var hasEnded: Bool { ended.withLock { $0 } }
    var exit: StepProcess.Outcome? { outcome.withLock { $0 } }

    func start(_ arguments: [String], environment: [String: String], directory: String, grace: TimeInterval,
               tracking: (started: @Sendable (pid_t) -> Void, ended: @Sendable () -> Void),
               output: @escaping @Sendable (LogStream, String) -> Void) {
        let task = Task { [self] in
            let result = try? await StepProcess.run(arguments, environment: environment, directory: directory, grace: grace, cancel: flag,
                                                    started: tracking.started, output: output)
            tracking.ended()
            outcome.withLock { $0 = result }
            ended.withLock { $0 = true }
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
    static let settleTime: TimeInterval = 2
    static let defaultReadyTimeout: TimeInterval = 60

    func startService(app: App, deploymentID: Int64, folder: String, variables: [String: String], deadline: Date?,
                      step: DeploymentStep, cancel: CancelFlag) async throws {
        try store.updateStep(id: step.id!, status: .running, now: Date())
        let run = launchService(app: app, deploymentID: deploymentID, folder: folder, variables: variables)
        let readyBy = deadline ?? Date().addingTimeInterval(Self.defaultReadyTimeout)
        let started = Date()
        while true {
            if cancel.isCanceled {
                await run.stop()
                try store.updateStep(id: step.id!, status: .canceled, now: Date())
                throw StepFailure(message: "canceled during run", canceled: true)
            }
            if run.hasEnded {
                let description = run.exit?.describe(timeout: nil) ?? "could not start"
                try store.updateStep(id: step.id!, status: .failed, exitStatus: run.exit?.exitStatus.map(Int.init), now: Date())
                throw StepFailure(message: "the service exited (\(description)) before it was ready")
            }
            if let url = app.healthURL {
                if await Self.healthy(url) { break }
            } else if Date().timeIntervalSince(started) >= Self.settleTime {
                break
            }
            if Date() >= readyBy {
                await run.stop()
                try store.updateStep(id: step.id!, status: .failed, now: Date())
                throw StepFailure(message: app.healthURL.map { "the service was not ready within \(Int(readyBy.timeIntervalSince(started))) s (\($0) never answered 2xx)" }
                                  ?? "the service did not stay up")
            }
            try await Task.sleep(nanoseconds: 300_000_000)
        }
        try store.updateStep(id: step.id!, status: .succeeded, now: Date())
        // Ready: only now does the previous one go.
        if let previous = services[app.id!] { await previous.stop() }
        services[app.id!] = run
        supervise(run, app: app, folder: folder, variables: variables)
        try? store.appendLog(deploymentID: deploymentID, step: "run", stream: .system,
                             text: "service ready\(app.healthURL.map { " (\($0) answered)" } ?? "")\n", cap: settings.logCap, now: Date())
    }

    func launchService(app: App, deploymentID: Int64, folder: String, variables: [String: String]) -> ServiceRun {
        let run = ServiceRun(appID: app.id!, deploymentID: deploymentID)
        let store = self.store
        let cap = settings.logCap
        run.start(["/bin/sh", "-c", app.runCommand], environment: variables, directory: folder, grace: settings.grace,
                  tracking: tracking(deploymentID: deploymentID, step: "run")) { stream, text in
            try? store.appendLog(deploymentID: deploymentID, step: "run", stream: stream, text: text, cap: cap, now: Date())
        }
        return run
    }

    /// Starts the service again when it exits while it is still the app's current one.
    private func supervise(_ run: ServiceRun, app: App, folder: String, variables: [String: String]) {
        Task { [weak self] in
            var current = run
            var pause: TimeInterval = 1
            while true {
                while !current.hasEnded { try? await Task.sleep(nanoseconds: 200_000_000) }
                guard let self, await self.isCurrent(current), !current.flag.isCanceled else { return }
                let description = current.exit?.describe(timeout: nil) ?? "unknown"
                try? self.store.appendLog(deploymentID: current.deploymentID, step: "run", stream: .system,
                                          text: "service exited (\(description)); starting it again in \(Int(pause)) s\n", cap: self.settings.logCap, now: Date())
                try? await Task.sleep(nanoseconds: UInt64(pause * 1_000_000_000))
                guard await self.isCurrent(current) else { return }
                let next = await self.relaunch(current, app: app, folder: folder, variables: variables)
                current = next
                pause = min(pause * 2, 60)
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
                                 cap: settings.logCap, now: Date())
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
