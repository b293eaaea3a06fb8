import Foundation
import GRDB
import SlipwayProviders

/// The public Git repositories the user added (`slipway repos add`): rows the user owns, under the
/// `git` account — which exists while any is added, with no credential (`auth` `none`). The
/// engine's mirror of provider `git` follows this list.
extension Store {
    public enum PublicRepositoryAddition: Sendable, Equatable {
        case added(Account)
        /// It was in the list already.
        case known(Account)
    }

    /// Adds a repository to the list, creating the `git` account on the first one.
    public func addPublicRepository(_ url: PublicGitURL, now: Date) throws -> PublicRepositoryAddition {
        try write { db in
            var account = try Account.filter(Column("provider") == ProviderKind.git.rawValue).fetchOne(db)
            if account == nil {
                var created = Account(provider: .git, username: "", apiURL: "", webURL: "", auth: .none, createdAt: now)
                try created.insert(db)
                account = created
            }
            guard let account, let accountID = account.id else { throw StoreError.notFound("the git account") }
            let known = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM public_repositories WHERE host = ? AND path = ?",
                                         arguments: [url.host, url.path]) ?? 0
            guard known == 0 else { return .known(account) }
            try db.execute(sql: "INSERT INTO public_repositories (account_id, clone_url, host, path, added_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [accountID, url.cloneURL, url.host, url.path, now])
            return .added(account)
        }
    }

    /// The list, in the order added.
    public func publicRepositories() throws -> [PublicGitURL] {
        try read { db in
            // Read back through the one parser, so a row edited by hand cannot smuggle in another URL.
            try String.fetchAll(db, sql: "SELECT clone_url FROM public_repositories ORDER BY id").compactMap { try? PublicGitURL.parse($0) }
        }
    }

    /// Takes a repository off the list, with its mirror (its workspace too once no other
    /// repository of that host is left); the `git` account goes with the last one. Returns the
    /// mirror's changes; nil when it was not in the list.
    public func removePublicRepository(host: String, path: String, now: Date) throws -> [SyncReport.Change]? {
        try write { db -> [SyncReport.Change]? in
            guard let accountID = try Int64.fetchOne(db, sql: "SELECT account_id FROM public_repositories WHERE host = ? AND path = ?",
                                                     arguments: [host, path]) else { return nil }
            try db.execute(sql: "DELETE FROM public_repositories WHERE host = ? AND path = ?", arguments: [host, path])
            var changes: [SyncReport.Change] = []
            let workspace = MirrorPath.joined(ProviderKind.git.rawValue, host)
            if let workspaceID = try Int64.fetchOne(db, sql: "SELECT id FROM workspaces WHERE account_id = ? AND slug = ?", arguments: [accountID, host]) {
                try db.execute(sql: "DELETE FROM repositories WHERE workspace_id = ? AND slug = ?", arguments: [workspaceID, path])
                if db.changesCount > 0 {
                    changes.append(.init(kind: .repositoryRemoved, path: MirrorPath.child(workspace, path), old: nil, new: nil))
                }
                let left = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM repositories WHERE workspace_id = ?", arguments: [workspaceID]) ?? 0
                if left == 0 { try db.execute(sql: "DELETE FROM workspaces WHERE id = ?", arguments: [workspaceID]) }
            }
            try Self.appendEvents(changes, db: db, now: now)
            let remaining = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM public_repositories WHERE account_id = ?", arguments: [accountID]) ?? 0
            if remaining == 0 {
                try db.execute(sql: "DELETE FROM budget_states WHERE credential = ?", arguments: [Account.budgetCredential(accountID)])
                try db.execute(sql: "DELETE FROM accounts WHERE id = ?", arguments: [accountID])
            }
            return changes
        }
    }
}
