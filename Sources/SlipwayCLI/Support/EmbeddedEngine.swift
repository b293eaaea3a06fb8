import Foundation
import Logging
import SlipwayCore
import SlipwayTUI
import Synchronization

/// The engine a dashboard hosts when no other process runs one (DESIGN.md: the embedded
/// default). Without the lock it retries every few seconds and takes the engine over when the
/// holder exits; `badge` tells the header where the engine runs.
final class EmbeddedEngine: Sendable {
    let context: CommandContext
    let retryInterval: TimeInterval
    private let tuning: @Sendable (inout SyncEngine.Settings) -> Void
    private let state = Mutex<(lock: EngineLock?, task: Task<Void, Never>?)>((nil, nil))
    private let supervisor = Mutex<Task<Void, Never>?>(nil)

    init(context: CommandContext, retryInterval: TimeInterval = 3, tuning: @escaping @Sendable (inout SyncEngine.Settings) -> Void = { _ in }) {
        self.context = context
        self.retryInterval = retryInterval
        self.tuning = tuning
    }

    /// Starts trying to host the engine (returns at once).
    func start() {
        let task = Task { [self] in
            while !Task.isCancelled {
                if state.withLock({ $0.lock == nil }) { tryToHost() }
                try? await Task.sleep(nanoseconds: UInt64(retryInterval * 1_000_000_000))
            }
        }
        supervisor.withLock { $0 = task }
    }

    private func tryToHost() {
        guard let lock = try? EngineLock.acquire(path: context.paths.engineLockFile, info: EngineInfo(pid: getpid(), since: Date(), host: "tui")) else { return }
        let logger = Logger(label: "slipway.tui-engine")
        logger.info("engine started inside the dashboard", metadata: ["pid": "\(getpid())"])
        let engine = EngineFactory.make(context: context, logger: logger, tuning: tuning)
        let deployer = EngineFactory.makeDeployer(context: context, logger: Logger(label: "slipway.deployer"))
        let watcher = try? StoreWatcher(path: context.paths.databaseFile)
        let task = Task {
            await engine.attach(deployer)
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await engine.run(wake: watcher?.changes()) }
                group.addTask { await deployer.run() }
            }
        }
        state.withLock { $0 = (lock, task) }
    }

    var badge: EngineBadge {
        if state.withLock({ $0.lock != nil }) { return .embedded }
        guard let holder = EngineLock.holder(path: context.paths.engineLockFile) else { return .none }
        return .elsewhere(pid: holder.pid, role: holder.host)
    }

    /// Stops the engine (the write in progress finishes) and releases the lock.
    func stop() async {
        supervisor.withLock { $0?.cancel() }
        let (lock, task) = state.withLock { current in
            let taken = current
            current = (nil, nil)
            return taken
        }
        task?.cancel()
        await task?.value
        lock?.release()
    }
}
