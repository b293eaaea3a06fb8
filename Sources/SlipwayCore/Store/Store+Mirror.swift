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
        Self.joined(provider?.rawValue, workspace, repository, branch)
    }

    /// The one spelling of a path from its parts (`provider/workspace/repository/branch`), for
    /// callers that hold the provider as the path's text; missing parts end it.
    public static func joined(_ provider: String?, _ workspace: String? = nil, _ repository: String? = nil, _ branch: String? = nil) -> String {
        var parts: [String] = []
        for part in [provider, workspace, repository, branch] {
            guard let part else { break }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    /// A child's path: the workspace in a provider, the repository in a workspace, the branch in
    /// a repository (names may hold `/`; only parsing against the mirror splits them again).
    public static func child(_ parent: String, _ name: String) -> String {
        parent.isEmpty ? name : parent + "/" + name
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

    /// The repositories of a workspace among these slugs (a discovery page's), by slug.
    public func repositories(workspaceID: Int64, slugs: [String]) throws -> [String: Repository] {
        guard !slugs.isEmpty else { return [:] }
        return try read { db in
            var found: [String: Repository] = [:]
            for repository in try Repository.filter(Column("workspace_id") == workspaceID && slugs.contains(Column("slug"))).fetchAll(db) {
                found[repository.slug] = repository
            }
            return found
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
    /// Every stored hash of a repository (its commits and branch heads) that starts with `prefix`.
    public func commitHashes(repositoryID: Int64, prefix: String) throws -> [String] {
        // Only hex digits: `%` or `_` in a prefix would be LIKE's wildcards.
        guard !prefix.isEmpty, prefix.allSatisfy(\.isHexDigit) else { return [] }
        let pattern = prefix.lowercased() + "%"
        return try read { db in
            try String.fetchAll(db, sql: "SELECT hash FROM commits WHERE repository_id = ? AND hash LIKE ? UNION SELECT head_hash FROM branches WHERE repository_id = ? AND head_hash LIKE ?",
                                arguments: [repositoryID, pattern, repositoryID, pattern])
        }
    }

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
            try db.execute(sql: "DELETE FROM budget_states WHERE credential = ?", arguments: [Account.budgetCredential(id)])
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

/// Where a path leads in the mirror (`:goto`): the account, then as deep as the path named.
public struct MirrorLocation: Sendable, Equatable {
    public struct Named: Sendable, Equatable {
        public var id: Int64
        public var slug: String
    }

    public struct RepositoryPlace: Sendable, Equatable {
        public var id: Int64
        public var slug: String
        public var webURL: String?
    }

    public struct BranchPlace: Sendable, Equatable {
        public var id: Int64
        public var name: String
    }

    public var accountID: Int64
    public var provider: String
    public var webURL: String
    public var workspace: Named?
    public var repository: RepositoryPlace?
    public var branch: BranchPlace?
}

extension Store {
    /// Splits `provider[/workspace[/repository[/branch]]]` by DESIGN.md's rule: the longest
    /// workspace that exists, then the longest repository in it, the rest the branch — so names
    /// with `/` (GitLab groups, public Git paths, branches) need no quoting. Where the mirror
    /// knows no such workspace or repository, the plain split names what is missing.
    public func resolvePath(_ text: String) throws -> MirrorPath {
        let plain = try MirrorPath.parse(text)
        guard let provider = plain.provider, let account = try account(for: provider), let accountID = account.id else { return plain }
        var rest = text.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        while rest.last == "" { rest.removeLast() }
        var path = MirrorPath(provider: provider)
        func longest<T>(_ find: (String) throws -> T?) rethrows -> (T, Int)? {
            for count in stride(from: rest.count, through: 1, by: -1) {
                if let found = try find(rest[..<count].joined(separator: "/")) { return (found, count) }
            }
            return nil
        }
        guard !rest.isEmpty else { return path }
        guard let (workspace, used) = try longest({ try self.workspace(accountID: accountID, slug: $0) }), let workspaceID = workspace.id else { return plain }
        path.workspace = workspace.slug
        rest.removeFirst(used)
        guard !rest.isEmpty else { return path }
        guard let (repository, repoUsed) = try longest({ try self.repository(workspaceID: workspaceID, slug: $0) }) else {
            path.repository = rest[0]
            path.branch = rest.count > 1 ? rest.dropFirst().joined(separator: "/") : nil
            return path
        }
        path.repository = repository.slug
        rest.removeFirst(repoUsed)
        path.branch = rest.isEmpty ? nil : rest.joined(separator: "/")
        return path
    }

    /// Where a path leads (`:goto`), resolved as `resolvePath` does. Nil when the provider is not
    /// linked or a named part is missing.
    public func locate(_ text: String) throws -> MirrorLocation? {
        let path = try resolvePath(text)
        guard let kind = path.provider, let account = try account(for: kind), let accountID = account.id else { return nil }
        var location = MirrorLocation(accountID: accountID, provider: kind.rawValue, webURL: account.webURL)
        guard let slug = path.workspace else { return location }
        guard let workspace = try self.workspace(accountID: accountID, slug: slug), let workspaceID = workspace.id else { return nil }
        location.workspace = .init(id: workspaceID, slug: workspace.slug)
        guard let repoSlug = path.repository else { return location }
        guard let repository = try self.repository(workspaceID: workspaceID, slug: repoSlug), let repositoryID = repository.id else { return nil }
        location.repository = .init(id: repositoryID, slug: repository.slug, webURL: repository.webURL)
        guard let name = path.branch else { return location }
        guard let branch = try self.branch(repositoryID: repositoryID, name: name), let branchID = branch.id else { return nil }
        location.branch = .init(id: branchID, name: branch.name)
        return location
    }
}
