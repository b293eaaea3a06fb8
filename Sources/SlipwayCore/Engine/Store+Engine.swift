import Foundation
import GRDB
import SlipwayProviders

/// What the engine reads and writes besides the mirror itself: the sweep queue, head updates
/// seen through git, and the commands other processes leave for it.
extension Store {
    /// A repository the sweep may check, with what decides its turn.
    public struct SweepCandidate: Sendable, Equatable {
        public var repository: Repository
        public var workspaceSlug: String
        /// An app builds from it: checked at least every `app_poll_seconds`.
        public var tracked: Bool
        /// A hook Slipway installed has delivered and is not failing: a slow safety sweep is enough.
        public var hooked: Bool = false
        /// Slipway installed a hook here at all: a push found by polling is held against it.
        public var watched: Bool = false
    }

    /// Repositories of an account in sweep order: tracked by an app, then changed since their
    /// last check (discovery bumped `updated_on`), then the longest unchecked.
    public func sweepCandidates(accountID: Int64) throws -> [SweepCandidate] {
        try read { db in
            try Row.fetchAll(db, sql: Self.candidateSelect + """
                 WHERE w.account_id = ?
                ORDER BY tracked DESC,
                         (r.last_checked_at IS NULL OR r.updated_on > r.last_checked_at) DESC,
                         r.last_checked_at IS NOT NULL, r.last_checked_at
                """, arguments: [accountID]).map(Self.candidate)
        }
    }

    /// Applies branch heads seen through git: moved and new heads with whatever details were
    /// fetched for them, vanished branches deleted. One transaction, with its change events.
    /// With `look`, the repository's next sweep lane is set in the same transaction.
    public func applyHeads(repositoryID: Int64, path: String, heads: [String: String], details: [String: ProviderCommit],
                           look: SweepLane.Look? = nil, now: Date) throws -> [SyncReport.Change] {
        try write { db in
            var changes: [SyncReport.Change] = []
            var stored: [String: Branch] = [:]
            for branch in try Branch.filter(Column("repository_id") == repositoryID).fetchAll(db) { stored[branch.name] = branch }
            for (name, hash) in heads {
                let detail = details[hash]
                if var existing = stored.removeValue(forKey: name) {
                    guard existing.headHash != hash else {
                        // Details that failed before (a 5xx storm) arrive now: filled in, no news.
                        if existing.headDate == nil && existing.headMessage == nil, let detail {
                            existing.moveHead(to: hash, details: detail, now: now)
                            try existing.update(db)
                        }
                        continue
                    }
                    changes.append(.init(kind: .headMoved, path: MirrorPath.child(path, name), old: existing.headHash, new: hash))
                    existing.moveHead(to: hash, details: detail, now: now)
                    try existing.update(db)
                } else {
                    var branch = Branch(repositoryID: repositoryID, name: name, head: hash, details: detail, now: now)
                    try branch.insert(db)
                    changes.append(.init(kind: .branchCreated, path: MirrorPath.child(path, name), old: nil, new: hash))
                }
            }
            for (name, gone) in stored {
                try gone.delete(db)
                changes.append(.init(kind: .branchDeleted, path: MirrorPath.child(path, name), old: gone.headHash, new: nil))
            }
            try db.execute(sql: "UPDATE repositories SET last_checked_at = ?, branch_count = ? WHERE id = ?",
                           arguments: [now, heads.count, repositoryID])
            if let look { try Self.setSweepLane(look.lane(moved: !changes.isEmpty), repositoryID: repositoryID, db: db) }
            try Self.appendEvents(changes, db: db, now: now)
            return changes
        }
    }

    /// A look that found nothing new; with `look`, the lane it waits in next.
    public func markChecked(repositoryID: Int64, look: SweepLane.Look? = nil, now: Date) throws {
        try write { db in
            try db.cachedStatement(sql: "UPDATE repositories SET last_checked_at = ? WHERE id = ?").execute(arguments: [now, repositoryID])
            if let look { try Self.setSweepLane(look.lane(moved: false), repositoryID: repositoryID, db: db) }
        }
    }

    /// Removes a repository that no longer exists (or is no longer visible).
    public func removeRepository(id: Int64, path: String, now: Date) throws -> [SyncReport.Change] {
        try write { db in
            guard try Repository.deleteOne(db, key: id) else { return [] }
            let changes = [SyncReport.Change(kind: .repositoryRemoved, path: path, old: nil, new: nil)]
            try Self.appendEvents(changes, db: db, now: now)
            return changes
        }
    }

    // MARK: Commands

    /// Leaves a command for the engine; returns its id.
    /// Commands queued or running, for the dashboard's header.
    public func unfinishedCommandCount() throws -> Int {
        try read { db in
            try EngineCommand.filter([EngineCommandStatus.queued.rawValue, EngineCommandStatus.running.rawValue].contains(Column("status"))).fetchCount(db)
        }
    }

    public func enqueue<Payload: CommandPayload>(_ payload: Payload, requestedBy: String, now: Date) throws -> Int64 {
        let text = try payload.encoded()
        return try write { db in
            var command = EngineCommand(kind: Payload.kind, payload: text, requestedBy: requestedBy, createdAt: now)
            try command.insert(db)
            return command.id!
        }
    }

    /// How long a webhook's confirming fetch waits, so a burst of pushes to a repository is
    /// confirmed by one fetch (the heads themselves were written when each delivery came).
    public static let confirmationDelay: TimeInterval = 1

    /// The oldest queued command of these kinds, now marked running: each runner claims its own.
    public func claimNextCommand(kinds: Set<EngineCommandKind> = Set(EngineCommandKind.allCases), now: Date) throws -> EngineCommand? {
        try write { db in
            guard var command = try EngineCommand
                .filter(Column("status") == EngineCommandStatus.queued.rawValue)
                .filter(kinds.map(\.rawValue).contains(Column("kind")))
                .filter(!(Column("requested_by") == "webhook" && Column("created_at") > now.addingTimeInterval(-Self.confirmationDelay)))
                .order(Column("id")).fetchOne(db) else { return nil }
            command.status = .running
            command.claimedAt = now
            try command.update(db)
            return command
        }
    }

    public func finishCommand(id: Int64, status: EngineCommandStatus, result: String?, now: Date) throws {
        try write { db in
            try db.execute(sql: "UPDATE commands SET status = ?, result = ?, finished_at = ? WHERE id = ?",
                           arguments: [status.rawValue, result, now, id])
        }
    }

    public func command(id: Int64) throws -> EngineCommand? {
        try read { db in try EngineCommand.fetchOne(db, key: id) }
    }

    /// Commands of these kinds left running by an engine that died: failed, so nobody waits
    /// forever. Each runner clears only its own kinds (the other may have claimed one already).
    public func failInterruptedCommands(kinds: Set<EngineCommandKind> = Set(EngineCommandKind.allCases), now: Date) throws {
        try write { db in
            _ = try EngineCommand
                .filter(Column("status") == EngineCommandStatus.running.rawValue)
                .filter(kinds.map(\.rawValue).contains(Column("kind")))
                .updateAll(db, Column("status").set(to: EngineCommandStatus.failed.rawValue),
                           Column("result").set(to: "interrupted: the engine stopped"), Column("finished_at").set(to: now))
        }
    }
}
