import ArgumentParser
import Foundation
import SlipwayCore

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Keep every file under DIR (overrides SLIPWAY_HOME and XDG).", valueName: "DIR"))
    var home: String?

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
        try Self.context(home: home, environment: environment)
    }

    static func context(home: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CommandContext {
        let paths = try paths(home: home, environment: environment)
        try? SlipwayLogging.bootstrap(paths: paths, environment: environment)
        let loaded: LoadedConfig
        do {
            loaded = try ConfigLoader.load(path: paths.configFile)
        } catch {
            throw SlipwayCLIError.failure(error.description)
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
}

/// `--json` for commands that print data.
struct JSONFlag: ParsableArguments {
    @Flag(name: .long, help: "Print JSON on stdout (messages still go to stderr).")
    var json = false
}

func printJSON<T: Encodable>(_ value: T) throws {
    Terminal.out(try JSONOutput.string(value))
}
