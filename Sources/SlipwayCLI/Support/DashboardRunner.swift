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
    /// Whether the embedded engine takes webhook deliveries on `webhooks.listen` (the demo runs
    /// its own receiver on a free port instead).
    var engineReceives = true

    func run() async throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw SlipwayCLIError.failure(TerminalError.notATerminal.description) }
        let engine = EmbeddedEngine(context: context, receives: engineReceives, tuning: engineTuning)
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

        let options = dashboardOptions(environment: ProcessInfo.processInfo.environment)
        // Every problem with the config, keys and themes, before the screen hides the terminal
        // (the config's own warnings were printed as it was read).
        let warnings = context.loadedConfig?.warnings ?? []
        if !options.startupMessages.isEmpty || !warnings.isEmpty {
            for problem in options.startupMessages { Terminal.warning(problem) }
            FileHandle.standardError.write(Data("slipway: press Enter to open the dashboard anyway (Ctrl-C quits) ".utf8))
            guard readLine() != nil else { throw SlipwayCLIError.failure("not opened; fix the problems above") }
        }
        let home = context.paths.home ?? context.paths.dataDirectory
        let source = StoreSource(store: context.store, home: Self.abbreviated(home), pacing: EngineFactory.settings(config: context.config),
                                 engine: { engine.badge })
        let environment = ProcessInfo.processInfo.environment
        let loop = DashboardLoop(source: source, environment: environment, wake: wake, options: options)
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

    /// Keys after `[keys]` remaps, the theme from `ui.theme` (the default when it is broken,
    /// saying why with file and line), and `:theme` remembering its choice in the config.
    func dashboardOptions(environment: [String: String]) -> DashboardOptions {
        var options = DashboardOptions()
        let configFile = context.paths.configFile
        let setup = DashboardSetup.load(paths: context.paths, config: context.config, loaded: context.loadedConfig)
        options.keymap = setup.keymap
        options.startupMessages = setup.problems
        options.themes = setup.catalog
        if let theme = setup.theme { options.theme = theme }
        options.inTmux = !(environment["TMUX"] ?? "").isEmpty
        options.readonly = context.isReadonly
        options.notify = NotifyStyle(rawValue: context.config.ui.notify) ?? .bell
        options.terminalEnvironment = environment
        options.saveTheme = { name in
            try ConfigWriter.set("theme", to: name, inTable: "ui", path: configFile)
            return DashboardRunner.abbreviated(configFile)
        }
        return options
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
