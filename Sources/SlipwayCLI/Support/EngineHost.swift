import Dispatch
import Foundation
import Logging
import SlipwayCore
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
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { Task { await runtime.stop() } }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }

        let printer = printChanges ? Task { await self.printChanges() } : nil
        await runtime.wait()
        printer?.cancel()
        await runtime.stop()
        logger.info("engine stopped")
        Terminal.error("stopped; the engine lock is released")
    }

    /// Prints change events as the engine appends them.
    private func printChanges() async {
        var last = (try? context.store.lastChangeEventID()) ?? 0
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 500_000_000)
            let events = (try? context.store.changeEvents(after: last)) ?? []
            for event in events {
                last = event.id ?? last
                let short = event.new.map { " → \($0.prefix(7))" } ?? ""
                Terminal.out("\(JSONOutput.timestamp(event.createdAt))  \(event.kind.rawValue.replacingOccurrences(of: "_", with: " ")) \(TerminalText.sanitize(event.path))\(short)")
            }
        }
    }
}
