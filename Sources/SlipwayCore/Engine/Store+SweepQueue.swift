import Foundation
import GRDB

/// The sweep's due-time index (schema v8): what an engine step reads to find the repositories
/// whose turn has come, at a cost that does not grow with how many there are.
extension Store {
    /// How many repositories of one workspace wait in one lane.
    public struct SweepLaneCount: Sendable, Equatable {
        public var workspaceID: Int64
        public var lane: SweepLane
        public var count: Int
    }

    /// Every lane's size, per workspace (kept by triggers as repositories come, go and move).
    public func sweepLaneCounts(accountID: Int64) throws -> [SweepLaneCount] {
        try read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT workspace_id, lane, size FROM sweep_lane_sizes WHERE account_id = ? AND size > 0"),
                             arguments: [accountID]).compactMap { row in
                SweepLane(rawValue: row["lane"]).map { SweepLaneCount(workspaceID: row["workspace_id"], lane: $0, count: row["size"]) }
            }
        }
    }

    /// Up to `limit` repositories of one lane last looked at no later than `lookedAtOrBefore`
    /// (nil: whenever), longest unchecked first; of one workspace where `workspaceID` is given
    /// (public Git's hosts each have a budget), else of the whole account.
    public func dueRepositoryIDs(accountID: Int64, workspaceID: Int64?, lane: SweepLane, lookedAtOrBefore cutoff: Date?,
                                 limit: Int) throws -> [Int64] {
        try read { db in
            let owner = workspaceID == nil ? "account_id = ?" : "workspace_id = ?"
            let arguments: StatementArguments = [workspaceID ?? accountID, lane.rawValue]
            // Outside the news lane every row has been looked at (a never-checked repository is
            // news), so the range runs on the index without a NULL test.
            if let cutoff {
                return try Int64.fetchAll(db.cachedStatement(sql: """
                    SELECT repository_id FROM sweep_queue WHERE \(owner) AND lane = ? AND checked_at <= ? ORDER BY checked_at LIMIT ?
                    """), arguments: arguments + [cutoff, limit])
            }
            return try Int64.fetchAll(db.cachedStatement(sql: """
                SELECT repository_id FROM sweep_queue WHERE \(owner) AND lane = ? ORDER BY checked_at LIMIT ?
                """), arguments: arguments + [limit])
        }
    }

    /// The sweep candidates of these repositories, in the order given (gone ones left out).
    public func sweepCandidates(repositoryIDs ids: [Int64]) throws -> [SweepCandidate] {
        guard !ids.isEmpty else { return [] }
        return try read { db in
            let rows = try Row.fetchAll(db, sql: Self.candidateSelect + " WHERE r.id IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                                        arguments: StatementArguments(ids))
            var byID: [Int64: SweepCandidate] = [:]
            for row in rows {
                let candidate = try Self.candidate(row)
                byID[candidate.repository.id!] = candidate
            }
            return ids.compactMap { byID[$0] }
        }
    }

    /// One repository of an account by its workspace and slug, as the sweep sees it.
    public func sweepCandidate(accountID: Int64, workspace: String, repository: String) throws -> SweepCandidate? {
        try read { db in
            try Row.fetchOne(db, sql: Self.candidateSelect + " WHERE w.account_id = ? AND w.slug = ? AND r.slug = ?",
                             arguments: [accountID, workspace, repository]).map(Self.candidate)
        }
    }

    /// Repositories apps build from, per workspace of an account.
    public func trackedRepositoryCounts(accountID: Int64) throws -> [Int64: Int] {
        try read { db in
            var counts: [Int64: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT r.workspace_id, COUNT(DISTINCT r.id) AS n FROM apps a JOIN repositories r ON r.id = a.repository_id
                JOIN workspaces w ON w.id = r.workspace_id WHERE w.account_id = ? GROUP BY r.workspace_id
                """, arguments: [accountID]) {
                counts[row["workspace_id"]] = row["n"]
            }
            return counts
        }
    }

    /// After a look (in its transaction): the lane the repository waits in next.
    static func setSweepLane(_ lane: SweepLane, repositoryID: Int64, db: Database) throws {
        try db.cachedStatement(sql: "UPDATE sweep_queue SET lane = ? WHERE repository_id = ?").execute(arguments: [lane.rawValue, repositoryID])
    }

    static let candidateSelect = """
        SELECT r.*, w.slug AS ws_slug, EXISTS(SELECT 1 FROM apps a WHERE a.repository_id = r.id) AS tracked,
               EXISTS(SELECT 1 FROM webhook_subscriptions s WHERE s.repository_id = r.id AND s.installed_by_slipway
                      AND s.secret_ciphertext IS NOT NULL AND s.last_delivery_at IS NOT NULL
                      AND (s.last_failure_at IS NULL OR s.last_delivery_at > s.last_failure_at)) AS hooked,
               EXISTS(SELECT 1 FROM webhook_subscriptions s WHERE s.repository_id = r.id AND s.installed_by_slipway
                      AND s.secret_ciphertext IS NOT NULL) AS watched
        FROM repositories r JOIN workspaces w ON w.id = r.workspace_id
        """

    static func candidate(_ row: Row) throws -> SweepCandidate {
        SweepCandidate(repository: try Repository(row: row), workspaceSlug: row["ws_slug"], tracked: row["tracked"], hooked: row["hooked"],
                       watched: row["watched"])
    }
}
