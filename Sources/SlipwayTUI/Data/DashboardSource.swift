import Foundation
import SlipwayCore

/// What the dashboard reads and asks for. The store-backed source is the real one; tests may
/// use it over a temporary store. All calls are quick, synchronous reads of a window.
public protocol DashboardSource: AnyObject, Sendable {
    func header() throws -> HeaderInfo
    func load(_ kind: LevelKind, query: Store.BrowseQuery) throws -> (total: Int, items: [Item])
    /// Change events after `cursor`; the first call with nil returns none and sets the cursor.
    func changes(after cursor: Int64?) throws -> (cursor: Int64, events: [ChangeEvent])
    /// Leaves a refresh command for the engine; returns its id.
    func requestRefresh(path: String) throws -> Int64
    /// Asks the engine to deploy an app's head, or to cancel a deployment; returns the command's id.
    func requestDeploy(app: String) throws -> Int64
    func requestCancel(deploymentID: Int64) throws -> Int64
    /// Asks the engine to copy an App Platform deployment's logs into the store (live while they grow).
    func requestLogFollow(deploymentID: Int64) throws -> Int64
    /// Queues an engine command installing the push webhook on a repository.
    func requestWebhookInstall(path: String) throws -> Int64
    func command(id: Int64) throws -> EngineCommand?
    /// Where a path leads in the mirror (`:goto`), by the longest-workspace rule.
    func locate(path: String) throws -> MirrorLocation?
    /// Changes whenever any connection commits (`PRAGMA data_version`); nil when unknown.
    func dataVersion() -> Int?
}

/// The dashboard over the shared SQLite store.
public final class StoreSource: DashboardSource, @unchecked Sendable {
    let store: Store
    let watcher: StoreWatcher?
    let home: String
    let host: String
    let engine: @Sendable () -> EngineBadge
    /// The clock a large list's index ages by (tests move it).
    let clock: @Sendable () -> Date
    /// Branch lists at least this long are filtered and paged from an in-memory index.
    public static let largeList = 5_000
    /// How stale a large list's index may get while the mirror keeps changing (its visible rows
    /// are always read fresh; what branches match a filter, and where they sort, wait this long).
    public static let indexMaxAge: TimeInterval = 2
    // Only the dashboard's thread calls load (the source is handed to it once).
    private var large: (key: String, filter: BranchFilter)?

    /// The engine's pacing, to say on the accounts screen where tracked repositories wait longer
    /// than `app_poll_seconds`; nil: not said.
    let pacing: SyncEngine.Settings?

    public init(store: Store, home: String, host: String = ProcessInfo.processInfo.hostName, pacing: SyncEngine.Settings? = nil,
                clock: @escaping @Sendable () -> Date = Date.init, engine: @escaping @Sendable () -> EngineBadge) {
        self.store = store
        self.clock = clock
        self.home = home
        self.host = host
        self.pacing = pacing
        self.engine = engine
        watcher = try? StoreWatcher(path: store.path)
    }

    public func header() throws -> HeaderInfo {
        let budgets = try store.budgetStates()
        let cards = try store.accountOverviews().map { overview in
            AccountCard(overview: overview, budgets: budgets.filter { $0.credential == overview.account.budgetCredential })
        }
        let active = try store.unfinishedCommandCount()
        return HeaderInfo(home: home, host: host, accounts: cards, engine: engine(), activeCommands: active)
    }

    public func load(_ kind: LevelKind, query: Store.BrowseQuery) throws -> (total: Int, items: [Item]) {
        switch kind {
        case .providers:
            // The Git hosts with their budgets; App Platform's account is on the accounts screen and in the header.
            let budgets = try store.budgetStates()
            let all = try store.accountOverviews().filter(\.account.isGitHost).map { overview in
                Item.provider(AccountCard(overview: overview, budgets: budgets.filter { $0.credential == overview.account.budgetCredential }))
            }
            return (all.count, Array(all.dropFirst(query.offset).prefix(query.limit)))
        case .accounts:
            let budgets = try store.budgetStates()
            let stretched = try pacing.map { try TrackedPolling.plan(store: store, settings: $0).filter(\.stretched) } ?? []
            let all = try store.accountOverviews().map { o in
                Item.account(AccountCard(overview: o, budgets: budgets.filter { $0.credential == o.account.budgetCredential },
                                         stretchedPolling: stretched.filter { $0.provider == o.account.provider }))
            }
            return (all.count, Array(all.dropFirst(query.offset).prefix(query.limit)))
        case let .workspaces(accountID):
            let window = try store.workspaceWindow(accountID: accountID, query)
            return (window.total, window.rows.map(Item.workspace))
        case let .repositories(accountID, workspaceID):
            let window = try store.repositoryWindow(accountID: accountID, workspaceID: workspaceID, query)
            let states = try store.appStates(sourcePaths: window.rows.map { MirrorPath.joined($0.provider, $0.workspaceSlug, $0.repository.slug) })
            return (window.total, window.rows.map { row in
                var row = row
                row.apps = states[MirrorPath.joined(row.provider, row.workspaceSlug, row.repository.slug)] ?? []
                return Item.repository(row)
            })
        case let .branches(accountID, repositoryID):
            let loaded: (total: Int, items: [Item])
            if let large = try largeBranchList(accountID: accountID, repositoryID: repositoryID, query) {
                loaded = large
            } else {
                let window = try store.branchWindow(accountID: accountID, repositoryID: repositoryID, query)
                loaded = (window.total, window.rows.map(Item.branch))
            }
            return (loaded.total, try withAppStates(loaded.items))
        case let .commits(_, branchID):
            let window = try store.commitWindow(branchID: branchID, query)
            return (window.total, window.rows.map(Item.commit))
        case .apps:
            let window = try store.appWindow(query)
            return (window.total, window.rows.map(Item.app))
        case let .deployments(appID):
            let window = try store.deploymentWindow(appID: appID, query)
            let steps = try store.steps(deploymentIDs: window.rows.compactMap(\.id))
            return (window.total, window.rows.map { Item.deployment($0, steps: steps[$0.id ?? 0] ?? []) })
        case let .log(deploymentID):
            let needle = query.filter.lowercased()
            var rows: [Item] = []
            let matching = try store.logLines(deploymentID: deploymentID).enumerated().filter { needle.isEmpty || $0.element.text.lowercased().contains(needle) }
            for (index, line) in matching {
                // Sanitize first, so a wrapped row never splits an escape's visible form oddly.
                let pieces = query.wrapWidth.map { Self.wrap(TerminalText.sanitize(line.text), width: $0) } ?? [line.text]
                for (part, piece) in pieces.enumerated() {
                    // Each row knows how many lines there are: the counter counts lines, not wrapped rows.
                    rows.append(.logLine(number: index + 1, part: part, stream: line.stream, text: piece, lines: matching.count))
                }
            }
            return (rows.count, Array(rows.dropFirst(query.offset).prefix(query.limit)))
        }
    }

    /// Cuts a line into rows of at most `width` display columns.
    static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0, DisplayWidth.of(text) > width else { return [text] }
        var rows: [String] = []
        var current = ""
        var used = 0
        for character in text {
            let w = DisplayWidth.of(String(character))
            if used + w > width {
                rows.append(current)
                current = ""
                used = 0
            }
            current.append(character)
            used += w
        }
        if !current.isEmpty { rows.append(current) }
        return rows
    }

    /// Branch rows with the apps built from them.
    private func withAppStates(_ items: [Item]) throws -> [Item] {
        var paths = Set<String>()
        for case let .branch(row) in items { paths.insert(MirrorPath.joined(row.provider, row.workspaceSlug, row.repositorySlug)) }
        let states = try store.appStates(sourcePaths: Array(paths))
        guard !states.isEmpty else { return items }
        return try items.map { item in
            guard case var .branch(row) = item else { return item }
            row.apps = (states[MirrorPath.joined(row.provider, row.workspaceSlug, row.repositorySlug)] ?? []).filter { $0.branch == row.branch.name }
            // How far the head is ahead of what each app serves (from the stored history).
            for index in row.apps.indices {
                guard let served = row.apps[index].activeCommit, let branchID = row.branch.id else { continue }
                row.apps[index].behind = served == row.branch.headHash ? 0 : try store.commitsBehind(branchID: branchID, commit: served)
            }
            return .branch(row)
        }
    }

    /// When the large list's index in use was read (nil: none), for tests.
    func largeListIndexBuiltAt() -> Date? { large?.filter.builtAt }

    /// Large lists: filter and page over the in-memory index, then read the visible rows by id.
    private func largeBranchList(accountID: Int64?, repositoryID: Int64?, _ query: Store.BrowseQuery) throws -> (total: Int, items: [Item])? {
        let key = "\(accountID.map(String.init) ?? "*")/\(repositoryID.map(String.init) ?? "*")/\(query.sort.rawValue)"
        // Taken out while in use, so what it holds grows in place, not as a copy. One large list's
        // index at a time: another sort or scope, or a mirror that moved past the index's age, lets
        // go of it before the next is read (the peak is one index, not two).
        var filter = large.flatMap { $0.key == key ? $0.filter : nil }
        large = nil
        if let known = filter, clock().timeIntervalSince(known.builtAt) > Self.indexMaxAge,
           try store.mirrorGeneration() != known.index.generation {
            filter = nil
        }
        if filter == nil {
            guard let index = try store.branchSearchIndex(accountID: accountID, repositoryID: repositoryID, sort: query.sort, atLeast: Self.largeList)
            else { return nil }
            filter = BranchFilter(index: index, builtAt: clock())
        }
        guard var current = filter else { return nil }
        filter = nil
        let window = current.ids(matching: query.filter, offset: query.offset, limit: query.limit)
        large = (key, current)
        return (window.total, try store.branchRows(ids: window.ids).map(Item.branch))
    }

    public func changes(after cursor: Int64?) throws -> (cursor: Int64, events: [ChangeEvent]) {
        guard let cursor else { return (try store.lastChangeEventID(), []) }
        let events = try store.changeEvents(after: cursor)
        return (events.last?.id ?? cursor, events)
    }

    public func requestRefresh(path: String) throws -> Int64 {
        try store.enqueue(RefreshPayload(path: path), requestedBy: Self.requester, now: Date())
    }

    public func locate(path: String) throws -> MirrorLocation? { try store.locate(path) }

    public func command(id: Int64) throws -> EngineCommand? {
        try store.command(id: id)
    }

    public func requestDeploy(app: String) throws -> Int64 {
        try store.enqueue(DeployPayload(app: app, cause: "deployed from the dashboard"), requestedBy: Self.requester, now: Date())
    }

    public func requestCancel(deploymentID: Int64) throws -> Int64 {
        try store.enqueue(CancelPayload(deployment: deploymentID), requestedBy: Self.requester, now: Date())
    }

    public func requestLogFollow(deploymentID: Int64) throws -> Int64 {
        try store.enqueue(FollowLogPayload(deployment: deploymentID), requestedBy: Self.requester, now: Date())
    }

    public func requestWebhookInstall(path: String) throws -> Int64 {
        try store.enqueue(InstallWebhookPayload(path: path), requestedBy: Self.requester, now: Date())
    }

    private static var requester: String { "tui:\(getpid())" }

    public func dataVersion() -> Int? {
        try? watcher?.dataVersion()
    }
}
