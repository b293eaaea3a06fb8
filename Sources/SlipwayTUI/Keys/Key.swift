/// A key press as the backend decodes it (ncurses key codes and wide characters).
public enum Key: Hashable, Sendable {
    case char(Character)
    case ctrl(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, escape, backspace, tab, backTab, delete

    /// How help, hints and the README write it.
    public var label: String {
        switch self {
        case let .char(c): c == " " ? "space" : String(c)
        case let .ctrl(c): "ctrl-\(c)"
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .pageUp: "pgup"
        case .pageDown: "pgdn"
        case .home: "home"
        case .end: "end"
        case .enter: "enter"
        case .escape: "esc"
        case .backspace: "backspace"
        case .tab: "tab"
        case .backTab: "shift-tab"
        case .delete: "del"
        }
    }

    /// Reads a key name as written in help and (later) in `[keys]` remaps: `j`, `ctrl-d`, `enter`.
    public init?(name: String) {
        let lower = name.lowercased()
        let named: [String: Key] = ["up": .up, "down": .down, "left": .left, "right": .right, "pgup": .pageUp,
                                    "pgdn": .pageDown, "home": .home, "end": .end, "enter": .enter, "esc": .escape,
                                    "backspace": .backspace, "tab": .tab, "shift-tab": .backTab, "del": .delete,
                                    "space": .char(" "), "↑": .up, "↓": .down, "←": .left, "→": .right]
        if let key = named[lower] { self = key; return }
        if lower.hasPrefix("ctrl-"), name.count == 6, let c = lower.last { self = .ctrl(c); return }
        guard name.count == 1, let c = name.first else { return nil }
        self = .char(c)
    }
}
