import SlipwayCore

/// What a key binding does. Each is declared once in `Keymap.bindings`, which generates the
/// help screen, the status-bar hints and the README's key table.
public enum BindingAction: String, Sendable, CaseIterable, Hashable {
    case down, up, top, bottom, pageDown = "page_down", pageUp = "page_up", halfDown = "half_down", halfUp = "half_up"
    case open, back, filter, sort, command, refresh, detail, copy, url, deploy, cancel, wrap, webhook, help, quit
}

/// Where a binding applies. Two bindings may share a key only where their scopes do not meet
/// (`w` wraps a log and installs a webhook on a repository).
public enum KeyScope: String, Sendable, CaseIterable {
    case everywhere
    case repositories = "repository lists"
    case log = "log views"

    public func contains(_ kind: LevelKind) -> Bool {
        switch (self, kind) {
        case (.everywhere, _), (.repositories, .repositories), (.log, .log): true
        default: false
        }
    }

    public func overlaps(_ other: KeyScope) -> Bool {
        self == .everywhere || other == .everywhere || self == other
    }
}

public struct KeyBinding: Sendable, Equatable {
    public var action: BindingAction
    public var keys: [Key]
    /// One line for the help screen and the README.
    public var help: String
    /// A word or two for the status bar; nil keeps it out of the hints.
    public var hint: String?
    public var group: Group
    public var scope: KeyScope = .everywhere
    /// When it works; elsewhere the key says why not.
    public var when: Availability = .always
    /// Where its hint shows, when that is narrower than where it works (`G` follows in logs).
    public var hintWhen: Availability? = nil

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
        KeyBinding(action: .bottom, keys: [.char("G"), .end], help: "Go to the last row (in a log: follow it as it grows)", hint: "follow", group: .move,
                   hintWhen: .inLog),
        KeyBinding(action: .pageDown, keys: [.pageDown, .ctrl("f")], help: "Page down", hint: nil, group: .move),
        KeyBinding(action: .pageUp, keys: [.pageUp, .ctrl("b")], help: "Page up", hint: nil, group: .move),
        KeyBinding(action: .halfDown, keys: [.ctrl("d")], help: "Half a page down", hint: nil, group: .move),
        KeyBinding(action: .halfUp, keys: [.ctrl("u")], help: "Half a page up", hint: nil, group: .move),
        KeyBinding(action: .open, keys: [.enter, .char("l"), .right], help: "Open the selected item (drill in; on a commit, its detail)", hint: "open",
                   group: .browse, when: .onSelection),
        KeyBinding(action: .back, keys: [.escape, .backspace, .char("h"), .left], help: "Go back up a level (or clear the filter)", hint: "back",
                   group: .browse, when: .canGoBack),
        KeyBinding(action: .filter, keys: [.char("/")], help: "Filter this list as you type, on every column shown (enter keeps, esc clears)",
                   hint: "filter", group: .browse),
        KeyBinding(action: .sort, keys: [.char("s")], help: "Cycle the sort order", hint: "sort", group: .browse, when: .sortable),
        KeyBinding(action: .detail, keys: [.char("p")], help: "Toggle the detail pane (message, links, clone URL)", hint: "detail", group: .browse),
        KeyBinding(action: .refresh, keys: [.char("r")], help: "Refresh this item now (ahead of background sync)", hint: "refresh", group: .browse,
                   when: .refreshable),
        KeyBinding(action: .copy, keys: [.char("y")], help: "Copy the selected hash, URL or relink command to the clipboard, over ssh too (OSC 52)",
                   hint: "copy", group: .browse, when: .onCopyable),
        KeyBinding(action: .url, keys: [.char("o")], help: "Show the selected item's web URL, to copy", hint: nil, group: .browse, when: .onWebPage),
        KeyBinding(action: .deploy, keys: [.char("d")], help: "Deploy the selected app now (asks first)", hint: "deploy", group: .browse, when: .onApp),
        KeyBinding(action: .cancel, keys: [.char("x")], help: "Cancel the selected deployment, or the app's running one (asks first)", hint: "cancel",
                   group: .browse, when: .onCancellable),
        KeyBinding(action: .wrap, keys: [.char("w")], help: "Wrap long lines in a log, or cut them again", hint: "wrap", group: .browse, scope: .log,
                   when: .inLog),
        KeyBinding(action: .webhook, keys: [.char("w")], help: "Install the push webhook on the selected repository (asks first)", hint: "webhook",
                   group: .browse, scope: .repositories, when: .onRepository),
        KeyBinding(action: .command, keys: [.char(":")], help: "Command line (:repos, :accounts, :goto PATH, :q …; tab completes)", hint: "cmd", group: .app),
        KeyBinding(action: .help, keys: [.char("?")], help: "Show or hide this help", hint: "help", group: .app),
        KeyBinding(action: .quit, keys: [.char("q"), .ctrl("c")], help: "Quit", hint: "quit", group: .app),
    ])

    /// A problem with a `[keys]` remap, with its line in the config file.
    public typealias RemapProblem = ConfigError

    /// The bindings with `[keys]` remaps applied (`quit = "Q"`, `down = ["j", "ctrl-n"]`): a
    /// remapped action's keys replace its defaults. A key claimed by two actions is reported
    /// and stays with the remapped one; unknown actions and key names are reported and ignored.
    public func remapped(_ remaps: [String: [String]], file: String, line: (String) -> Int?) -> (Keymap, [RemapProblem]) {
        var keymap = self
        var problems: [RemapProblem] = []
        var claimed: [Key: [BindingAction]] = [:]
        let scope = { (action: BindingAction) in keymap.bindings.first { $0.action == action }?.scope ?? .everywhere }
        /// Who else holds a key where this action would apply.
        func rival(_ key: Key, of action: BindingAction) -> BindingAction? {
            claimed[key]?.first { $0 != action && scope($0).overlaps(scope(action)) }
        }
        for (name, keyNames) in remaps.sorted(by: { $0.key < $1.key }) {
            guard let action = BindingAction(rawValue: name), let index = keymap.bindings.firstIndex(where: { $0.action == action }) else {
                problems.append(RemapProblem(file: file, line: line(name), message: "unknown action '\(name)' in [keys]; actions: \(BindingAction.allCases.map(\.rawValue).joined(separator: ", "))"))
                continue
            }
            var keys: [Key] = []
            for keyName in keyNames {
                guard let key = Key(name: keyName) else {
                    problems.append(RemapProblem(file: file, line: line(name), message: "'\(keyName)' is not a key; write a character, ctrl-x, enter, esc, tab, up, down, pgup, pgdn, home or end"))
                    continue
                }
                if let other = rival(key, of: action) {
                    problems.append(RemapProblem(file: file, line: line(name), message: "'\(keyName)' is bound to both \(other.rawValue) and \(name); \(other.rawValue) keeps it"))
                    continue
                }
                claimed[key, default: []].append(action)
                keys.append(key)
            }
            if !keys.isEmpty { keymap.bindings[index].keys = keys }
        }
        // Defaults that a remap took over leave the action that had them.
        for index in keymap.bindings.indices {
            let action = keymap.bindings[index].action
            guard remaps[action.rawValue] == nil else { continue }
            let taken = keymap.bindings[index].keys.filter { rival($0, of: action) != nil }
            for key in taken {
                let claimant = rival(key, of: action)!
                problems.append(RemapProblem(file: file, line: line(claimant.rawValue), message: "'\(key.label)' now means \(claimant.rawValue), no longer \(action.rawValue)"))
            }
            keymap.bindings[index].keys.removeAll { taken.contains($0) }
        }
        return (keymap, problems)
    }

    /// The action a key triggers, if any: the binding whose scope holds the current list, else
    /// the first one with that key (its action then says where it works).
    public func action(for key: Key, in kind: LevelKind? = nil) -> BindingAction? {
        let bound = bindings.filter { $0.keys.contains(key) }
        if let kind, let scoped = bound.first(where: { $0.scope.contains(kind) }) { return scoped.action }
        return bound.first?.action
    }

    public func binding(_ action: BindingAction) -> KeyBinding? {
        bindings.first { $0.action == action }
    }

    /// The status-bar hints for what works here, in declaration order: `enter open  esc back  …`.
    public func hints(in state: DashboardState) -> [(keys: String, hint: String)] {
        bindings.compactMap { binding in
            guard let key = binding.keys.first, let hint = binding.hint, binding.scope.contains(state.current.kind),
                  (binding.hintWhen ?? binding.when).refusal(in: state) == nil else { return nil }
            return (key.label, hint)
        }
    }

    /// The README's key table, generated from the declarations (a test keeps them equal).
    public func markdownTable() -> String {
        var lines = ["| Keys | Action |", "|---|---|"]
        for binding in bindings {
            let keys = binding.keys.map { "`\($0.label)`" }.joined(separator: " ")
            let place = binding.scope != .everywhere ? binding.scope.rawValue : binding.when.place
            lines.append("| \(keys) | \(binding.help)\(place.isEmpty ? "" : " *(\(place))*") |")
        }
        return lines.joined(separator: "\n")
    }
}
