import Dispatch
import Foundation
import SlipwayCore
import SlipwayTUI

/// Opens the dashboard for a home: hosts the engine when nobody else does, runs the curses loop
/// on a thread of its own (the engine keeps the concurrency pool), keeps stderr off the screen,
/// and restores everything on quit, Ctrl-C or SIGTERM.
struct DashboardRunner {
    let context: CommandContext
    var engineTuning: @Sendable (inout SyncEngine.Settings) -> Void = { _ in }

    func run() async throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw SlipwayCLIError.failure(TerminalError.notATerminal.description) }
        let engine = EmbeddedEngine(context: context, tuning: engineTuning)
        engine.start()
        let wake = WakePipe()
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        let sources = [SIGINT, SIGTERM, SIGHUP].map { number -> any DispatchSourceSignal in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { wake.requestQuit() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }

        let home = context.paths.home ?? context.paths.dataDirectory
        let source = StoreSource(store: context.store, home: Self.abbreviated(home), engine: { engine.badge })
        let loop = DashboardLoop(source: source, environment: ProcessInfo.processInfo.environment, wake: wake)
        let saved = StderrRedirect(to: context.paths.logsDirectory + "/tui-stderr.log")
        let outcome: Result<Void, any Error> = await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: Result { try loop.run() }) }
            thread.name = "slipway-dashboard"
            thread.start()
        }
        saved.restore()
        await engine.stop()
        if case let .failure(error) = outcome { throw SlipwayCLIError.failure("\(error)") }
    }

    /// `~/…` for paths under the user's home.
    static func abbreviated(_ path: String) -> String {
        guard let home = ProcessInfo.processInfo.environment["HOME"], !home.isEmpty, path.hasPrefix(home + "/") else { return path }
        return "~" + path.dropFirst(home.count)
    }
}

/// Sends stderr to a file while the dashboard owns the terminal, so nothing scribbles on it.
struct StderrRedirect {
    private let saved: Int32

    init(to path: String) {
        saved = dup(STDERR_FILENO)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        if fd >= 0 {
            dup2(fd, STDERR_FILENO)
            close(fd)
        }
    }

    func restore() {
        guard saved >= 0 else { return }
        dup2(saved, STDERR_FILENO)
        close(saved)
    }
}
