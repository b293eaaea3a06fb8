import Dispatch
import Foundation
import Logging
import SlipwayCore
import SlipwayProviders
import SlipwayHTTP
import SlipwayServer
import SlipwayTUI

/// Runs the engine in the foreground of this process (`slipway daemon`, `slipway sync`): takes the
/// home's engine lock, stops gracefully on SIGINT/SIGTERM (the running write finishes, the lock is
/// released), and optionally prints each change as it lands.
struct EngineHost {
    let context: CommandContext
    let role: String
    /// The daemon takes webhook deliveries; a foreground `sync` does not.
    var listensForWebhooks = false

    func run(printChanges: Bool, banner: String? = nil) async throws {
        let logger = Logger(label: "slipway.\(role)")
        // One line and nothing else when an engine already runs: no banner, no receiver bound.
        if let holder = EngineLock.holder(path: context.paths.engineLockFile) {
            throw SlipwayCLIError.failure(EngineLockError.alreadyHeld(holder).description)
        }
        // The webhook receiver before the lock, so the lock can say where it listens.
        var receiver: WebhookReceiver?
        let health = EngineHealth(store: context.store)
        if listensForWebhooks, let address = ListenAddress(context.config.webhooks.listen) {
            do {
                receiver = try await WebhookReceiver.start(host: address.host, port: address.port, dialects: ProviderRegistry.webhookDialects,
                                                           handler: StoreWebhookHandler(store: context.store, keyFile: context.paths.keyFile, logger: logger),
                                                           health: health)
            } catch {
                let why = Self.bindFailure("\(error)")
                Terminal.warning("webhooks: cannot listen on \(context.config.webhooks.listen) (\(why)); running without the receiver")
            }
        }
        let listener = receiver.flatMap { r in ListenAddress(context.config.webhooks.listen).map { "\($0.host.contains(":") ? "[\($0.host)]" : $0.host):\(r.port)" } }
        let lock: EngineLock
        do {
            lock = try EngineLock.acquire(path: context.paths.engineLockFile, info: EngineInfo(pid: getpid(), since: Date(), host: role, webhookListener: listener))
        } catch {
            await receiver?.stop()
            throw SlipwayCLIError.failure(error.description)
        }
        defer { lock.release() }
        if let banner { Terminal.error(banner) }
        logger.info("engine started", metadata: ["pid": "\(getpid())"])

        let engine = EngineFactory.make(context: context, logger: logger)
        let deployer = EngineFactory.makeDeployer(context: context, logger: Logger(label: "slipway.deployer"))
        await engine.attach(deployer)
        let watcher = try StoreWatcher(path: context.paths.databaseFile)
        health.engine(runningSince: Date())
        let task = Task {
            defer { health.engine(runningSince: nil) }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await engine.run(wake: watcher.changes()) }
                group.addTask { await deployer.run() }
            }
        }

        // Signals end the run task; the engine finishes the write in progress and returns.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }

        let printer = printChanges ? Task { await self.printChanges() } : nil
        await task.value
        printer?.cancel()
        await receiver?.stop()
        logger.info("engine stopped")
        Terminal.error("stopped; the engine lock is released")
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

    /// Prints change events as the engine appends them.
    private func printChanges() async {
        var last: Int64 = ((try? context.store.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM change_events") }) ?? nil) ?? 0
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 500_000_000)
            let events = (try? context.store.read { [last] db in
                try ChangeEvent.fetchAll(db, sql: "SELECT * FROM change_events WHERE id > ? ORDER BY id LIMIT 500", arguments: [last])
            }) ?? []
            for event in events {
                last = event.id ?? last
                let short = event.new.map { " → \($0.prefix(7))" } ?? ""
                Terminal.out("\(JSONOutput.timestamp(event.createdAt))  \(event.kind.rawValue.replacingOccurrences(of: "_", with: " ")) \(TerminalText.sanitize(event.path))\(short)")
            }
        }
    }
}
