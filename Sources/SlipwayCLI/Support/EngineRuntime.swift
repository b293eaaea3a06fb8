import Foundation
import Logging
import SlipwayCore
import SlipwayProviders
import SlipwayServer
import Synchronization

/// The one composition of an engine: its webhook receiver (where asked for), the home's engine
/// lock (which says where the receiver listens), the sync engine, the deployer with its command runner
/// (deploy, cancel), and the store watcher that wakes them. `slipway daemon`, `slipway sync` and the dashboard's embedded engine all
/// run this; they differ only in what they do around it (signals, printing, retrying the lock).
final class EngineRuntime: Sendable {
    private let lock: EngineLock
    private let receiver: WebhookReceiver?
    private let task: Task<Void, Never>
    private let stopped = Mutex(false)

    private init(lock: EngineLock, receiver: WebhookReceiver?, task: Task<Void, Never>) {
        self.lock = lock
        self.receiver = receiver
        self.task = task
    }

    /// Takes the lock and starts everything. With `listen`, the receiver binds `webhooks.listen`
    /// first (so the lock can name where it listens); one that cannot bind is reported through
    /// `receiverFailed` (in words) and the engine runs without it. Throws when another engine holds
    /// the lock (nothing is left bound).
    static func start(context: CommandContext, role: String, listen: Bool, logger: Logger,
                      tuning: (inout SyncEngine.Settings) -> Void = { _ in },
                      receiverFailed: (String) -> Void) async throws -> EngineRuntime {
        if let holder = EngineLock.holder(path: context.paths.engineLockFile) {
            throw SlipwayCLIError.failure(EngineLockError.alreadyHeld(holder).description)
        }
        let health = EngineHealth(store: context.store)
        var receiver: WebhookReceiver?
        if listen, let address = ListenAddress(context.config.webhooks.listen) {
            do {
                receiver = try await WebhookReceiver.start(host: address.host, port: address.port, dialects: ProviderRegistry.webhookDialects,
                                                           handler: StoreWebhookHandler(store: context.store, keyFile: context.paths.keyFile, logger: logger),
                                                           health: health)
            } catch {
                receiverFailed("webhooks: cannot listen on \(context.config.webhooks.listen) (\(bindFailure("\(error)"))); running without the receiver")
            }
        }
        let listener = receiver.flatMap { r in
            ListenAddress(context.config.webhooks.listen).map { "\($0.host.contains(":") ? "[\($0.host)]" : $0.host):\(r.port)" }
        }
        let lock: EngineLock
        do {
            lock = try EngineLock.acquire(path: context.paths.engineLockFile, info: EngineInfo(pid: getpid(), since: Date(), host: role, webhookListener: listener))
        } catch {
            await receiver?.stop()
            throw SlipwayCLIError.failure(error.description)
        }
        logger.info("engine started", metadata: ["pid": "\(getpid())", "role": "\(role)"])
        let engine = EngineFactory.make(context: context, logger: logger, tuning: tuning)
        let deployer = EngineFactory.makeDeployer(context: context, logger: Logger(label: "slipway.deployer"))
        let commands = DeploymentCommandRunner(store: context.store, deployer: deployer, logger: Logger(label: "slipway.commands"))
        let watcher = try? StoreWatcher(path: context.paths.databaseFile)
        health.engine(runningSince: Date())
        let task = Task {
            defer { health.engine(runningSince: nil) }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await engine.run(wake: watcher?.changes()) }
                group.addTask { await deployer.run() }
                group.addTask { await commands.run(wake: watcher?.changes()) }
            }
        }
        return EngineRuntime(lock: lock, receiver: receiver, task: task)
    }

    /// Until the engine returns (its task is cancelled by `stop`, or a signal's handler).
    func wait() async { await task.value }

    /// The write in progress finishes; then the receiver stops and the lock is released.
    func stop() async {
        // A signal and the end of the run may both ask; the first does it.
        guard stopped.withLock({ (done: inout Bool) -> Bool in defer { done = true }; return !done }) else {
            await task.value
            return
        }
        task.cancel()
        await task.value
        await receiver?.stop()
        lock.release()
    }

    /// Why the receiver could not listen, in words and with the fix (not NIO's errno text).
    static func bindFailure(_ raw: String) -> String {
        let text = raw.lowercased()
        if text.contains("in use") { return "something else listens there; set webhooks.listen to a free address" }
        if text.contains("permission denied") { return "ports below 1024 need privileges; set webhooks.listen to a port above 1024" }
        if text.contains("cannot assign requested address") { return "this host has no such address; use 127.0.0.1, or 0.0.0.0 behind a proxy" }
        // Whatever else: the message without the system call and errno around it.
        var message = raw
        if let colon = message.range(of: "): ") { message = String(message[colon.upperBound...]) }
        if let errno = message.range(of: " (errno:") { message = String(message[..<errno.lowerBound]) }
        return message.lowercased()
    }
}
