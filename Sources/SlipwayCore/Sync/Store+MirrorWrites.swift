import Foundation
import GRDB
import SlipwayProviders

/// The engine's writes to the mirror. Each is one short transaction that also appends the change
/// events it caused, so a crash never leaves half a repository or a change nobody hears about.
extension Store {
    public func upsertWorkspace(accountID: Int64, _ remote: ProviderWorkspace, now: Date) throws -> Workspace {
        try write { db in
            if var existing = try Workspace.filter(Column("account_id") == accountID && Column("slug") == remote.slug).fetchOne(db) {
                existing.remoteID = remote.id ?? existing.remoteID
                existing.name = remote.name ?? existing.name
                existing.isAdmin = remote.isAdmin
                existing.updatedAt = now
                try existing.update(db)
                return existing
            }
            var workspace = Workspace(accountID: accountID, slug: remote.slug, remoteID: remote.id, name: remote.name,
                                      isAdmin: remote.isAdmin, updatedAt: now)
            try workspace.insert(db)
            return workspace
        }
    }

    /// A repository as a listing gives it, with all its branch heads.
    public struct RepositoryListing: Sendable {
        public var path: String
        public var remote: ProviderRepository
        public var isAdmin: Bool
        public var branches: [ProviderBranch]

        public init(path: String, remote: ProviderRepository, isAdmin: Bool, branches: [ProviderBranch]) {
            self.path = path
            self.remote = remote
            self.isAdmin = isAdmin
            self.branches = branches
        }
    }

    /// Writes a repository and all its branch heads; returns the changes against what was stored.
    /// With `look` (the engine's sweep), the repository's next sweep lane is set as well.
    public func applyRepository(workspaceID: Int64, path: String, _ remote: ProviderRepository, isAdmin: Bool,
                                branches: [ProviderBranch], look: SweepLane.Look? = nil, now: Date) throws -> [SyncReport.Change] {
        try write { db in
            try Self.apply(RepositoryListing(path: path, remote: remote, isAdmin: isAdmin, branches: branches), workspaceID: workspaceID,
                           look: look, waitingApps: try Self.appsWaitForRepositories(db), db: db, now: now)
        }
    }

    /// Writes several repositories of a workspace in one transaction (an initial sync's batch):
    /// each is whole or absent after a crash, and the commit's cost is shared.
    public func applyRepositories(_ listings: [RepositoryListing], workspaceID: Int64, now: Date) throws -> [SyncReport.Change] {
        guard !listings.isEmpty else { return [] }
        return try write { db in
            var changes: [SyncReport.Change] = []
            let waitingApps = try Self.appsWaitForRepositories(db)
            for listing in listings {
                changes += try Self.apply(listing, workspaceID: workspaceID, look: nil, waitingApps: waitingApps, db: db, now: now)
            }
            return changes
        }
    }

    /// Whether an app kept across an unlink waits for its repository to be mirrored again —
    /// asked once a transaction, not once a repository (almost always: none does).
    private static func appsWaitForRepositories(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM apps WHERE repository_id IS NULL)")) ?? false
    }

    /// An initial sync writes tens of thousands of branches: rows go in through prepared
    /// statements bound with SQLite's C API (`MirrorRowWriter`), with dates as stored text; a new
    /// repository reads nothing back, and a known one reads only id, name, hash and whether a
    /// message is stored — and writes only the branches that changed.
    private static func apply(_ listing: RepositoryListing, workspaceID: Int64, look: SweepLane.Look?, waitingApps: Bool, db: Database,
                              now: Date) throws -> [SyncReport.Change] {
        let remote = listing.remote, path = listing.path
        var changes: [SyncReport.Change] = []
        let stamp = StoredDate.text(now)
        let existingID = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM repositories WHERE workspace_id = ? AND slug = ?"),
                                            arguments: [workspaceID, remote.slug])
        let values: StatementArguments = [remote.id, remote.name, remote.fullName, remote.mainBranch, remote.isPrivate, listing.isAdmin,
                                          remote.updatedOn.map(StoredDate.text), remote.cloneURL, remote.webURL, listing.branches.count, stamp, stamp]
        let repositoryID: Int64
        if let existingID {
            repositoryID = existingID
            try db.cachedStatement(sql: """
                UPDATE repositories SET remote_id = ?, name = ?, full_name = ?, main_branch = ?, is_private = ?, is_admin = ?, updated_on = ?,
                clone_url = ?, web_url = ?, branch_count = ?, last_checked_at = ?, updated_at = ? WHERE id = ?
                """).execute(arguments: values + [existingID])
        } else {
            try db.cachedStatement(sql: """
                INSERT INTO repositories (remote_id, name, full_name, main_branch, is_private, is_admin, updated_on, clone_url, web_url,
                branch_count, last_checked_at, updated_at, workspace_id, slug) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: values + [workspaceID, remote.slug])
            repositoryID = db.lastInsertedRowID
            changes.append(.init(kind: .repositoryAdded, path: path, old: nil, new: nil))
        }
        let isNew = existingID == nil
        // Apps kept across an unlink find their repository again once it is mirrored.
        if waitingApps {
            try db.cachedStatement(sql: "UPDATE apps SET repository_id = ? WHERE repository_id IS NULL AND source_path = ?")
                .execute(arguments: [repositoryID, path])
        }

        let rows = try MirrorRowWriter(db)
        var stored = isNew ? [:] : try rows.stored(repositoryID: repositoryID)
        for remoteBranch in listing.branches {
            let head = remoteBranch.head
            if let existing = stored.removeValue(forKey: remoteBranch.name) {
                guard existing.hash != head.hash || !existing.hasMessage && head.message != nil else { continue }
                if existing.hash != head.hash {
                    changes.append(.init(kind: .headMoved, path: MirrorPath.child(path, remoteBranch.name), old: existing.hash, new: head.hash))
                }
                try rows.move(id: existing.id, head: head, stamp: stamp)
            } else {
                try rows.insert(repositoryID: repositoryID, name: remoteBranch.name, head: head, stamp: stamp)
                // A new repository's branches are part of its arrival, not news of their own.
                if !isNew {
                    changes.append(.init(kind: .branchCreated, path: MirrorPath.child(path, remoteBranch.name), old: nil, new: head.hash))
                }
            }
        }
        for (name, gone) in stored {
            try rows.delete(id: gone.id)
            changes.append(.init(kind: .branchDeleted, path: MirrorPath.child(path, name), old: gone.hash, new: nil))
        }
        if let look { try setSweepLane(look.lane(moved: !changes.isEmpty), repositoryID: repositoryID, db: db) }
        try rows.append(changes, stamp: stamp)
        return changes
    }

    /// Removes repositories of a workspace that the provider no longer lists.
    public func removeRepositories(workspaceID: Int64, pathPrefix: String, keeping slugs: Set<String>, now: Date) throws -> [SyncReport.Change] {
        try write { db in
            var changes: [SyncReport.Change] = []
            // Ids and slugs only: a full sync asks this of every workspace it listed.
            let listed = try Row.fetchAll(db.cachedStatement(sql: "SELECT id, slug FROM repositories WHERE workspace_id = ?"), arguments: [workspaceID])
            for row in listed {
                let slug: String = row[1]
                guard !slugs.contains(slug) else { continue }
                try db.execute(sql: "DELETE FROM repositories WHERE id = ?", arguments: [row[0] as Int64])
                changes.append(.init(kind: .repositoryRemoved, path: MirrorPath.child(pathPrefix, slug), old: nil, new: nil))
            }
            try Self.appendEvents(changes, db: db, now: now)
            return changes
        }
    }

    /// Removes workspaces the user lost access to, with their mirrored data.
    public func removeWorkspaces(accountID: Int64, provider: ProviderKind, keeping slugs: Set<String>, now: Date) throws -> [SyncReport.Change] {
        try write { db in
            var changes: [SyncReport.Change] = []
            for workspace in try Workspace.filter(Column("account_id") == accountID).fetchAll(db) where !slugs.contains(workspace.slug) {
                try workspace.delete(db)
                changes.append(.init(kind: .accessLost, path: MirrorPath(provider: provider, workspace: workspace.slug).description, old: nil, new: nil))
            }
            try Self.appendEvents(changes, db: db, now: now)
            return changes
        }
    }

    /// Records a finished (or failed) cycle for an account.
    public func recordSync(accountID: Int64, scope: String = "account", success: Bool, error: String?, now: Date) throws {
        try write { db in
            var state = try SyncState.filter(Column("account_id") == accountID && Column("scope") == scope).fetchOne(db)
                ?? SyncState(accountID: accountID, scope: scope)
            state.lastAttemptAt = now
            if success { state.lastSuccessAt = now }
            state.lastError = error
            try state.save(db)
        }
    }

    static func appendEvents(_ changes: [SyncReport.Change], db: Database, now: Date) throws {
        guard !changes.isEmpty else { return }
        try MirrorRowWriter(db).append(changes, stamp: StoredDate.text(now))
    }
}
