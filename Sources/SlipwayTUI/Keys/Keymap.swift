/// What a key binding does. Each is declared once in `Keymap.bindings`, which generates the
/// help screen, the status-bar hints and the README's key table.
public enum BindingAction: String, Sendable, CaseIterable, Hashable {
    case down, up, top, bottom, pageDown = "page_down", pageUp = "page_up", halfDown = "half_down", halfUp = "half_up"
    case open, back, filter, sort, command, refresh, detail, help, quit
}

public struct KeyBinding: Sendable, Equatable {
    public var action: BindingAction
    public var keys: [Key]
    /// One line for the help screen and the README.
    public var help: String
    /// A word or two for the status bar; nil keeps it out of the hints.
    public var hint: String?
    public var group: Group

    public enum Group: String, Sendable, CaseIterable {
        case move = "Moving"
        case browse = "Browsing"
        case app = "Dashboard"
    }
}

public struct Keymap: Sendable, Equatable {
    public var bindings: [KeyBinding]

    public static let standard = Keymap(bindings: [
        KeyBinding(action: .down, keys: [.char("j"), .down], help: "Move down", hint: nil, group: .move),
        KeyBinding(action: .up, keys: [.char("k"), .up], help: "Move up", hint: nil, group: .move),
        KeyBinding(action: .top, keys: [.char("g"), .home], help: "Go to the first row", hint: nil, group: .move),
        KeyBinding(action: .bottom, keys: [.char("G"), .end], help: "Go to the last row", hint: nil, group: .move),
        KeyBinding(action: .pageDown, keys: [.pageDown, .ctrl("f")], help: "Page down", hint: nil, group: .move),
        KeyBinding(action: .pageUp, keys: [.pageUp, .ctrl("b")], help: "Page up", hint: nil, group: .move),
        KeyBinding(action: .halfDown, keys: [.ctrl("d")], help: "Half a page down", hint: nil, group: .move),
        KeyBinding(action: .halfUp, keys: [.ctrl("u")], help: "Half a page up", hint: nil, group: .move),
        KeyBinding(action: .open, keys: [.enter, .char("l"), .right], help: "Open the selected item (drill in)", hint: "open", group: .browse),
        KeyBinding(action: .back, keys: [.escape, .backspace, .char("h"), .left], help: "Go back up a level", hint: "back", group: .browse),
        KeyBinding(action: .filter, keys: [.char("/")], help: "Filter this list as you type (enter keeps, esc clears)", hint: "filter", group: .browse),
        KeyBinding(action: .sort, keys: [.char("s")], help: "Cycle the sort order", hint: "sort", group: .browse),
        KeyBinding(action: .detail, keys: [.char("p")], help: "Toggle the detail pane (message, links, clone URL)", hint: "detail", group: .browse),
        KeyBinding(action: .refresh, keys: [.char("r")], help: "Refresh this item now (ahead of background sync)", hint: "refresh", group: .browse),
        KeyBinding(action: .command, keys: [.char(":")], help: "Command line (:repos, :accounts, :q …; tab completes)", hint: "cmd", group: .app),
        KeyBinding(action: .help, keys: [.char("?")], help: "Show or hide this help", hint: "help", group: .app),
        KeyBinding(action: .quit, keys: [.char("q"), .ctrl("c")], help: "Quit", hint: "quit", group: .app),
    ])

    /// The action a key triggers, if any.
    public func action(for key: Key) -> BindingAction? {
        bindings.first { $0.keys.contains(key) }?.action
    }

    public func binding(_ action: BindingAction) -> KeyBinding? {
        bindings.first { $0.action == action }
    }

    /// The status-bar hints, in declaration order: `enter open  esc back  …`.
    public var hints: [(keys: String, hint: String)] {
        bindings.compactMap { binding in binding.hint.map { (binding.keys[0].label, $0) } }
    }

    /// The README's key table, generated from the declarations (a test keeps them equal).
    public func markdownTable() -> String {
        var lines = ["| Keys | Action |", "|---|---|"]
        for binding in bindings {
            let keys = binding.keys.map { "`\($0.label)`" }.joined(separator: " ")
            lines.append("| \(keys) | \(binding.help) |")
        }
        return lines.joined(separator: "\n")
    }
}
