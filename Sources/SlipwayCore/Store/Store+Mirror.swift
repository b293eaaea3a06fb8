import Foundation
import GRDB
import SlipwayProviders

/// A location in the mirror as the CLI and the TUI name it: `provider/workspace/repo/branch`.
/// The branch is everything after the third `/`, so branch names with slashes need no quoting.
public struct MirrorPath: Sendable, Equatable, CustomStringConvertible {
    public var provider: ProviderKind?
    public var workspace: String?
    public var repository: String?
    public var branch: String?

    public init(provider: ProviderKind? = nil, workspace: String? = nil, repository: String? = nil, branch: String? = nil) {
        self.provider = provider
        self.workspace = workspace
        self.repository = repository
        self.branch = branch
    }

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case unknownProvider(String)
        case emptySegment(String)

        public var description: String {
            switch self {
            case let .unknownProvider(name):
                "unknown provider '\(name)'; expected one of \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", "))"
            case let .emptySegment(path):
                "'\(path)' has an empty part; write PROVIDER/WORKSPACE/REPO/BRANCH"
            }
        }
    }

    public static func parse(_ text: String) throws -> MirrorPath {
        var rest = Substring(text)
        if rest.hasSuffix("/") && !rest.dropLast().contains("/") { rest = rest.dropLast() }
        let parts = rest.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard let first = parts.first, !first.isEmpty else { throw ParseError.emptySegment(text) }
        guard let provider = ProviderKind(rawValue: first.lowercased()) else { throw ParseError.unknownProvider(String(first)) }
        var path = MirrorPath(provider: provider)
        if parts.count > 1 { guard !parts[1].isEmpty else { throw ParseError.emptySegment(text) }; path.workspace = String(parts[1]) }
        if parts.count > 2 { guard !parts[2].isEmpty else { throw ParseError.emptySegment(text) }; path.repository = String(parts[2]) }
        if parts.count > 3 { guard !parts[3].isEmpty else { throw ParseError.emptySegment(text) }; path.branch = String(parts[3]) }
        return path
    }

    public var description: String {
        [provider?.rawValue, workspace, repository, branch].compactMap { $0 }.joined(separator: "/")
    }

    /// The provider a path starts with, if it names one.
    public static func parseProvider(_ text: String) -> ProviderKind? {
        (try? parse(text))?.provider
    }
}

extension Store {
    // MARK: Accounts

    public func accounts() throws -> [Account] {
        try read { db in try Account.order(Column("provider")).fetchAll(db) }
    }

    public func account(for provider: ProviderKind) throws -> Account? {
        try read { db in try Account.filter(Column("provider") == provider.rawValue).fetchOne(db) }
    }

    // MARK: Walking the mirror by path

    public func workspace(accountID: Int64, slug: String) throws -> Workspace? {
        try read { db in
            try Workspace.filter(Column("account_id") == accountID && Column("slug") == slug).fetchOne(db)
        }
    }

    public func workspaces(accountID: Int64) throws -> [Workspace] {
        try read { db in
            try Workspace.filter(Column("account_id") == accountID).order(Column("slug")).fetchAll(db)
        }
    }

    public func repository(workspaceID: Int64, slug: String) throws -> Repository? {
        try read { db in
            try Repository.filter(Column("workspace_id") == workspaceID && Column("slug") == slug).fetchOne(db)
        }
    }

    public func repositories(workspaceID: Int64) throws -> [Repository] {
        try read { db in
            try Repository.filter(Column("workspace_id") == workspaceID).order(Column("slug")).fetchAll(db)
        }
    }

    public func branch(repositoryID: Int64, name: String) throws -> Branch? {
        try read { db in
            try Branch.filter(Column("repository_id") == repositoryID && Column("name") == name).fetchOne(db)
        }
    }

    public func branches(repositoryID: Int64) throws -> [Branch] {
        try read { db in
            try Branch.filter(Column("repository_id") == repositoryID).order(Column("name")).fetchAll(db)
        }
    }

    /// A branch's known history, newest first, as the provider listed it.
    public func commits(branchID: Int64, limit: Int = 100) throws -> [Commit] {
        try read { db in
            try Commit.fetchAll(db, sql: """
                SELECT commits.* FROM commits
                JOIN branch_commits ON branch_commits.commit_id = commits.id
                WHERE branch_commits.branch_id = ?
                ORDER BY branch_commits.position
                LIMIT ?
                """, arguments: [branchID, limit])
        }
    }

    /// The repository a `provider/workspace/repo` path names, if the mirror has it.
    public func repository(at path: MirrorPath) throws -> Repository? {
        guard let provider = path.provider, let ws = path.workspace, let repo = path.repository else { return nil }
        return try read { db in
            try Repository.fetchOne(db, sql: """
                SELECT repositories.* FROM repositories
                JOIN workspaces ON workspaces.id = repositories.workspace_id
                JOIN accounts ON accounts.id = workspaces.account_id
                WHERE accounts.provider = ? AND workspaces.slug = ? AND repositories.slug = ?
                """, arguments: [provider.rawValue, ws, repo])
        }
    }

    // MARK: Sync bookkeeping

    /// When any account last finished a full sync, if ever.
    public func lastSyncAt() throws -> Date? {
        try read { db in
            try Date.fetchOne(db, sql: "SELECT MAX(last_success_at) FROM sync_states WHERE scope = 'account'")
        }
    }

    /// When the engine last checked a repository (a sweep between full cycles).
    public func lastSweepAt() throws -> Date? {
        try read { db in try Date.fetchOne(db, sql: "SELECT MAX(last_checked_at) FROM repositories") }
    }
}

extension Store {
    /// Removes an account with its secrets and everything mirrored from it (cascading), and the
    /// budget and sync rows that named it.
    public func deleteAccount(provider: ProviderKind) throws {
        try write { db in
            guard let account = try Account.filter(Column("provider") == provider.rawValue).fetchOne(db), let id = account.id else { return }
            try db.execute(sql: "DELETE FROM budget_states WHERE credential = ?", arguments: ["account:\(id)"])
            _ = try Account.deleteOne(db, key: id)
        }
    }
}

extension Store {
    /// Takes the write lock and lets go, changing nothing: a store that is read-only, full-locked
    /// or gone fails here (`/healthz`).
    public func probeWrite() throws {
        try write { db in try db.execute(sql: "UPDATE accounts SET id = id WHERE 0") }
    }
}
