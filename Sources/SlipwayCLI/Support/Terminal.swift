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
