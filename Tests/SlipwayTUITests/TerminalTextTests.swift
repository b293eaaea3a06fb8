import Testing
@testable import SlipwayTUI

@Suite("Terminal text")
struct TerminalTextTests {
    @Test("escape sequences, CR and other C0 controls are shown in caret notation", arguments: [
        ("\u{1B}[2J\u{1B}]52;c;AAAA\u{07}", "^[[2J^[]52;c;AAAA^G"),
        ("fix\rFAKE", "fix^MFAKE"),
        ("a\nb\tc", "a^Jb^Ic"),
        ("del\u{7F}", "del^?"),
        ("nul\u{0}", "nul^@"),
    ])
    func c0(input: String, shown: String) {
        #expect(TerminalText.sanitize(input) == shown)
    }

    @Test("C1 controls, bidi overrides and zero-width characters are shown as code points")
    func invisible() {
        #expect(TerminalText.sanitize("\u{9B}31m") == "\\u{009B}31m")
        #expect(TerminalText.sanitize("admin\u{202E}gnp.exe") == "admin\\u{202E}gnp.exe")
        #expect(TerminalText.sanitize("a\u{200B}b\u{2066}c\u{FEFF}") == "a\\u{200B}b\\u{2066}c\\u{FEFF}")
    }

    @Test("ordinary text, CJK and emoji pass unchanged")
    func ordinary() {
        for text in ["feature/login", "修复登录", "🚀 deploy", "Ünïcödé — fine"] {
            #expect(TerminalText.sanitize(text) == text)
            #expect(!TerminalText.needsSanitizing(text))
        }
        #expect(TerminalText.needsSanitizing("x\u{1B}"))
    }
}

@Suite("Terminal probe")
struct TerminalProbeTests {
    @Test("a known TERM has a terminfo entry and colours")
    func known() {
        let caps = TerminalProbe.probe(environment: ["TERM": "xterm-256color"])
        #expect(caps.terminfoFound)
        #expect(caps.colors == 256)
        #expect(caps.ncursesVersion.contains("ncurses"))
    }

    @Test("an unknown TERM is reported, not fatal")
    func unknown() {
        let caps = TerminalProbe.probe(environment: ["TERM": "no-such-terminal-xyz"])
        #expect(!caps.terminfoFound)
        #expect(caps.colors == 0)
    }

    @Test("no TERM at all")
    func none() {
        let caps = TerminalProbe.probe(environment: ["NO_COLOR": "1"])
        #expect(caps.term == nil)
        #expect(!caps.terminfoFound)
        #expect(caps.noColor)
    }
}

@Suite("Display width")
struct DisplayWidthTests {
    @Test("columns, not characters", arguments: [
        ("main", 4), ("修复登录", 8), ("ログイン", 8), ("🚀 deploy", 9), ("Zoë Ångström", 12), ("e\u{301}", 1), ("a\u{200B}b", 2), ("한국어", 6),
    ])
    func widths(text: String, columns: Int) {
        #expect(DisplayWidth.of(text) == columns)
    }

    @Test("truncation ends with an ellipsis and never splits a wide character")
    func truncate() {
        #expect(DisplayWidth.truncate("feature/login", to: 8) == "feature…")
        #expect(DisplayWidth.truncate("修复登录页面", to: 7) == "修复登…")
        #expect(DisplayWidth.of(DisplayWidth.truncate("修复登录页面", to: 6)) <= 6)
        #expect(DisplayWidth.truncate("short", to: 10) == "short")
    }
}
