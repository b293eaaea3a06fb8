import ArgumentParser
import Foundation
import SlipwayCore

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Keep every file under DIR (overrides SLIPWAY_HOME and XDG).", valueName: "DIR"))
    var home: String?
    @Flag(name: .long, help: "Change nothing: no deploy, cancel, rollback, link or webhook changes (as [ui] readonly = true).")
    var readonly = false

    /// The resolved locations, with folders created owner-only.
    func paths(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SlipwayPaths {
        try Self.paths(home: home, environment: environment)
    }

    static func paths(home: String?, environment: [String: String]) throws -> SlipwayPaths {
        do {
            let paths = try SlipwayPaths.resolve(homeFlag: home, environment: environment)
            try paths.createDirectories()
            return paths
        } catch {
            throw SlipwayCLIError.failure("\(error)")
        }
    }

    /// Paths, config (warnings to stderr), logging and the store: what most commands need.
    func context(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CommandContext {
        var context = try Self.context(home: home, environment: environment)
        if readonly { context.config.ui.readonly = true }
        return context
    }

    static func context(home: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CommandContext {
        let paths = try paths(home: home, environment: environment)
        try? SlipwayLogging.bootstrap(paths: paths, environment: environment)
        let loaded: LoadedConfig
        do {
            loaded = try ConfigLoader.load(path: paths.configFile)
        } catch {
            // Every problem at once, a line each; the last is the command's failure.
            for problem in error.problems.dropLast() { Terminal.error(problem.description) }
            throw SlipwayCLIError.failure(error.problems.last?.description ?? error.description)
        }
        for warning in loaded.warnings { Terminal.warning(warning.description) }
        let store: Store
        do {
            store = try Store(path: paths.databaseFile)
        } catch {
            throw SlipwayCLIError.failure("\(error)")
        }
        return CommandContext(paths: paths, config: loaded.config, store: store, loadedConfig: loaded)
    }
}

struct CommandContext {
    var paths: SlipwayPaths
    var config: SlipwayConfig
    var store: Store
    /// The config as read, to name a key's line in later messages.
    var loadedConfig: LoadedConfig? = nil

    var isReadonly: Bool { config.ui.readonly }

    /// Write commands stop here on a read-only host, in one line.
    func refuseIfReadonly(_ command: String) throws {
        guard isReadonly else { return }
        throw SlipwayCLIError.failure("'\(command)' changes things, and this home is read-only (--readonly or [ui] readonly = true in \(paths.configFile))")
    }
}

/// `--json` for commands that print data.
struct JSONFlag: ParsableArguments {
    @Flag(name: .long, help: "Print JSON on stdout (messages still go to stderr).")
    var json = false
}

func printJSON<T: Encodable>(_ value: T) throws {
    Terminal.out(try JSONOutput.string(value))
}

/// `--yes` for destructive commands: at a terminal they ask; elsewhere `--yes` is required.
struct ConfirmFlag: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Do it without asking (required when stdin is not a terminal).")
    var yes = false

    /// Returns when confirmed; otherwise a one-line failure saying nothing changed.
    func confirm(_ question: String, refused: String) throws {
        if yes { return }
        guard isatty(STDIN_FILENO) == 1 else {
            throw SlipwayCLIError.failure("\(refused); stdin is not a terminal to ask, so pass --yes to confirm")
        }
        FileHandle.standardError.write(Data("slipway: \(question) [y/N] ".utf8))
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
        guard answer == "y" || answer == "yes" else { throw SlipwayCLIError.failure("\(refused): not confirmed") }
    }
}
