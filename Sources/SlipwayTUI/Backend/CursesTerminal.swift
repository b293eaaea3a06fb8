import CNcurses
import Foundation

public enum TerminalError: Error, CustomStringConvertible {
    case notATerminal
    case cannotStart(term: String)

    public var description: String {
        switch self {
        case .notATerminal:
            "the dashboard needs a terminal; in scripts use 'slipway ls' or 'slipway status'"
        case let .cannotStart(term):
            "cannot start the terminal (TERM=\(term)) and no fallback terminfo entry works; set TERM=xterm-256color"
        }
    }
}

/// What the keyboard and the terminal said.
enum TerminalEvent {
    case key(Key)
    case mouse(MouseEvent)
    case resize(width: Int, height: Int)
}

/// The thin ncurses backend: starts and restores the terminal, paints a cell grid (one
/// `doupdate` per frame), and decodes keys. Every call happens on the dashboard's own thread.
final class CursesTerminal {
    private let screen: OpaquePointer
    private let output: UnsafeMutablePointer<FILE>
    private let input: UnsafeMutablePointer<FILE>
    private var palette: Palette
    /// Colours the terminal has (0 with NO_COLOR or none).
    let colors: Int
    let utf8: Bool
    /// Said in the status bar when TERM had no terminfo entry here.
    let fallbackNote: String?
    private var stopped = false

    init(environment: [String: String], theme: Theme) throws {
        // The locale first: without it wide characters are written as raw bytes.
        _ = setlocale(LC_ALL, "")
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw TerminalError.notATerminal }
        let codeset = slw_locale_codeset().map { String(cString: $0) } ?? ""
        utf8 = codeset.uppercased().replacingOccurrences(of: "-", with: "") == "UTF8"
        guard let output = fdopen(dup(STDOUT_FILENO), "w"), let input = fdopen(dup(STDIN_FILENO), "r") else { throw TerminalError.notATerminal }
        self.output = output
        self.input = input
        // newterm, unlike initscr, returns NULL for a missing terminfo entry: fall back instead of dying.
        let wanted = environment["TERM"].flatMap { $0.isEmpty ? nil : $0 } ?? "xterm-256color"
        var note: String?
        var started: OpaquePointer?
        for term in [wanted, "xterm-256color", "xterm", "vt100"] {
            started = term.withCString { newterm(UnsafeMutablePointer(mutating: $0), output, input) }
            if started != nil {
                if term != wanted { note = "TERM=\(wanted) has no terminfo entry here; drawing as \(term)" }
                break
            }
        }
        guard let screen = started else { throw TerminalError.cannotStart(term: wanted) }
        self.screen = screen
        fallbackNote = note
        set_term(screen)
        slw_install_crash_handlers()
        cbreak()
        noecho()
        nonl()
        keypad(slw_stdscr(), true)
        nodelay(slw_stdscr(), true)
        // ncurses waits a full second after Esc by default; make Esc instant.
        set_escdelay(25)
        curs_set(0)
        // Clicks and the wheel (hold shift to select text with the terminal instead).
        mousemask(slw_BUTTON1_CLICKED() | slw_BUTTON1_DOUBLE_CLICKED() | slw_BUTTON4_PRESSED() | slw_BUTTON5_PRESSED(), nil)
        // Frames are coalesced by the loop; a half-drawn frame abandoned for pending input
        // (curses' typeahead check) would only show torn rows.
        typeahead(-1)
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        var colors = 0
        if !noColor, has_colors() {
            start_color()
            use_default_colors()
            colors = Int(slw_COLORS())
        }
        self.colors = colors
        palette = Palette(theme: theme, colors: colors)
    }

    /// Switches the look live: new pairs, then a full repaint on the next frame.
    func apply(_ theme: Theme) {
        palette = Palette(theme: theme, colors: colors)
        clearok(slw_stdscr(), true)
    }

    /// Writes our own control sequence (OSC 52) to the terminal, between frames.
    func writeControl(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, output) }
        fflush(output)
    }

    var size: (width: Int, height: Int) {
        var y: Int32 = 0, x: Int32 = 0
        slw_getmaxyx(slw_stdscr(), &y, &x)
        return (Int(x), Int(y))
    }

    /// Gives the terminal back: cursor, modes, the main screen. Safe to call twice.
    func stop() {
        guard !stopped else { return }
        stopped = true
        curs_set(1)
        endwin()
        delscreen(screen)
        slw_reset_crash_handlers()
        fclose(output)
        fclose(input)
    }

    deinit { stop() }

    /// Paints a frame: every row rewritten into curses' virtual screen, one `doupdate`, so only
    /// the cells that differ reach the terminal.
    func paint(_ grid: CellGrid) {
        let window = slw_stdscr()
        let (width, height) = size
        for y in 0..<min(grid.height, height) {
            slw_clear_line(window, Int32(y))
            var x = 0
            while x < min(grid.width, width) {
                let cell = grid[x, y]
                if cell.isContinuation { x += 1; continue }
                // Runs of ASCII in one style go out together; anything wider is placed on its own
                // cell, so a width disagreement with the terminal cannot shift the rest of the row.
                var run: [wchar_t] = []
                let start = x
                if cell.text.unicodeScalars.allSatisfy(\.isASCII) {
                    while x < min(grid.width, width), grid[x, y].role == cell.role, !grid[x, y].isContinuation,
                          grid[x, y].text.unicodeScalars.allSatisfy(\.isASCII) {
                        run.append(contentsOf: grid[x, y].text.unicodeScalars.map { wchar_t(bitPattern: $0.value) })
                        x += 1
                    }
                } else {
                    run = cell.text.unicodeScalars.map { wchar_t(bitPattern: $0.value) }
                    x += 1
                }
                // The bottom-right cell would scroll the screen on some terminals: leave it.
                if y == height - 1, start + run.count >= width, !run.isEmpty { run.removeLast() }
                guard !run.isEmpty else { continue }
                let style = palette.styles[cell.role] ?? (slw_A_NORMAL(), 0)
                slw_set_style(window, style.attrs, style.pair)
                run.withUnsafeBufferPointer { buffer in
                    _ = slw_put_wide(window, Int32(y), Int32(start), buffer.baseAddress, Int32(buffer.count))
                }
            }
        }
        slw_set_style(window, slw_A_NORMAL(), 0)
        wnoutrefresh(window)
        doupdate()
    }

    /// The next key or resize waiting, or nil when there is none (never blocks).
    func nextEvent() -> TerminalEvent? {
        var code: wint_t = 0
        let status = wget_wch(slw_stdscr(), &code)
        if status == slw_ERR() { return nil }
        if status == slw_KEY_CODE_YES() {
            let key = Int32(code)
            if key == slw_KEY_RESIZE() {
                let (width, height) = size
                return .resize(width: width, height: height)
            }
            if key == slw_KEY_MOUSE() {
                var event = MEVENT()
                guard getmouse(&event) == slw_OK() else { return nextEvent() }
                let state = event.bstate
                let kind: MouseEvent.Kind
                if state & slw_BUTTON1_DOUBLE_CLICKED() != 0 { kind = .doubleClick }
                else if state & slw_BUTTON1_CLICKED() != 0 || state & slw_BUTTON1_PRESSED() != 0 { kind = .click }
                else if state & slw_BUTTON4_PRESSED() != 0 { kind = .wheelUp }
                else if state & slw_BUTTON5_PRESSED() != 0 { kind = .wheelDown }
                else { return nextEvent() }
                return .mouse(MouseEvent(x: Int(event.x), y: Int(event.y), kind: kind))
            }
            return Self.functionKey(key).map(TerminalEvent.key) ?? nextEvent()
        }
        return Self.character(UInt32(code)).map(TerminalEvent.key) ?? nextEvent()
    }

    static func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: .up
        case KEY_DOWN: .down
        case KEY_LEFT: .left
        case KEY_RIGHT: .right
        case KEY_PPAGE: .pageUp
        case KEY_NPAGE: .pageDown
        case KEY_HOME: .home
        case KEY_END: .end
        case KEY_ENTER: .enter
        case KEY_BACKSPACE: .backspace
        case KEY_BTAB: .backTab
        case KEY_DC: .delete
        default: nil
        }
    }

    static func character(_ value: UInt32) -> Key? {
        switch value {
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        case 9: return .tab
        case 1...26: return .ctrl(Character(Unicode.Scalar(value + 96)!))
        default:
            guard let scalar = Unicode.Scalar(value), value >= 32 else { return nil }
            return .char(Character(scalar))
        }
    }
}
