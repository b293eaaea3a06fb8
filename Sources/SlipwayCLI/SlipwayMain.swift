import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayHTTP

/// Runs the command line and maps every outcome onto the contract's exit codes:
/// 0 success, 1 failure (one line on stderr), 2 usage, 3 `sync --once` stopped by a rate limit.
public enum SlipwayMain {
    public static func run(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        // Before any file is opened: nothing Slipway writes (the database's -wal and -shm
        // included) is readable by others, whatever the caller's umask.
        umask(0o077)
        var arguments = arguments
        // `slipway --home DIR <command>`: a home given before the command applies to it. It
        // travels as SLIPWAY_HOME, which the flag outranks anyway, and which child processes
        // of this run then share.
        if let home = extractLeadingHome(&arguments) { setenv("SLIPWAY_HOME", home, 1) }
        let code = await execute(arguments: arguments)
        exit(code)
    }

    /// Removes a `--home DIR` / `--home=DIR` that comes before the first command word.
    static func extractLeadingHome(_ arguments: inout [String]) -> String? {
        guard let first = arguments.first else { return nil }
        if first == "--home", arguments.count >= 2 {
            let home = arguments[1]
            arguments.removeFirst(2)
            return home
        }
        if first.hasPrefix("--home=") {
            arguments.removeFirst()
            return String(first.dropFirst("--home=".count))
        }
        return nil
    }

    /// Parses and runs; returns the exit status instead of exiting (tests call this).
    public static func execute(arguments: [String]) async -> Int32 {
        let command: any ParsableCommand
        do {
            command = try Slipway.parseAsRoot(arguments)
        } catch {
            return report(parseError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                // A person waits for a command: its requests go first, unless it says otherwise
                // (the engine it hosts runs its own work in the background lane).
                try await RequestContext.run(lane: .interactive) { try await asyncCommand.run() }
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
            return 0
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch let error as SlipwayCLIError {
            Terminal.error(error.description)
            return error.exitCode
        } catch {
            // Help and version requests, and validation errors, arrive here from ArgumentParser.
            return report(parseError: error)
        }
    }

    private static func report(parseError error: any Error) -> Int32 {
        let code = Slipway.exitCode(for: error)
        let message = Slipway.fullMessage(for: error)
        if code == .success {
            if !message.isEmpty { Terminal.out(message) }
            return 0
        }
        var text = code == .failure ? message.split(whereSeparator: \.isNewline).joined(separator: " ") : message
        if text.hasPrefix("Error: ") { text.removeFirst("Error: ".count) }
        Terminal.error(text)
        // ArgumentParser uses EX_USAGE (64); the contract says 2 for usage errors.
        return code == .validationFailure ? 2 : code.rawValue
    }
}
