import Foundation

/// How the dashboard tells a user, perhaps on another tab, that a deployment they started or
/// watch has ended: the terminal's bell, or a desktop notification by OSC 9 (iTerm2, WezTerm,
/// Windows Terminal, ConEmu) or OSC 777 (foot, urxvt, kitty, Ghostty) where the terminal is known to
/// show one — else the bell. Inside tmux the OSC goes through its passthrough too.
public enum NotifyStyle: String, Sendable, CaseIterable {
    case bell, osc, off
}

public enum TerminalNotification {
    /// The bytes to write between frames; nil for `off`. `text` is already inert (sanitized).
    public static func bytes(_ title: String, _ body: String, style: NotifyStyle, environment: [String: String], inTmux: Bool) -> [UInt8]? {
        switch style {
        case .off:
            return nil
        case .bell:
            return [0x07]
        case .osc:
            guard let sequence = oscSequence(title, body, environment: environment) else { return [0x07] }
            guard inTmux else { return Array(sequence.utf8) }
            let escaped = sequence.replacingOccurrences(of: "\u{1B}", with: "\u{1B}\u{1B}")
            return Array(("\u{1B}Ptmux;\(escaped)\u{1B}\\").utf8)
        }
    }

    /// The notification sequence this terminal shows, if it is one known to; nil otherwise.
    static func oscSequence(_ title: String, _ body: String, environment: [String: String]) -> String? {
        // Neither title nor body may carry the sequence's own terminators.
        func plain(_ text: String) -> String { String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F && $0 != ";" }.map(Character.init)) }
        let program = environment["TERM_PROGRAM"] ?? ""
        let term = environment["TERM"] ?? ""
        if ["foot", "rxvt", "kitty", "ghostty"].contains(where: term.contains) || environment["KITTY_WINDOW_ID"] != nil || program == "ghostty" {
            return "\u{1B}]777;notify;\(plain(title));\(plain(body))\u{07}"
        }
        if ["iTerm.app", "WezTerm", "vscode"].contains(program) || environment["WT_SESSION"] != nil || environment["ConEmuPID"] != nil {
            return "\u{1B}]9;\(plain(title)): \(plain(body))\u{07}"
        }
        return nil
    }
}
