import Foundation
import SlipwayCore

/// State + Action → new State, plus the effects the runtime should run. Pure: no store, no
/// terminal, no clock but the one in the state.
public struct Reducer: Sendable {
    public var keymap: Keymap

    public init(keymap: Keymap = .standard) {
        self.keymap = keymap
    }

    public func reduce(_ state: inout DashboardState, _ action: Action) -> [Effect] {
        switch action {
        case let .key(key):
            return handle(key, &state)
        case let .mouse(event):
            return mouse(event, &state)
        case let .resize(width, height):
            state.width = width
            state.height = height
            clampScroll(&state)
            return []
        case let .tick(now):
            state.now = now
            state.spinnerPhase &+= 1
            if let message = state.message, message.until <= now { state.message = nil }
            state.recentChanges = state.recentChanges.filter { now.timeIntervalSince($0.value) < DashboardState.changeHighlight }
            return []
        case let .loaded(depth, total, offset, items):
            guard depth < state.stack.count else { return [] }
            var level = state.stack[depth]
            // Live updates insert and remove rows: the selection stays on the same row.
            let selected = level.followSelection ? level.selectedItem?.identity : nil
            level.total = total
            level.windowOffset = offset
            level.items = items
            level.loaded = true
            level.loadError = nil
            level.followSelection = true
            if level.followTail {
                level.selection = max(0, total - 1)
                level.scrollTop = max(0, total - state.layout.tableHeight)
            } else if let selected, let index = items.firstIndex(where: { $0.identity == selected }), offset + index != level.selection {
                // Keep the row where it was on screen, too.
                let moved = offset + index - level.selection
                level.selection += moved
                level.scrollTop = max(0, level.scrollTop + moved)
            }
            state.stack[depth] = level
            clampScroll(&state)
            return []
        case let .loadFailed(depth, message):
            guard depth < state.stack.count else { return [] }
            state.stack[depth].loadError = message
            state.stack[depth].loaded = true
            return []
        case let .header(info):
            state.header = info
            return []
        case let .changes(events):
            for event in events {
                var path = event.path
                // Mark the row itself and its parents (a moved head marks its repository too).
                while !path.isEmpty {
                    state.recentChanges[path] = state.now
                    guard let slash = path.lastIndex(of: "/") else { break }
                    path = String(path[..<slash])
                }
            }
            return []
        case let .commandQueued(id, description):
            state.pendingCommands[id] = description
            return []
        case let .commandFinished(id, succeeded, result):
            guard let description = state.pendingCommands.removeValue(forKey: id) else { return [] }
            show(succeeded ? "\(description): \(result)" : "\(description) failed: \(result)", error: !succeeded, &state)
            return (0..<state.stack.count).map { .reload(depth: $0) }
        case let .failed(message):
            show(message, error: true, &state)
            return []
        case let .located(path, location):
            return go(to: location, path: path, &state)
        }
    }

    // MARK: Keys

    private func handle(_ key: Key, _ state: inout DashboardState) -> [Effect] {
        switch state.mode {
        case .help:
            return helpKey(key, &state)
        case .filter:
            return filterKey(key, &state)
        case let .command(text):
            return commandKey(key, text: text, &state)
        case let .confirm(_, effect):
            state.mode = .browse
            guard key == .char("y") || key == .char("Y") else {
                show(Self.declined(effect), error: false, &state)
                return []
            }
            return [effect]
        case .browse:
            // A message is about the last action: the next key clears it (unless it says something new).
            state.message = nil
            guard let action = keymap.action(for: key, in: state.current.kind) else { return [] }
            guard let binding = keymap.binding(action), let why = binding.when.refusal(in: state) else { return perform(action, &state) }
            // A key shared by scoped bindings (w) says where each of them works.
            let shared = keymap.bindings.filter { $0.keys.contains(key) && !$0.scope.contains(state.current.kind) }
            show(shared.count > 1 ? shared.compactMap { $0.when.refusal(in: state) }.joined(separator: "; ") : why, error: false, &state)
            return []
        }
    }

    /// What a "no" to a question leaves as it was.
    static func declined(_ effect: Effect) -> String {
        switch effect {
        case let .deploy(app): "\(app) was not deployed"
        case let .cancelDeployment(id): "deployment #\(id) goes on"
        case let .installWebhook(path): "no webhook installed on \(TerminalText.sanitize(path))"
        default: "nothing changed"
        }
    }

    private func perform(_ action: BindingAction, _ state: inout DashboardState) -> [Effect] {
        let page = state.layout.tableHeight
        switch action {
        case .down: return move(by: 1, &state)
        case .up:
            state.current.followTail = false
            return move(by: -1, &state)
        case .top:
            state.current.followTail = false
            return move(to: 0, &state)
        case .bottom:
            if case .log = state.current.kind { state.current.followTail = true }
            return move(to: state.current.total - 1, &state)
        case .pageDown: return move(by: page, &state)
        case .pageUp: return move(by: -page, &state)
        case .halfDown: return move(by: max(1, page / 2), &state)
        case .halfUp: return move(by: -max(1, page / 2), &state)
        case .open: return open(&state)
        case .back: return back(&state)
        case .filter:
            state.mode = .filter
            return []
        case .sort:
            let sorts = state.current.kind.sorts
            let next = sorts[((sorts.firstIndex(of: state.current.sort) ?? 0) + 1) % sorts.count]
            return setSort(next, &state)
        case .detail:
            toggleDetail(&state)
            clampScroll(&state)
            return []
        case .refresh: return refresh(&state)
        case .copy: return copy(&state)
        case .deploy:
            guard let app = Self.selectedApp(state) else { return [] }
            state.mode = .confirm(prompt: "Deploy \(app) now, from its branch's head? y/n", effect: .deploy(app: app))
            return []
        case .wrap:
            state.current.wrap.toggle()
            show(state.current.wrap ? "long lines wrap" : "long lines are cut", error: false, &state)
            return [.reload(depth: state.stack.count - 1)]
        case .webhook:
            guard case let .repository(row)? = state.current.selectedItem else { return [] }
            let path = MirrorPath.joined(state.current.provider, row.workspaceSlug, row.repository.slug)
            guard row.repository.isAdmin else {
                show("you are not an admin of \(TerminalText.sanitize(path)); its webhook needs admin rights", error: true, &state)
                return []
            }
            if case .healthy? = row.webhook {
                show("the webhook on \(TerminalText.sanitize(path)) is installed and delivering", error: false, &state)
                return []
            }
            state.mode = .confirm(prompt: "Install Slipway's push webhook on \(TerminalText.sanitize(path))? y/n", effect: .installWebhook(path: path))
            return []
        case .cancel:
            guard let deployment = Self.cancellable(state), let id = deployment.id else { return [] }
            state.mode = .confirm(prompt: "Cancel deployment #\(id) (\(deployment.phase.rawValue))? y/n", effect: .cancelDeployment(id))
            return []
        case .url:
            guard let url = state.current.selectedItem.flatMap({ Self.webURL(of: $0, level: state.current) }) else { return [] }
            state.message = StatusMessage(text: url, isError: false, until: state.now.addingTimeInterval(30))
            return []
        case .command:
            state.mode = .command("")
            return []
        case .help:
            state.mode = .help
            state.helpScroll = 0
            return []
        case .quit:
            state.quitRequested = true
            return [.quit]
        }
    }

    private func helpKey(_ key: Key, _ state: inout DashboardState) -> [Effect] {
        switch keymap.action(for: key) {
        case .down: state.helpScroll += 1
        case .up: state.helpScroll = max(0, state.helpScroll - 1)
        case .quit where key == .ctrl("c"):
            state.quitRequested = true
            return [.quit]
        case .help, .back, .quit: state.mode = .browse
        default: break
        }
        return []
    }

    private func filterKey(_ key: Key, _ state: inout DashboardState) -> [Effect] {
        let depth = state.stack.count - 1
        switch key {
        case .enter:
            state.mode = .browse
            return []
        case .escape:
            state.mode = .browse
            guard !state.current.filter.isEmpty else { return [] }
            state.current.filter = ""
            return resetPosition(&state) + [.reload(depth: depth)]
        case .backspace:
            guard !state.current.filter.isEmpty else { state.mode = .browse; return [] }
            state.current.filter.removeLast()
            return resetPosition(&state) + [.reload(depth: depth)]
        case let .char(c):
            state.current.filter.append(c)
            return resetPosition(&state) + [.reload(depth: depth)]
        case .ctrl("c"):
            state.quitRequested = true
            return [.quit]
        case .down, .up, .pageDown, .pageUp:
            return perform(keymap.action(for: key) ?? .down, &state)
        default:
            return []
        }
    }

    private func commandKey(_ key: Key, text: String, _ state: inout DashboardState) -> [Effect] {
        switch key {
        case .escape:
            state.mode = .browse
        case .backspace:
            if text.isEmpty { state.mode = .browse } else { state.mode = .command(String(text.dropLast())) }
        case .tab:
            let options = CommandLineCatalog.completions(for: text, themes: state.themeNames,
                                                         sorts: state.current.kind.sorts.map { state.current.kind.label($0) })
            if options.count == 1 {
                state.mode = .command(options[0])
            } else if options.count > 1 {
                state.mode = .command(commonPrefix(options))
                show(options.joined(separator: "  "), error: false, &state)
            }
        case let .char(c):
            state.mode = .command(text + String(c))
        case .ctrl("c"):
            state.quitRequested = true
            return [.quit]
        case .enter:
            state.mode = .browse
            return run(command: text, &state)
        default:
            break
        }
        return []
    }

    private func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first else { return "" }
        for word in words.dropFirst() {
            while !word.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }

    // MARK: Commands

    private func run(command text: String, _ state: inout DashboardState) -> [Effect] {
        let words = text.split(separator: " ", maxSplits: 1).map(String.init)
        guard let first = words.first else { return [] }
        guard let command = LineCommand.resolve(first) else {
            show("unknown command ':\(TerminalText.sanitize(first))'; try :help or tab to complete", error: true, &state)
            return []
        }
        let argument = words.count > 1 ? words[1].trimmingCharacters(in: .whitespaces) : ""
        switch command {
        case .quit:
            state.quitRequested = true
            return [.quit]
        case .help:
            state.mode = .help
            state.helpScroll = 0
            return []
        case .providers:
            state.stack.removeSubrange(1...)
            return [.reload(depth: 0)]
        case .apps:
            state.stack.removeSubrange(1...)
            state.stack.append(Level(kind: .apps, title: "Apps", path: "", provider: ""))
            return [.reload(depth: 1)]
        case .accounts:
            state.stack.removeSubrange(1...)
            // Budgets and the relink command live in the detail pane: this level opens it for itself.
            var accounts = Level(kind: .accounts, title: "Accounts", path: "", provider: "")
            accounts.detail = true
            state.stack.append(accounts)
            clampScroll(&state)
            return [.reload(depth: 1)]
        case .repos, .branches:
            // Across every provider: a PROVIDER column says whose each row is.
            guard state.header.accounts.contains(where: \.overview.account.isGitHost) else {
                show("no account linked; run 'slipway link bitbucket --token-file -'", error: true, &state)
                return []
            }
            state.stack.removeSubrange(1...)
            state.stack.append(command == .repos
                ? Level(kind: .repositories(accountID: nil, workspaceID: nil), title: "all repositories", path: "", provider: "")
                : Level(kind: .branches(accountID: nil, repositoryID: nil), title: "all branches", path: "", provider: ""))
            return [.reload(depth: state.stack.count - 1)]
        case .workspaces:
            guard let card = currentAccount(state) else {
                show("no account linked; run 'slipway link bitbucket --token-file -'", error: true, &state)
                return []
            }
            let account = card.overview.account
            let provider = account.providerName
            state.stack.removeSubrange(1...)
            state.stack.append(Level(kind: .workspaces(accountID: account.id!), title: provider, path: provider, provider: provider, webBase: account.webURL))
            return [.reload(depth: state.stack.count - 1)]
        case .goto:
            guard !argument.isEmpty else {
                show("goto where? :goto PROVIDER/WORKSPACE[/REPO[/BRANCH]]", error: false, &state)
                return []
            }
            return [.locate(path: argument)]
        case .sort:
            let kind = state.current.kind
            guard let wanted = kind.sort(named: argument) else {
                let options = kind.sorts.map { kind.label($0) }.joined(separator: ", ")
                show(kind.sorts.count > 1 ? "sort this list by \(options)" : "this list has one order", error: !argument.isEmpty, &state)
                return []
            }
            return setSort(wanted, &state)
        case .filter:
            state.current.filter = argument
            return resetPosition(&state) + [.reload(depth: state.stack.count - 1)]
        case .refresh:
            return refresh(&state)
        case .theme:
            guard !argument.isEmpty else {
                show("theme \(state.themeName); others: \(state.themeNames.joined(separator: " "))", error: false, &state)
                return []
            }
            return [.setTheme(argument)]
        }
    }

    /// `:goto`: the stack from the providers down to what the path named, the last level open.
    private func go(to location: MirrorLocation?, path: String, _ state: inout DashboardState) -> [Effect] {
        guard let location else {
            show("nothing in the mirror at \(TerminalText.sanitize(path))", error: true, &state)
            return []
        }
        let provider = location.provider
        var stack = [state.stack[0]]
        stack.append(Level(kind: .workspaces(accountID: location.accountID), title: provider, path: provider, provider: provider, webBase: location.webURL))
        if let workspace = location.workspace {
            let wsPath = MirrorPath.joined(provider, workspace.slug)
            stack.append(Level(kind: .repositories(accountID: location.accountID, workspaceID: workspace.id), title: workspace.slug, path: wsPath, provider: provider))
            if let repository = location.repository {
                let repoPath = MirrorPath.child(wsPath, repository.slug)
                stack.append(Level(kind: .branches(accountID: location.accountID, repositoryID: repository.id), title: repository.slug, path: repoPath, provider: provider))
                if let branch = location.branch {
                    var commits = Level(kind: .commits(accountID: location.accountID, branchID: branch.id), title: branch.name, path: MirrorPath.child(repoPath, branch.name),
                                        provider: provider, webBase: repository.webURL)
                    commits.sort = .name
                    stack.append(commits)
                }
            }
        }
        state.stack = stack
        clampScroll(&state)
        var effects = stack.indices.dropFirst().map { Effect.reload(depth: $0) }
        if let branch = location.branch, let repository = location.repository, let workspace = location.workspace {
            let branchPath = MirrorPath.joined(provider, workspace.slug, repository.slug, branch.name)
            effects.append(.refresh(path: branchPath, description: "commits of \(branchPath)"))
        }
        return effects
    }

    /// The account the current level belongs to, else the only (first) one linked.
    private func currentAccount(_ state: DashboardState) -> AccountCard? {
        if let id = state.stack.lazy.compactMap(\.kind.accountID).last, let card = state.header.card(accountID: id) { return card }
        return state.header.accounts.first
    }

    // MARK: Navigation

    private func move(by delta: Int, _ state: inout DashboardState) -> [Effect] {
        move(to: state.current.selection + delta, &state)
    }

    private func move(to index: Int, _ state: inout DashboardState) -> [Effect] {
        let total = state.current.total
        state.current.selection = total == 0 ? 0 : min(max(0, index), total - 1)
        clampScroll(&state)
        return []
    }

    /// Keeps the selection on screen and the screen within the rows.
    private func clampScroll(_ state: inout DashboardState) {
        for depth in state.stack.indices {
            var level = state.stack[depth]
            let height = state.layout.tableHeight
            if level.total == 0 { level.selection = 0 } else { level.selection = min(max(0, level.selection), level.total - 1) }
            if level.selection < level.scrollTop { level.scrollTop = level.selection }
            if level.selection >= level.scrollTop + height { level.scrollTop = level.selection - height + 1 }
            level.scrollTop = max(0, min(level.scrollTop, max(0, level.total - height)))
            state.stack[depth] = level
        }
    }

    private func resetPosition(_ state: inout DashboardState) -> [Effect] {
        state.current.selection = 0
        state.current.scrollTop = 0
        state.current.followSelection = false
        return []
    }

    private func setSort(_ sort: Store.BrowseSort, _ state: inout DashboardState) -> [Effect] {
        state.current.sort = sort
        show("sorted by \(state.current.kind.label(sort))", error: false, &state)
        return resetPosition(&state) + [.reload(depth: state.stack.count - 1)]
    }

    private func open(_ state: inout DashboardState) -> [Effect] {
        let level = state.current
        guard let item = level.selectedItem else { return [] }
        let path = item.path(provider: level.provider, commitsOf: level.path)
        let next: Level
        switch item {
        case let .provider(card):
            let overview = card.overview
            guard let id = overview.account.id else { return [] }
            next = Level(kind: .workspaces(accountID: id), title: path, path: path, provider: path, webBase: overview.account.webURL)
        case let .workspace(row):
            next = Level(kind: .repositories(accountID: level.kind.accountID!, workspaceID: row.workspace.id), title: item.title, path: path, provider: level.provider)
        case let .repository(row):
            // A row of a list across providers names its own account and provider.
            // Its crumb says whose it is (three repositories named auth never look alike).
            next = Level(kind: .branches(accountID: row.accountID ?? level.kind.accountID, repositoryID: row.repository.id),
                         title: level.kind.accountID == nil ? path : item.title, path: path,
                         provider: row.provider.isEmpty ? level.provider : row.provider)
        case let .branch(row):
            guard let accountID = row.accountID ?? level.kind.accountID else { return [] }
            var commits = Level(kind: .commits(accountID: accountID, branchID: row.branch.id!), title: level.kind.accountID == nil ? path : item.title, path: path,
                                provider: row.provider.isEmpty ? level.provider : row.provider, webBase: row.repositoryWebURL)
            commits.sort = .name
            state.stack.append(commits)
            // Opening a branch fetches its new commits (on the engine's interactive lane).
            return [.reload(depth: state.stack.count - 1), .refresh(path: path, description: "commits of \(path)")]
        case let .app(row):
            next = Level(kind: .deployments(appID: row.app.id!), title: row.app.name, path: "app:\(row.app.name)", provider: "")
        case let .deployment(deployment, _):
            var log = Level(kind: .log(deploymentID: deployment.id!), title: "#\(deployment.id!) log", path: "deployment:\(deployment.id!)", provider: "")
            log.followTail = true
            state.stack.append(log)
            // App Platform keeps its deployments' logs: the engine copies them into the store.
            if deployment.remoteID != nil { return [.reload(depth: state.stack.count - 1), .followLog(deploymentID: deployment.id!)] }
            return [.reload(depth: state.stack.count - 1)]
        case .commit:
            // A commit opens its detail (message, author, link); p closes it again.
            if !state.layout.detailShown {
                if state.layout.height < Layout.minimumDetailHeight {
                    show("the terminal is too short for the detail pane (\(Layout.minimumDetailHeight) rows needed)", error: false, &state)
                    return []
                }
                toggleDetail(&state)
            }
            clampScroll(&state)
            return []
        case .account, .logLine:
            toggleDetail(&state)
            clampScroll(&state)
            return []
        }
        state.stack.append(next)
        return [.reload(depth: state.stack.count - 1)]
    }

    /// `p`: the level's own choice when it has one, else the dashboard's.
    private func toggleDetail(_ state: inout DashboardState) {
        if let own = state.current.detail {
            state.current.detail = !own
        } else {
            state.detailShown.toggle()
        }
    }

    private func back(_ state: inout DashboardState) -> [Effect] {
        if !state.current.filter.isEmpty {
            state.current.filter = ""
            return resetPosition(&state) + [.reload(depth: state.stack.count - 1)]
        }
        guard state.stack.count > 1 else { return [] }
        state.stack.removeLast()
        return [.reload(depth: state.stack.count - 1)]
    }

    private func refresh(_ state: inout DashboardState) -> [Effect] {
        let level = state.current
        // A repository row refreshes itself; inside a repository, the repository; on a branch, its commits.
        switch (level.kind, level.selectedItem) {
        case let (_, .repository(row)?):
            let path = MirrorPath.joined(level.provider, row.workspaceSlug, row.repository.slug)
            return [.refresh(path: path, description: "refresh of \(path)")]
        case let (.branches(_, repositoryID), item) where repositoryID != nil || item != nil:
            if repositoryID != nil { return [.refresh(path: level.path, description: "refresh of \(level.path)")] }
            if case let .branch(row)? = item {
                let path = MirrorPath.joined(level.provider, row.workspaceSlug, row.repositorySlug)
                return [.refresh(path: path, description: "refresh of \(path)")]
            }
            return []
        case (.commits, _):
            return [.refresh(path: level.path, description: "commits of \(level.path)")]
        default:
            show("select a repository or branch to refresh; the engine keeps the rest fresh", error: false, &state)
            return []
        }
    }

    /// The app the selection is about: an app row, or the app whose deployments are listed.
    static func selectedApp(_ state: DashboardState) -> String? {
        if case let .app(row)? = state.current.selectedItem { return row.app.name }
        if case .deployments = state.current.kind { return state.current.title }
        return nil
    }

    /// The deployment `x` would cancel: the selected one, or an app row's latest, when queued or running.
    static func cancellable(_ state: DashboardState) -> Deployment? {
        switch state.current.selectedItem {
        case let .deployment(deployment, _)? where deployment.phase.isInProgress: deployment
        case let .app(row)? where row.latest?.phase.isInProgress == true: row.latest
        default: nil
        }
    }

    // MARK: Mouse

    /// A click selects a row (a click on the selected row, or a double click, opens it); the
    /// wheel scrolls three rows.
    private func mouse(_ event: MouseEvent, _ state: inout DashboardState) -> [Effect] {
        guard state.mode == .browse || state.mode == .filter else {
            if state.mode == .help, event.kind == .wheelDown { state.helpScroll += 3 }
            if state.mode == .help, event.kind == .wheelUp { state.helpScroll = max(0, state.helpScroll - 3) }
            return []
        }
        switch event.kind {
        case .wheelUp: return move(by: -3, &state)
        case .wheelDown: return move(by: 3, &state)
        case .click, .doubleClick:
            let layout = state.layout
            let row = event.y - layout.tableTop
            guard row >= 0, row < layout.tableHeight else { return [] }
            let index = state.current.scrollTop + row
            guard index < state.current.total else { return [] }
            let wasSelected = index == state.current.selection
            _ = move(to: index, &state)
            if event.kind == .doubleClick || wasSelected {
                state.mode = .browse
                return open(&state)
            }
            return []
        }
    }

    // MARK: Clipboard and links

    /// `y`: a branch's or commit's full hash; for other rows their web URL.
    private func copy(_ state: inout DashboardState) -> [Effect] {
        guard let item = state.current.selectedItem else { return [] }
        let text: String
        switch item {
        case let .branch(row): text = row.branch.headHash
        case let .commit(commit): text = commit.hash
        case let .deployment(deployment, _): text = deployment.commitHash
        case let .logLine(_, _, _, line, _): text = line
        case let .account(card): text = AccountText.relinkCommand(card.overview.account)
        default:
            guard let url = Self.webURL(of: item, level: state.current) else { return [] }
            text = url
        }
        show("copied \(text.count > 60 ? String(text.prefix(57)) + "…" : text)", error: false, &state)
        return [.copy(text)]
    }

    static func webURL(of item: Item, level: Level) -> String? {
        switch item {
        case let .provider(card): return card.overview.account.webURL
        case let .account(card): return card.overview.account.webURL
        case let .workspace(row):
            return WebPages.workspace(provider: level.provider, webURL: level.webBase, slug: row.workspace.slug)
        case let .repository(row): return row.repository.webURL
        case let .branch(row):
            return WebPages.branch(provider: level.provider, repositoryWebURL: row.repositoryWebURL, name: row.branch.name)
        case let .commit(commit):
            return WebPages.commit(provider: level.provider, repositoryWebURL: level.webBase, hash: commit.hash)
        case .app, .deployment, .logLine:
            return nil
        }
    }

    private func show(_ text: String, error: Bool, _ state: inout DashboardState) {
        state.message = StatusMessage(text: text, isError: error, until: state.now.addingTimeInterval(error ? 8 : 4))
    }
}
