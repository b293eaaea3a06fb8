import Foundation
import Logging
import SlipwayCore
import SlipwayTUI
import Synchronization

/// The engine a dashboard hosts when no other process runs one (DESIGN.md: the embedded
/// default) — the same runtime as the daemon's, its webhook receiver included. Without the lock
/// it retries every few seconds and takes the engine over when the holder exits; `badge` tells
/// the header where the engine runs.
final class EmbeddedEngine: Sendable {
    let context: CommandContext
    let retryInterval: TimeInterval
    private let tuning: @Sendable (inout SyncEngine.Settings) -> Void
    private let runtime = Mutex<EngineRuntime?>(nil)
    private let supervisor = Mutex<Task<Void, Never>?>(nil)

    let receives: Bool

    init(context: CommandContext, retryInterval: TimeInterval = 3, receives: Bool = true,
         tuning: @escaping @Sendable (inout SyncEngine.Settings) -> Void = { _ in }) {
        self.context = context
        self.receives = receives
        self.retryInterval = retryInterval
        self.tuning = tuning
    }

    /// Starts trying to host the engine (returns at once).
    func start() {
        let task = Task { [self] in
            while !Task.isCancelled {
                if runtime.withLock({ $0 == nil }) { await tryToHost() }
                try? await Task.sleep(nanoseconds: UInt64(retryInterval * 1_000_000_000))
            }
        }
        supervisor.withLock { $0 = task }
    }

    private func tryToHost() async {
        guard EngineLock.holder(path: context.paths.engineLockFile) == nil else { return }
        let logger = Logger(label: "slipway.tui-engine")
        // The screen is the dashboard's: a receiver that cannot listen is said in the log only.
        guard let started = try? await EngineRuntime.start(context: context, role: "tui", listen: receives, logger: logger, tuning: tuning,
                                                           receiverFailed: { logger.warning("\($0)") }) else { return }
        runtime.withLock { $0 = started }
    }

    var badge: EngineBadge {
        if runtime.withLock({ $0 != nil }) { return .embedded }
        guard let holder = EngineLock.holder(path: context.paths.engineLockFile) else { return .none }
        return .elsewhere(pid: holder.pid, role: holder.host)
    }

    /// Stops the engine (the write in progress finishes), its receiver, and releases the lock.
    func stop() async {
        supervisor.withLock { $0?.cancel() }
        let taken = runtime.withLock { current in
            let taken = current
            current = nil
            return taken
        }
        await taken?.stop()
    }
}
