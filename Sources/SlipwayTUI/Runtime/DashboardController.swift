import Foundation
import Synchronization
import SlipwayCore

/// How a dashboard is set up: keys (after `[keys]` remaps), themes, and where it runs.
public struct DashboardOptions: Sendable {
    public var keymap: Keymap = .standard
    public var themes: ThemeCatalog?
    public var theme: Theme = ThemeCatalog.standard
    /// Inside tmux, OSC 52 goes through tmux's passthrough.
    public var inTmux = false
    /// Remembers a theme choice (`ui.theme` in the config); returns where it was saved.
    public var saveTheme: (@Sendable (String) throws -> String)?
    /// Said in the status bar at start (theme or key problems, with file and line).
    public var startupMessages: [String] = []
    /// A shared build host: deploy, cancel and webhook actions are hidden and refused.
    public var readonly = false
    /// How a deployment the user started or watches says it ended (`[ui] notify`).
    public var notify: NotifyStyle = .bell
    /// The terminal's environment (TERM, TERM_PROGRAM …): which notification it shows.
    public var terminalEnvironment: [String: String] = [:]

    public init() {}
}

/// Runs the reducer and its effects against a source, without a terminal: the ncurses loop
/// feeds it keys and time, tests feed it the same and snapshot `render()`.
public final class DashboardController {
    public private(set) var state: DashboardState
    public let reducer: Reducer
    let source: any DashboardSource
    private var changeCursor: Int64?
    private var lastDataVersion: Int?
    /// Set whenever the state changed since the last frame.
    public private(set) var dirty = true
    let options: DashboardOptions
    /// The theme in use; `themeVersion` changes whenever it does.
    public private(set) var theme: Theme
    public private(set) var themeVersion = 0
    /// Our own control sequences (OSC 52) waiting to be written between frames.
    private var controlOutput: [[UInt8]] = []
    /// Engine requests write the store: they run here, never on the thread that reads keys, so
    /// a busy store cannot freeze a keystroke. Their answers come back through the inbox.
    private let writes = DispatchQueue(label: "slipway.dashboard.writes")
    private let inbox = Inbox()
    /// Wakes the loop when a background write has answered.
    public var wake: (@Sendable () -> Void)?
    /// Deployments the user has on screen (an app's deployments, a log) or started with `d`,
    /// with the phase last seen: one that was under way and has ended is announced once.
    private var watchedPhases: [Int64: DeploymentPhase] = [:]
    /// Apps deployed from here: their next deployment is watched wherever it shows.
    private var deployedApps: Set<String> = []
    /// What each row on screen last said of its deployments (a branch's APPS, an app's latest,
    /// a deployment's phase): a row whose text moves is marked like a moved head, so a push
    /// shows as a chain — head moved, deploying, live.
    private var deploymentTexts: [String: String] = [:]

    public init(source: any DashboardSource, width: Int, height: Int, now: Date = Date(), asciiOnly: Bool = false,
                options: DashboardOptions = DashboardOptions()) {
        self.source = source
        self.options = options
        theme = options.theme
        reducer = Reducer(keymap: options.keymap)
        state = DashboardState(width: width, height: height, now: now, asciiOnly: asciiOnly)
        state.themeName = options.theme.name
        state.readonly = options.readonly
        state.themeNames = options.themes.map { $0.entries().map(\.name) } ?? ThemeCatalog.builtInNames
        changeCursor = (try? source.changes(after: nil))?.cursor
        lastDataVersion = source.dataVersion()
        refreshHeader()
        load(depth: 0)
        openSingleAccount()
        // All of them were printed before the screen opened; the status bar keeps the first.
        if let first = options.startupMessages.first {
            let more = options.startupMessages.count - 1
            send(.failed(first + (more > 0 ? " (+\(more) more: slipway doctor)" : "")))
        }
    }

    /// Control sequences to write after the next frame (and forgets them).
    public func takeControlOutput() -> [[UInt8]] {
        defer { controlOutput.removeAll() }
        return controlOutput
    }

    /// With one account linked, start at its workspaces (Esc goes back to the providers).
    private func openSingleAccount() {
        guard state.current.total == 1, case .provider? = state.current.selectedItem else { return }
        send(.key(.enter))
    }

    public func send(_ action: Action) {
        let effects = reducer.reduce(&state, action)
        dirty = true
        for effect in effects { run(effect) }
        ensureWindow()
    }

    public func markPainted() { dirty = false }

    /// Applies what background writes answered (the loop calls this when woken).
    public func drainInbox() {
        for action in inbox.take() { send(action) }
    }

    /// Waits for the writes asked so far and applies their answers (tests).
    public func settle() {
        writes.sync {}
        drainInbox()
    }

    /// Runs a store write off this thread; its answer is an action for the inbox.
    private func inBackground(_ work: @escaping @Sendable () -> Action) {
        let inbox = self.inbox
        let wake = self.wake
        writes.async {
            let action = work()
            inbox.put(action)
            wake?()
        }
    }

    public var quitRequested: Bool { state.quitRequested }

    public func render() -> CellGrid {
        DashboardView(state: state, keymap: reducer.keymap).render()
    }

    /// Called a few times a second: picks up other processes' commits (and this one's engine).
    public func pollStore() {
        let version = source.dataVersion()
        guard version == nil || version != lastDataVersion else { return }
        lastDataVersion = version
        storeChanged()
    }

    /// Re-reads what is on screen, marks changed rows, and settles finished commands.
    public func storeChanged() {
        refreshHeader()
        if let (cursor, events) = try? source.changes(after: changeCursor), !events.isEmpty || cursor != changeCursor {
            changeCursor = cursor
            if !events.isEmpty { send(.changes(events)) }
        }
        for id in state.pendingCommands.keys.sorted() {
            guard let command = try? source.command(id: id), command.status.isFinished else { continue }
            send(.commandFinished(id: id, succeeded: command.status == .done, result: command.result ?? ""))
        }
        for depth in state.stack.indices { load(depth: depth) }
        announceEndedDeployments()
        markDeploymentMoves()
        dirty = true
    }

    private func markDeploymentMoves() {
        for level in state.stack {
            for item in level.items {
                let text: String
                switch item {
                case let .branch(row) where !row.apps.isEmpty: text = row.apps.map { TableView.whereDeployed($0, head: row.branch.headHash) }.joined(separator: ", ")
                case let .app(row): text = row.latest.map { "#\($0.id ?? 0) \($0.phase.rawValue)" } ?? ""
                case let .deployment(deployment, _): text = deployment.phase.rawValue
                default: continue
                }
                let path = item.path(provider: level.provider, commitsOf: level.path)
                if let before = deploymentTexts.updateValue(text, forKey: path), before != text { state.recentChanges[path] = state.now }
            }
        }
    }

    /// Announces each watched deployment that was under way and has ended (bell or OSC).
    private func announceEndedDeployments() {
        for level in state.stack {
            for item in level.items {
                let seen: Deployment?
                let app: String
                switch (level.kind, item) {
                case let (.deployments, .deployment(deployment, _)):
                    seen = deployment
                    app = level.title
                case let (_, .app(row)) where deployedApps.contains(row.app.name):
                    seen = row.latest
                    app = row.app.name
                default:
                    continue
                }
                guard let deployment = seen, let id = deployment.id else { continue }
                let before = watchedPhases.updateValue(deployment.phase, forKey: id)
                guard let before, before.isInProgress, !deployment.phase.isInProgress else { continue }
                let title = "slipway: \(TerminalText.sanitize(app)) #\(id) \(deployment.phase.rawValue)"
                let body = deployment.reason.map(TerminalText.sanitize) ?? String(deployment.commitHash.prefix(7))
                if let bytes = TerminalNotification.bytes(title, body, style: options.notify, environment: options.terminalEnvironment, inTmux: options.inTmux) {
                    controlOutput.append(bytes)
                }
            }
        }
    }

    private func refreshHeader() {
        if let header = try? source.header(), header != state.header {
            _ = reducer.reduce(&state, .header(header))
            dirty = true
        }
    }

    private func run(_ effect: Effect) {
        switch effect {
        case let .reload(depth):
            load(depth: depth)
        case let .refresh(path, description):
            let source = self.source
            inBackground { Self.queued(description) { try source.requestRefresh(path: path) } }
        case let .copy(text):
            guard let bytes = Clipboard.osc52(text, inTmux: options.inTmux) else {
                send(.failed("too long for the clipboard (OSC 52 carries at most \(Clipboard.maxPayload) bytes)"))
                return
            }
            controlOutput.append(bytes)
        case let .setTheme(name):
            switchTheme(name)
        case let .deploy(app):
            deployedApps.insert(app)
            let source = self.source
            inBackground { Self.queued("deploy \(app)") { try source.requestDeploy(app: app) } }
        case let .cancelDeployment(id):
            let source = self.source
            inBackground { Self.queued("cancel #\(id)") { try source.requestCancel(deploymentID: id) } }
        case let .followLog(id):
            let source = self.source
            inBackground { Self.queued("log of #\(id) from App Platform") { try source.requestLogFollow(deploymentID: id) } }
        case let .installWebhook(path):
            let source = self.source
            inBackground { Self.queued("webhook on \(TerminalText.sanitize(path))") { try source.requestWebhookInstall(path: path) } }
        case let .locate(path):
            do {
                send(.located(path: path, try source.locate(path: path)))
            } catch {
                send(.failed("cannot read the mirror: \(error)"))
            }
        case .quit:
            break
        }
    }

    /// The answer to an engine request: queued (its result comes later), or why it could not be asked.
    private static func queued(_ description: String, _ request: () throws -> Int64) -> Action {
        do {
            return .commandQueued(id: try request(), description: description)
        } catch {
            return .failed("cannot ask the engine: \(error)")
        }
    }

    private func switchTheme(_ name: String) {
        let catalog = options.themes ?? ThemeCatalog(userDirectory: nil)
        switch catalog.load(name) {
        case let .success(loaded):
            theme = loaded
            themeVersion += 1
            state.themeName = loaded.name
            var text = "theme \(loaded.name)"
            if let save = options.saveTheme {
                do { text += " (saved as ui.theme in \(try save(loaded.name)))" } catch { text += " (not saved: \(error))" }
            }
            state.message = StatusMessage(text: text, isError: false, until: state.now.addingTimeInterval(4))
        case let .failure(error):
            send(.failed("\(error)"))
        }
    }

    /// Reads the count and a window around what the level shows (only visible rows, plus a margin).
    private func load(depth: Int) {
        guard depth < state.stack.count else { return }
        let level = state.stack[depth]
        let height = state.layout.tableHeight
        let offset = max(0, level.scrollTop - height)
        // A wrapped log fits the OUTPUT column: the width less the mark and the line number.
        let wrapWidth = level.wrap ? max(10, state.width - 2 - 6 - 1) : nil
        let query = Store.BrowseQuery(filter: level.filter, sort: level.sort, offset: offset, limit: height * 3, wrapWidth: wrapWidth)
        do {
            let (total, items) = try source.load(level.kind, query: query)
            _ = reducer.reduce(&state, .loaded(depth: depth, total: total, offset: offset, items: items))
            // The scroll may have moved (fewer rows than before): make sure the window still covers it.
            if depth == state.stack.count - 1, !state.current.covers(state.visibleRange), offset != max(0, state.current.scrollTop - height) {
                load(depth: depth)
            }
        } catch {
            _ = reducer.reduce(&state, .loadFailed(depth: depth, message: "\(error)"))
        }
        dirty = true
    }

    /// Loads another window when scrolling left the loaded one.
    private func ensureWindow() {
        let depth = state.stack.count - 1
        if !state.current.covers(state.visibleRange) { load(depth: depth) }
    }
}

/// Answers from background writes, waiting for the dashboard's thread.
private final class Inbox: Sendable {
    private let actions = Mutex<[Action]>([])

    func put(_ action: Action) { actions.withLock { $0.append(action) } }

    func take() -> [Action] {
        actions.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
    }
}
