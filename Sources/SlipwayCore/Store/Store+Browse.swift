import Foundation
import GRDB
import SlipwayProviders

/// Windowed reads for the dashboard: a count and one window of rows at a time, filtered and
/// sorted in SQL, so a screen over 100,000 branches reads only what it shows.
extension Store {
    /// What a dashboard list asks for: a case-insensitive substring filter, a sort, a window.
    public struct BrowseQuery: Sendable, Equatable {
        public var filter: String
        public var sort: BrowseSort
        public var offset: Int
        public var limit: Int
        /// Log views: wrap lines longer than this many columns (nil: one row per line).
        public var wrapWidth: Int?

        public init(filter: String = "", sort: BrowseSort = .name, offset: Int = 0, limit: Int = 100, wrapWidth: Int? = nil) {
            self.filter = filter
            self.sort = sort
            self.offset = offset
            self.limit = limit
            self.wrapWidth = wrapWidth
        }
    }

    public enum BrowseSort: String, Sendable, CaseIterable {
        /// By name, A to Z (commits: as the provider listed them, newest first).
        case name
        /// Most recently pushed first.
        case recent
        /// Most branches first (repositories), by author (branches and commits).
        case size
        /// By provider, then name (the lists that span every provider).
        case provider
    }

    public struct Window<Row: Sendable>: Sendable {
        public var total: Int
        public var offset: Int
        public var rows: [Row]

        public init(total: Int, offset: Int, rows: [Row]) {
            self.total = total
            self.offset = offset
            self.rows = rows
        }
    }

    /// An account with what the providers list shows about it.
    public struct AccountOverview: Sendable, Equatable {
        public var account: Account
        public var workspaces: Int
        public var repositories: Int
        /// Repositories whose branches were read at least once (initial-sync progress).
        public var repositoriesChecked: Int
        /// The last full sync of the account.
        public var lastSyncAt: Date?
        /// The newest check of any of its repositories (sweeps, refreshes): how fresh it is.
        public var lastActivityAt: Date?
        public var lastError: String?
        public var initialSyncDone: Bool
    }

    public struct WorkspaceRow: Sendable, Equatable {
        public var workspace: Workspace
        public var repositories: Int
    }

    public struct RepositoryRow: Sendable, Equatable {
        public var repository: Repository
        public var workspaceSlug: String
        /// The account's provider (`bitbucket`, `git` …) and the account, for lists that span them.
        public var provider: String = ""
        public var accountID: Int64?
        /// Apps built from this repository, with their newest deployment's phase.
        public var apps: [AppState] = []
        /// Slipway's push webhook on it; nil when none is installed.
        public var webhook: WebhookHealth? = nil

        public init(repository: Repository, workspaceSlug: String, apps: [AppState] = [], webhook: WebhookHealth? = nil) {
            self.repository = repository
            self.workspaceSlug = workspaceSlug
            self.apps = apps
            self.webhook = webhook
        }
    }

    /// An app and where its newest deployment is, for the rows it is built from.
    public struct AppState: Sendable, Equatable {
        public var name: String
        public var branch: String
        public var phase: DeploymentPhase?
        public var backend: AppBackend = .local
        /// The newest deployment's commit, and the commit the app serves (its ACTIVE deployment's).
        public var latestCommit: String?
        public var activeCommit: String?
        /// The top-level step the newest deployment failed at (build, deploy …), when it failed.
        public var failedStep: String?
        /// How many of the branch's stored commits are newer than the one served; nil when the
        /// served commit is not in the stored history (or nothing is served).
        public var behind: Int?

        public init(name: String, branch: String, phase: DeploymentPhase?, backend: AppBackend = .local, latestCommit: String? = nil,
                    activeCommit: String? = nil, failedStep: String? = nil, behind: Int? = nil) {
            self.name = name
            self.branch = branch
            self.phase = phase
            self.backend = backend
            self.latestCommit = latestCommit
            self.activeCommit = activeCommit
            self.failedStep = failedStep
            self.behind = behind
        }
    }

    /// Where in a branch's stored history a commit is: 0 for its head, n for n commits behind it;
    /// nil when that commit is not stored on the branch.
    public func commitsBehind(branchID: Int64, commit: String) throws -> Int? {
        try read { db in
            try Int.fetchOne(db, sql: """
                SELECT bc.position FROM branch_commits bc JOIN commits c ON c.id = bc.commit_id
                WHERE bc.branch_id = ? AND c.hash = ? ORDER BY bc.position LIMIT 1
                """, arguments: [branchID, commit])
        }
    }

    /// The apps built from repositories (`provider/workspace/repo`), keyed by that path.
    public func appStates(sourcePaths: [String]) throws -> [String: [AppState]] {
        guard !sourcePaths.isEmpty else { return [:] }
        return try read { db in
            let marks = Array(repeating: "?", count: sourcePaths.count).joined(separator: ",")
            let rows = try Row.fetchAll(db, sql: """
                SELECT a.name, a.branch, a.source_path, a.backend, l.phase, l.commit_hash AS latest_commit,
                       (SELECT s.name FROM deployment_steps s WHERE s.deployment_id = l.id AND s.status = 'failed' AND s.depth = 0
                        ORDER BY s.position LIMIT 1) AS failed_step,
                       (SELECT d.commit_hash FROM deployments d WHERE d.app_id = a.id AND d.phase = 'ACTIVE' ORDER BY d.id DESC LIMIT 1) AS active_commit
                FROM apps a LEFT JOIN deployments l ON l.id = (SELECT MAX(d.id) FROM deployments d WHERE d.app_id = a.id)
                WHERE a.source_path IN (\(marks)) ORDER BY a.name
                """, arguments: StatementArguments(sourcePaths))
            var states: [String: [AppState]] = [:]
            for row in rows {
                let phase: String? = row["phase"]
                let backend: String = row["backend"]
                states[row["source_path"], default: []].append(AppState(
                    name: row["name"], branch: row["branch"], phase: phase.flatMap(DeploymentPhase.init(rawValue:)),
                    backend: AppBackend(rawValue: backend) ?? .local, latestCommit: row["latest_commit"], activeCommit: row["active_commit"],
                    failedStep: row["failed_step"]))
            }
            return states
        }
    }

    public struct BranchRow: Sendable, Equatable {
        public var branch: Branch
        public var repositorySlug: String
        public var workspaceSlug: String
        /// The account's provider and the account, for lists that span every provider.
        public var provider: String = ""
        public var accountID: Int64?
        /// The repository's web page and clone URL (for links in the detail pane).
        public var repositoryWebURL: String?
        public var repositoryCloneURL: String?
        /// Apps built from this branch, with their newest deployment's phase.
        public var apps: [AppState] = []

        public init(branch: Branch, repositorySlug: String, workspaceSlug: String, repositoryWebURL: String? = nil, repositoryCloneURL: String? = nil) {
            self.branch = branch
            self.repositorySlug = repositorySlug
            self.workspaceSlug = workspaceSlug
            self.repositoryWebURL = repositoryWebURL
            self.repositoryCloneURL = repositoryCloneURL
        }
    }

    public func accountOverviews() throws -> [AccountOverview] {
        try read { db in
            try Account.order(Column("provider")).fetchAll(db).map { account in
                let id = account.id ?? 0
                let counts = try Row.fetchOne(db, sql: """
                    SELECT (SELECT COUNT(*) FROM workspaces WHERE account_id = ?) AS ws,
                           COUNT(*) AS repos, COUNT(r.last_checked_at) AS checked,
                           MAX(r.last_checked_at) AS last_check
                    FROM repositories r JOIN workspaces w ON w.id = r.workspace_id WHERE w.account_id = ?
                    """, arguments: [id, id])
                let state = try SyncState.filter(sql: "account_id = ? AND scope = 'account'", arguments: [id]).fetchOne(db)
                let engine = try SyncState.filter(sql: "account_id = ? AND scope = 'engine'", arguments: [id]).fetchOne(db)
                let lastCheck: Date? = counts?["last_check"]
                let activity = [state?.lastSuccessAt, lastCheck].compactMap { $0 }.max()
                // The engine's latest error counts only when nothing succeeded after it.
                let engineError = engine.flatMap { e in (e.lastAttemptAt ?? .distantPast) >= (activity ?? .distantPast) ? e.lastError : nil }
                return AccountOverview(account: account, workspaces: counts?["ws"] ?? 0, repositories: counts?["repos"] ?? 0,
                                       repositoriesChecked: counts?["checked"] ?? 0, lastSyncAt: state?.lastSuccessAt,
                                       lastActivityAt: activity, lastError: engineError ?? state?.lastError,
                                       initialSyncDone: state?.lastSuccessAt != nil)
            }
        }
    }

    public func workspaceWindow(accountID: Int64, _ query: BrowseQuery) throws -> Window<WorkspaceRow> {
        let filter = Self.filterClause(["w.slug", "w.name"], query.filter)
        let order = query.sort == .size ? "repos DESC, w.slug" : "COALESCE(w.name, w.slug) COLLATE NOCASE, w.slug"
        return try read { db in
            let arguments: StatementArguments = [accountID] + filter.arguments
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM workspaces w WHERE w.account_id = ? \(filter.sql)", arguments: arguments) ?? 0
            let rows = try Row.fetchAll(db, sql: """
                SELECT w.*, (SELECT COUNT(*) FROM repositories r WHERE r.workspace_id = w.id) AS repos
                FROM workspaces w WHERE w.account_id = ? \(filter.sql)
                ORDER BY \(order) LIMIT ? OFFSET ?
                """, arguments: arguments + [query.limit, query.offset])
            return Window(total: total, offset: query.offset, rows: try rows.map { WorkspaceRow(workspace: try Workspace(row: $0), repositories: $0["repos"]) })
        }
    }

    /// Where a list is drawn from: one repository or workspace, one account, or every account (both nil).
    static func scope(_ column: String, _ id: Int64?, accountID: Int64?) -> (sql: String, arguments: StatementArguments) {
        if let id { return ("\(column) = ?", [id]) }
        if let accountID { return ("w.account_id = ?", [accountID]) }
        return ("1 = 1", [])
    }

    /// Repositories of one workspace, of every workspace of an account (`workspaceID` nil), or of
    /// every account (both nil).
    public func repositoryWindow(accountID: Int64?, workspaceID: Int64?, _ query: BrowseQuery) throws -> Window<RepositoryRow> {
        // Every column the list shows: provider, name, slug, workspace, main branch.
        let filter = Self.filterClause(["a.provider", "r.slug", "r.name", "w.slug", "r.main_branch"], query.filter)
        let scope = Self.scope("r.workspace_id", workspaceID, accountID: accountID)
        let order = switch query.sort {
        case .name: "r.name COLLATE NOCASE, w.slug, r.slug, a.provider"
        case .recent: "r.updated_on IS NULL, r.updated_on DESC, r.slug"
        case .size: "r.branch_count DESC, r.slug"
        case .provider: "a.provider, r.name COLLATE NOCASE, w.slug, r.slug"
        }
        return try read { db in
            let arguments: StatementArguments = scope.arguments + filter.arguments
            let from = """
                FROM repositories r JOIN workspaces w ON w.id = r.workspace_id JOIN accounts a ON a.id = w.account_id
                WHERE \(scope.sql) \(filter.sql)
                """
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) \(from)", arguments: arguments) ?? 0
            let rows = try Row.fetchAll(db, sql: "SELECT r.*, w.slug AS ws_slug, a.provider AS provider, a.id AS account \(from) ORDER BY \(order) LIMIT ? OFFSET ?",
                                        arguments: arguments + [query.limit, query.offset])
            var window = try rows.map { row in
                var item = RepositoryRow(repository: try Repository(row: row), workspaceSlug: row["ws_slug"])
                item.provider = row["provider"]
                item.accountID = row["account"]
                return item
            }
            // The visible rows' webhook health, in the same read.
            let health = try Self.webhookHealth(db, repositoryIDs: window.compactMap(\.repository.id))
            for index in window.indices { window[index].webhook = window[index].repository.id.flatMap { health[$0] } }
            return Window(total: total, offset: query.offset, rows: window)
        }
    }

    /// The SQL order of a branch list (the in-memory index keeps the same one).
    static func branchOrder(_ sort: BrowseSort) -> String {
        switch sort {
        case .name: "b.name COLLATE NOCASE, r.slug, b.id"
        case .recent: "b.head_date IS NULL, b.head_date DESC, b.name, b.id"
        case .size: "b.head_author COLLATE NOCASE, b.name, b.id"
        case .provider: "a.provider, b.name COLLATE NOCASE, r.slug, b.id"
        }
    }

    static let branchFrom = """
        FROM branches b JOIN repositories r ON r.id = b.repository_id JOIN workspaces w ON w.id = r.workspace_id JOIN accounts a ON a.id = w.account_id
        """

    static func branchRow(_ row: Row) throws -> BranchRow {
        var item = BranchRow(branch: try Branch(row: row), repositorySlug: row["repo_slug"], workspaceSlug: row["ws_slug"],
                             repositoryWebURL: row["repo_web"], repositoryCloneURL: row["repo_clone"])
        item.provider = row["provider"]
        item.accountID = row["account"]
        return item
    }

    /// Branches of one repository, of every repository of an account (`repositoryID` nil), or of
    /// every account (both nil).
    public func branchWindow(accountID: Int64?, repositoryID: Int64?, _ query: BrowseQuery) throws -> Window<BranchRow> {
        // Every column the list shows: repository (as provider/ws/repo), name, head hash, author, subject.
        let filter = Self.filterClause(["a.provider || '/' || w.slug || '/' || r.slug", "b.name", "b.head_hash", "b.head_author", "b.head_message"], query.filter)
        let scope = Self.scope("b.repository_id", repositoryID, accountID: accountID)
        return try read { db in
            let arguments: StatementArguments = scope.arguments + filter.arguments
            let from = "\(Self.branchFrom) WHERE \(scope.sql) \(filter.sql)"
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) \(from)", arguments: arguments) ?? 0
            let rows = try Row.fetchAll(db, sql: """
                SELECT b.*, r.slug AS repo_slug, w.slug AS ws_slug, r.web_url AS repo_web, r.clone_url AS repo_clone, a.provider AS provider, a.id AS account
                \(from) ORDER BY \(Self.branchOrder(query.sort)) LIMIT ? OFFSET ?
                """, arguments: arguments + [query.limit, query.offset])
            return Window(total: total, offset: query.offset, rows: try rows.map(Self.branchRow))
        }
    }

    /// A branch's stored history (newest first unless sorted by author).
    public func commitWindow(branchID: Int64, _ query: BrowseQuery) throws -> Window<Commit> {
        let filter = Self.filterClause(["c.hash", "c.author", "c.message"], query.filter)
        let order = query.sort == .size ? "c.author COLLATE NOCASE, bc.position" : "bc.position"
        return try read { db in
            let arguments: StatementArguments = [branchID] + filter.arguments
            let from = "FROM commits c JOIN branch_commits bc ON bc.commit_id = c.id WHERE bc.branch_id = ? \(filter.sql)"
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) \(from)", arguments: arguments) ?? 0
            let rows = try Commit.fetchAll(db, sql: "SELECT c.* \(from) ORDER BY \(order) LIMIT ? OFFSET ?",
                                           arguments: arguments + [query.limit, query.offset])
            return Window(total: total, offset: query.offset, rows: rows)
        }
    }

    /// Change events after `cursor`, oldest first (the dashboard marks their rows).
    public func changeEvents(after cursor: Int64, limit: Int = 500) throws -> [ChangeEvent] {
        try read { db in
            try ChangeEvent.fetchAll(db, sql: "SELECT * FROM change_events WHERE id > ? ORDER BY id LIMIT ?", arguments: [cursor, limit])
        }
    }

    public func lastChangeEventID() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM change_events") ?? 0 }
    }

    /// A substring match on any of `columns`, case-insensitive for ASCII; `%` and `_` are literal.
    static func filterClause(_ columns: [String], _ text: String) -> (sql: String, arguments: StatementArguments) {
        guard !text.isEmpty else { return ("", []) }
        let needle = text.lowercased()
        let sql = "AND (" + columns.map { "instr(lower(COALESCE(\($0), '')), ?) > 0" }.joined(separator: " OR ") + ")"
        return (sql, StatementArguments(Array(repeating: needle, count: columns.count)))
    }
}

extension Store {
    /// Every stored budget (the accounts screen and header badges read them).
    public func budgetStates() throws -> [BudgetState] {
        try read { db in try BudgetState.order(Column("credential"), Column("kind")).fetchAll(db) }
    }
}

extension Store {
    public func branchCount(accountID: Int64?, repositoryID: Int64?) throws -> Int {
        try read { db in try Self.branchCount(db, accountID: accountID, repositoryID: repositoryID) }
    }

    static func branchCount(_ db: Database, accountID: Int64?, repositoryID: Int64?) throws -> Int {
        if let repositoryID {
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM branches WHERE repository_id = ?", arguments: [repositoryID]) ?? 0
        }
        guard let accountID else { return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM branches") ?? 0 }
        return try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM branches b JOIN repositories r ON r.id = b.repository_id JOIN workspaces w ON w.id = r.workspace_id
            WHERE w.account_id = ?
            """, arguments: [accountID]) ?? 0
    }

    /// Branch rows by id, in the order given (ids no longer stored are left out).
    public func branchRows(ids: [Int64]) throws -> [BranchRow] {
        guard !ids.isEmpty else { return [] }
        return try read { db in
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            let rows = try Row.fetchAll(db, sql: """
                SELECT b.*, r.slug AS repo_slug, w.slug AS ws_slug, r.web_url AS repo_web, r.clone_url AS repo_clone, a.provider AS provider, a.id AS account
                \(Self.branchFrom) WHERE b.id IN (\(marks))
                """, arguments: StatementArguments(ids))
            var byID: [Int64: BranchRow] = [:]
            for row in rows {
                let item = try Self.branchRow(row)
                byID[item.branch.id!] = item
            }
            return ids.compactMap { byID[$0] }
        }
    }
}

extension Store {
    /// An app with its newest deployment, for the apps screen.
    public struct AppRow: Sendable, Equatable {
        public var app: App
        public var latest: Deployment?
        /// The commit the app runs now (its ACTIVE deployment's), if any.
        public var activeCommit: String?

        public init(app: App, latest: Deployment?, activeCommit: String?) {
            self.app = app
            self.latest = latest
            self.activeCommit = activeCommit
        }
    }

    public func appWindow(_ query: BrowseQuery) throws -> Window<AppRow> {
        let filter = Self.filterClause(["a.name", "a.source_path", "a.branch"], query.filter)
        return try read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM apps a WHERE 1 = 1 \(filter.sql)", arguments: filter.arguments) ?? 0
            let apps = try App.fetchAll(db, sql: "SELECT a.* FROM apps a WHERE 1 = 1 \(filter.sql) ORDER BY a.name LIMIT ? OFFSET ?",
                                        arguments: filter.arguments + [query.limit, query.offset])
            let rows = try apps.map { app in
                let latest = try Deployment.fetchOne(db, sql: "SELECT * FROM deployments WHERE app_id = ? ORDER BY id DESC LIMIT 1", arguments: [app.id!])
                let active = try String.fetchOne(db, sql: "SELECT commit_hash FROM deployments WHERE app_id = ? AND phase = 'ACTIVE' ORDER BY id DESC LIMIT 1",
                                                 arguments: [app.id!])
                return AppRow(app: app, latest: latest, activeCommit: active)
            }
            return Window(total: total, offset: query.offset, rows: rows)
        }
    }

    public func deploymentWindow(appID: Int64, _ query: BrowseQuery) throws -> Window<Deployment> {
        let filter = Self.filterClause(["d.commit_hash", "d.cause", "d.phase", "d.reason"], query.filter)
        return try read { db in
            let arguments: StatementArguments = [appID] + filter.arguments
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deployments d WHERE d.app_id = ? \(filter.sql)", arguments: arguments) ?? 0
            let rows = try Deployment.fetchAll(db, sql: "SELECT d.* FROM deployments d WHERE d.app_id = ? \(filter.sql) ORDER BY d.id DESC LIMIT ? OFFSET ?",
                                               arguments: arguments + [query.limit, query.offset])
            return Window(total: total, offset: query.offset, rows: rows)
        }
    }

    /// A deployment's log as lines (capped logs are small enough to split in memory).
    public func logLines(deploymentID: Int64) throws -> [(stream: LogStream, text: String)] {
        var lines: [(LogStream, String)] = []
        var pending: [LogStream: String] = [:]
        for chunk in try logChunks(deploymentID: deploymentID, limit: 100_000) {
            var text = (pending.removeValue(forKey: chunk.stream) ?? "") + chunk.text
            // "\r\n" is one Character in Swift: both end a line.
            while let newline = text.firstIndex(where: { $0 == "\n" || $0 == "\r\n" }) {
                lines.append((chunk.stream, String(text[..<newline])))
                text = String(text[text.index(after: newline)...])
            }
            if !text.isEmpty { pending[chunk.stream] = text }
        }
        for (stream, text) in pending.sorted(by: { $0.key.rawValue < $1.key.rawValue }) { lines.append((stream, text)) }
        return lines
    }
}
