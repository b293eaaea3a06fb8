import Foundation
import SlipwayCore

/// State → a grid of cells. Everything the dashboard shows is drawn here, from the state alone.
public struct DashboardView {
    public let state: DashboardState
    public let keymap: Keymap

    public init(state: DashboardState, keymap: Keymap = .standard) {
        self.state = state
        self.keymap = keymap
    }

    public func render() -> CellGrid {
        var grid = CellGrid(width: state.width, height: state.height, asciiOnly: state.asciiOnly)
        let layout = state.layout
        if layout.tooSmall {
            drawTooSmall(into: &grid)
            return grid
        }
        HeaderView(state: state).draw(into: &grid)
        if state.mode == .help {
            HelpView(state: state, keymap: keymap).draw(into: &grid)
        } else {
            drawCrumbs(into: &grid)
            TableView(state: state).draw(into: &grid)
            if layout.detailShown { DetailView(state: state).draw(into: &grid) }
        }
        StatusBarView(state: state, keymap: keymap).draw(into: &grid)
        return grid
    }

    private func drawTooSmall(into grid: inout CellGrid) {
        let lines = ["Terminal too small: \(state.width)×\(state.height)",
                     "Slipway needs at least \(Layout.minimumWidth)×\(Layout.minimumHeight).", "q quits"]
        let top = max(0, state.height / 2 - 1)
        for (offset, line) in lines.enumerated() where top + offset < state.height {
            let x = max(0, (state.width - DisplayWidth.of(line)) / 2)
            grid.put(line, x: x, y: top + offset, role: offset == 0 ? .error : .normal)
        }
    }

    private func drawCrumbs(into grid: inout CellGrid) {
        let y = state.layout.crumbsRow
        grid.fill(y: y, role: .crumbs)
        let level = state.current
        var right: [String] = []
        if !level.filter.isEmpty { right.append("filter “\(TerminalText.sanitize(level.filter))”") }
        if level.kind.sorts.count > 1 { right.append("sort: \(level.kind.label(level.sort))") }
        if case .log = level.kind {
            if level.followTail { right.append("following") }
            if level.wrap { right.append("wrapped") }
            // Lines, not the rows wrapping makes of them.
            if case let .logLine(number, _, _, _, lines)? = level.selectedItem {
                right.append("line \(number)/\(lines)")
            } else {
                right.append(level.total == 0 ? "no lines yet" : "\(level.selection + 1)/\(level.total)")
            }
        } else {
            right.append(level.total == 0 ? "0" : "\(level.selection + 1)/\(level.total)")
        }
        let rightText = right.joined(separator: "  ") + " "
        let rightWidth = DisplayWidth.of(rightText)
        var x = 1
        let limit = max(0, grid.width - rightWidth - 2)
        for (index, crumb) in state.stack.enumerated() {
            let last = index == state.stack.count - 1
            let text = TerminalText.sanitize(crumb.title)
            x += grid.put(text, x: x, y: y, limit: max(0, limit - x), role: last ? .crumbsCurrent : .crumbs)
            if !last { x += grid.put(grid.glyphs.crumbSeparator, x: x, y: y, limit: max(0, limit - x), role: .crumbs) }
            if x >= limit { break }
        }
        grid.put(rightText, x: max(0, grid.width - rightWidth), y: y, role: .crumbs)
    }
}

/// Product, home and host, a badge per account, the engine, sync activity and progress.
struct HeaderView {
    let state: DashboardState

    /// Room goes first to the title, the engine's state (right) and the account badges; the
    /// home and host get what is left, the home cut from its start so the host stays readable.
    func draw(into grid: inout CellGrid) {
        let y = state.layout.headerRow
        let header = state.header
        grid.fill(y: y, role: .header)
        var right = engineText()
        let busy = !state.pendingCommands.isEmpty || header.activeCommands > 0
        // App Platform's account has no mirror to sync: only Git hosts have a first sync.
        let syncing = header.accounts.filter { !$0.overview.initialSyncDone && $0.overview.account.status == .ok && $0.overview.account.isGitHost }
        if busy || !syncing.isEmpty {
            let spinner = grid.glyphs.spinner
            right = spinner[state.spinnerPhase % spinner.count] + " " + right
        }
        let rightWidth = min(DisplayWidth.of(right) + 1, grid.width)
        // The Git hosts first, then App Platform's account; with many linked, the badges drop
        // their user names before any is cut.
        let ordered = header.accounts.filter(\.overview.account.isGitHost) + header.accounts.filter { !$0.overview.account.isGitHost }
        func width(_ badges: [(String, StyleRole)]) -> Int { badges.map { DisplayWidth.of($0.0) + 1 }.reduce(0, +) }
        var badges = ordered.map { badge($0, withUser: true) }
        if width(badges) > grid.width - 9 - rightWidth - 1 { badges = ordered.map { badge($0, withUser: false) } }
        let badgesWidth = width(badges)
        var x = grid.put(" Slipway ", x: 0, y: y, role: .title)
        let host = "@" + TerminalText.sanitize(header.host) + " "
        let home = " " + TerminalText.sanitize(header.home)
        let room = grid.width - x - rightWidth - badgesWidth - 1
        let whole = DisplayWidth.of(home) + DisplayWidth.of(host)
        if room >= whole {
            x += grid.put(home + host, x: x, y: y, role: .header)
        } else if room > DisplayWidth.of(host) + 2 {
            // " …are/slipway@buildhost ": the end of the home, all of the host.
            var tail = ""
            for character in home.reversed() {
                guard DisplayWidth.of(String(character) + tail) + DisplayWidth.of(host) + 2 <= room else { break }
                tail = String(character) + tail
            }
            x += grid.put(" …" + tail.trimmingCharacters(in: .whitespaces) + host, x: x, y: y, role: .header)
        }
        for (text, role) in badges {
            x += 1
            x += grid.put(text, x: x, y: y, limit: max(0, grid.width - rightWidth - x), role: role)
        }
        if let first = syncing.first, first.overview.repositories > 0 {
            let bar = progressBar(done: first.overview.repositoriesChecked, total: first.overview.repositories, width: 10, glyphs: grid.glyphs)
            let label = " first sync \(bar) \(first.overview.repositoriesChecked)/\(first.overview.repositories)  "
            let start = grid.width - rightWidth - DisplayWidth.of(label)
            if start > x + 1 {
                grid.put(label, x: start, y: y, role: .progress)
            }
        }
        if grid.width - rightWidth >= x { grid.put(right, x: grid.width - rightWidth, y: y, role: .header) }
    }

    private func badge(_ card: AccountCard, withUser: Bool) -> (String, StyleRole) {
        let o = card.overview
        let name = o.account.providerName
        // Public Git has no user: its badge names the provider alone.
        let user = o.account.auth == .none || !withUser ? "" : " @" + TerminalText.sanitize(o.account.username)
        if o.account.status == .needsRelink { return ("[\(name)\(user) needs relink]", .badgeError) }
        if let paused = card.pausedUntil(now: state.now) {
            return ("[\(name)\(user) paused \(Age.countdown(paused.timeIntervalSince(state.now)))]", .badgeWarning)
        }
        if o.account.status == .rateLimited { return ("[\(name)\(user) rate limited]", .badgeWarning) }
        if case let .stale(reason) = Freshness.of(card, now: state.now, engine: state.header.engine) {
            return ("[\(name)\(user) stale: \(reason)]", .badgeWarning)
        }
        return ("[\(name)\(user) ok]", .badgeOK)
    }

    private func engineText() -> String {
        let synced = state.header.accounts.compactMap(\.overview.lastActivityAt).max()
        let age = synced.map { " · synced " + Age.phrase($0, now: state.now) } ?? ""
        switch state.header.engine {
        case .embedded: return "engine: here\(age)"
        case let .elsewhere(pid, role): return "engine: \(role) \(pid)\(age)"
        case .none: return "engine: none (retrying)"
        }
    }

    private func progressBar(done: Int, total: Int, width: Int, glyphs: Glyphs) -> String {
        let filled = total == 0 ? 0 : min(width, done * width / total)
        return String(repeating: glyphs.progressFull, count: filled) + String(repeating: glyphs.progressEmpty, count: width - filled)
    }
}

/// The bottom line: the prompt being typed, a message, or the key hints.
struct StatusBarView {
    let state: DashboardState
    let keymap: Keymap

    func draw(into grid: inout CellGrid) {
        let y = state.layout.statusRow
        grid.fill(y: y, role: .hint)
        switch state.mode {
        case .filter:
            var x = grid.put("/", x: 0, y: y, role: .prompt)
            x += grid.put(TerminalText.sanitize(state.current.filter), x: x, y: y, role: .prompt)
            grid.put("▏", x: x, y: y, limit: 1, role: .prompt)
            grid.put("enter keeps · esc clears", x: max(x + 3, grid.width - 26), y: y, role: .hint)
            return
        case let .command(text):
            var x = grid.put(":", x: 0, y: y, role: .prompt)
            x += grid.put(TerminalText.sanitize(text), x: x, y: y, role: .prompt)
            grid.put("▏", x: x, y: y, limit: 1, role: .prompt)
            if state.message == nil {
                let options = CommandLineCatalog.completions(for: text, themes: state.themeNames,
                                                             sorts: state.current.kind.sorts.map { state.current.kind.label($0) }).prefix(6).joined(separator: " ")
                grid.put("tab: \(options)", x: max(x + 3, grid.width / 2), y: y, role: .hint)
            } else if let message = state.message {
                grid.put(TerminalText.sanitize(message.text), x: max(x + 3, grid.width / 2), y: y, role: message.isError ? .error : .info)
            }
            return
        case let .confirm(prompt, _):
            grid.put(" " + TerminalText.sanitize(prompt), x: 0, y: y, role: .prompt)
            return
        case .help, .browse:
            break
        }
        if let message = state.message {
            grid.put(" " + TerminalText.sanitize(message.text), x: 0, y: y, role: message.isError ? .error : .info)
            return
        }
        // Help and quit always show; what works only here comes before what works everywhere
        // when room runs out; they are drawn in declaration order.
        let all = keymap.hints(in: state)
        let essential: Set<String> = ["help", "quit"]
        let local = Set(keymap.bindings.filter { ($0.hintWhen ?? $0.when) != .always }.compactMap(\.hint))
        var shown = all
        func width(_ hints: [(keys: String, hint: String)]) -> Int {
            hints.map { DisplayWidth.of($0.keys) + 1 + DisplayWidth.of($0.hint) + 2 }.reduce(1, +)
        }
        for keep in [{ (h: String) in !local.contains(h) && !essential.contains(h) }, { (h: String) in !essential.contains(h) }] {
            while width(shown) > grid.width, let drop = shown.lastIndex(where: { keep($0.hint) }) { shown.remove(at: drop) }
        }
        var x = 1
        for hint in shown {
            x += grid.put(hint.keys, x: x, y: y, role: .hintKey)
            x += 1
            x += grid.put(hint.hint, x: x, y: y, role: .hint)
            x += 2
        }
    }
}

/// Every binding, grouped, generated from the keymap declaration; and the `:` commands.
struct HelpView {
    let state: DashboardState
    let keymap: Keymap

    static func lines(keymap: Keymap) -> [(String, StyleRole)] {
        var lines: [(String, StyleRole)] = []
        for group in KeyBinding.Group.allCases {
            lines.append((group.rawValue, .title))
            for binding in keymap.bindings where binding.group == group {
                let keys = binding.keys.map(\.label).joined(separator: " ")
                let place = binding.scope != .everywhere ? binding.scope.rawValue : binding.when.place
                lines.append(("  " + keys.padding(toLength: max(22, keys.count + 2), withPad: " ", startingAt: 0) + binding.help
                              + (place.isEmpty ? "" : " (\(place))"), .normal))
            }
            lines.append(("", .normal))
        }
        lines.append(("Commands (type : then a name; tab completes)", .title))
        for command in LineCommand.allCases {
            let names = ([command.rawValue] + command.aliases).map { ":" + $0 }.joined(separator: " ") + (command.argument.map { " " + $0 } ?? "")
            lines.append(("  " + names.padding(toLength: max(22, names.count + 2), withPad: " ", startingAt: 0) + command.help, .normal))
        }
        return lines
    }

    func draw(into grid: inout CellGrid) {
        let top = state.layout.crumbsRow
        grid.fill(y: top, role: .crumbs)
        grid.put(" Help — esc or ? closes", x: 0, y: top, role: .crumbsCurrent)
        let lines = Self.lines(keymap: keymap)
        let height = state.layout.statusRow - top - 1
        let start = min(state.helpScroll, max(0, lines.count - height))
        for (row, line) in lines.dropFirst(start).prefix(height).enumerated() {
            grid.put(line.0, x: 2, y: top + 1 + row, role: line.1)
        }
        if start + height < lines.count {
            let more = "more below: j or ↓"
            grid.put(more, x: max(0, grid.width - DisplayWidth.of(more) - 1), y: top, role: .crumbs)
        }
    }
}
