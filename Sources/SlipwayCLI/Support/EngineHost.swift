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
        let runtime = try await EngineRuntime.start(context: context, role: role, listen: listensForWebhooks, logger: logger,
                                                    receiverFailed: { Terminal.warning($0) })
        if let banner { Terminal.error(banner) }

        // Signals end the engine; it finishes the write in progress and returns.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let stopping = Task { await runtime.wait() }
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { Task { await runtime.stop() } }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }

        let printer = printChanges ? Task { await self.printChanges() } : nil
        await stopping.value
        printer?.cancel()
        await runtime.stop()
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
