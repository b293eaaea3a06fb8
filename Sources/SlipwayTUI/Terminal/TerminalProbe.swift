import CNcurses
import Foundation

/// What the terminal can do, read from terminfo without taking the screen (for `slipway doctor`
/// and for choosing fallbacks before the dashboard starts).
public struct TerminalCapabilities: Sendable, Equatable, Codable {
    public var term: String?
    public var terminfoFound: Bool
    public var colors: Int
    public var localeCodeset: String
    public var isUTF8: Bool
    public var noColor: Bool
    public var ncursesVersion: String
}

public enum TerminalProbe {
    /// setlocale and setupterm work on process-wide state (`cur_term`): one probe at a time.
    private static let lock = NSLock()

    public static func probe(environment: [String: String]) -> TerminalCapabilities {
        lock.lock()
        defer { lock.unlock() }
        _ = setlocale(LC_ALL, "")
        let codeset = slw_locale_codeset().map { String(cString: $0) } ?? ""
        let term = environment["TERM"].flatMap { $0.isEmpty ? nil : $0 }
        var colors: Int32 = 0
        var found = false
        if let term {
            found = term.withCString { slw_probe_terminfo($0, &colors) } == 1
        }
        let normalized = codeset.uppercased().replacingOccurrences(of: "-", with: "")
        return TerminalCapabilities(
            term: term,
            terminfoFound: found,
            colors: Int(colors),
            localeCodeset: codeset,
            isUTF8: normalized == "UTF8",
            noColor: !(environment["NO_COLOR"] ?? "").isEmpty,
            ncursesVersion: curses_version().map { String(cString: $0) } ?? "unknown"
        )
    }
}
