import Foundation

/// Where the CLI writes: data to stdout, messages to stderr (prefixed so they stand out in scripts).
enum Terminal {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data(("slipway: " + text + "\n").utf8))
    }

    static func warning(_ text: String) {
        FileHandle.standardError.write(Data(("slipway: warning: " + text + "\n").utf8))
    }

    /// A progress line on stderr that rewrites itself; nil clears it.
    static func progress(_ text: String?) {
        let line = text.map { "\r\u{1B}[K" + String($0.prefix(100)) } ?? "\r\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }

    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
}

/// Reading a secret from stdin: at a terminal, a prompt says what is awaited and the typed or
/// pasted text is not echoed; from a pipe, the first line, silently.
enum SecretInput {
    /// The terminal's settings while echo is off, for the interrupt handler to put back.
    nonisolated(unsafe) private static var saved = termios()

    static func readLine(prompt: String) -> String? {
        guard isatty(STDIN_FILENO) == 1 else {
            let text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        FileHandle.standardError.write(Data("slipway: \(prompt) (it is not shown): ".utf8))
        var original = termios()
        guard tcgetattr(STDIN_FILENO, &original) == 0 else { return Swift.readLine() }
        saved = original
        var quiet = original
        quiet.c_lflag &= ~tcflag_t(ECHO | ECHONL)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        // Ctrl-C while echo is off must not leave the terminal silent.
        let previous = signal(SIGINT) { _ in
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &SecretInput.saved)
            _ = write(STDERR_FILENO, "\n", 1)
            _exit(130)
        }
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
            signal(SIGINT, previous)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return Swift.readLine(strippingNewline: true)
    }
}
