import Foundation
import GRDB
import SlipwayProviders

/// Commits are fetched when someone opens a branch, never during a sync: only what is new since
/// the newest stored commit (`exclude=` it), prepended to what is stored.
public struct CommitFetcher: Sendable {
    public let store: Store
    public let provider: any GitProvider
    /// Commits kept per branch.
    public let keep: Int

    public init(store: Store, provider: any GitProvider, keep: Int = 200) {
        self.store = store
        self.provider = provider
        self.keep = keep
    }

    /// Brings a branch's history up to date and returns it, newest first.
    @discardableResult
    public func refresh(workspace: String, repository: Repository, branch: Branch, limit: Int = 30) async throws -> [Commit] {
        let branchID = branch.id!
        let stored = try store.commits(branchID: branchID, limit: keep)
        if stored.first?.hash == branch.headHash { return Array(stored.prefix(limit)) }
        let exclude = stored.first.map { [$0.hash] } ?? []
        let fresh = try await provider.commits(workspace: workspace, repository: repository.slug, revision: branch.headHash,
                                               exclude: exclude, limit: stored.isEmpty ? limit : keep)
        // A force-push leaves the stored head off the new history: start over from what came.
        let reachesStored = exclude.isEmpty || fresh.last.map { $0.parents.contains(exclude[0]) } ?? true
        let kept = reachesStored ? stored : []
        let repositoryID = repository.id!
        let keep = self.keep
        try store.write { db in
            var ordered: [Int64] = []
            for remote in fresh {
                if let existing = try Commit.filter(Column("repository_id") == repositoryID && Column("hash") == remote.hash).fetchOne(db) {
                    ordered.append(existing.id!)
                    continue
                }
                var commit = Commit(repositoryID: repositoryID, hash: remote.hash, author: remote.author, date: remote.date,
                                    message: remote.message, parents: remote.parents)
                try commit.insert(db)
                ordered.append(commit.id!)
            }
            ordered += kept.compactMap(\.id).filter { !ordered.contains($0) }
            try db.execute(sql: "DELETE FROM branch_commits WHERE branch_id = ?", arguments: [branchID])
            for (position, commitID) in ordered.prefix(keep).enumerated() {
                try db.execute(sql: "INSERT INTO branch_commits (branch_id, commit_id, position) VALUES (?, ?, ?)",
                               arguments: [branchID, commitID, position])
            }
        }
        return try store.commits(branchID: branchID, limit: limit)
    }
}
