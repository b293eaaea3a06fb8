import Foundation
import GRDB
import SlipwayProviders

/// Hooks Slipway installed (their secrets sealed in the vault), the deliveries received, and what
/// a verified push does to the mirror.
extension Store {
    /// Records a hook on a repository with its secret sealed (the subscription's id as associated data).
    @discardableResult
    public func addWebhookSubscription(repositoryID: Int64, remoteID: String?, url: String, events: [String], secret: String, vault: Vault,
                                       now: Date) throws -> WebhookSubscription {
        let subscription = try write { db -> WebhookSubscription in
            var subscription = WebhookSubscription(repositoryID: repositoryID, remoteID: remoteID, url: url, events: events, createdAt: now)
            try subscription.insert(db)
            return subscription
        }
        let sealed = try vault.seal(secret, context: Self.webhookSecretContext(subscription.id!))
        try write { db in
            try db.execute(sql: "UPDATE webhook_subscriptions SET secret_ciphertext = ? WHERE id = ?", arguments: [sealed, subscription.id!])
        }
        return subscription
    }

    /// The one mirrored repository of `provider` a delivery's payload names. Every identity the
    /// payload carries must agree with that row: a name of one repository with the id of
    /// another, or a name or id that two rows share, is `.conflicting` — never a guess.
    public func webhookRepository(provider: ProviderKind, fullName: String, uuid: String?) throws -> WebhookRepositoryResolution {
        try read { db in try Self.webhookRepository(db, provider: provider, fullName: fullName, uuid: uuid) }
    }

    /// The repository a delivery names and the secrets of Slipway's hooks on it, in one read (a
    /// daemon asks this for every delivery). Secrets as `webhookSecrets` gives them.
    public func webhookTarget(provider: ProviderKind, fullName: String, uuid: String?, opened: OpenedSecrets? = nil,
                              vault: () throws -> Vault) throws -> (WebhookRepositoryResolution, [(hookID: Int64, secret: String, signed: Bool)]) {
        let (resolution, sealed) = try read { db -> (WebhookRepositoryResolution, [SealedHookSecret]) in
            let resolution = try Self.webhookRepository(db, provider: provider, fullName: fullName, uuid: uuid)
            guard case let .repository(id) = resolution else { return (resolution, []) }
            return (resolution, try Self.sealedWebhookSecrets(db, repositoryID: id))
        }
        return (resolution, try open(sealed, opened: opened, vault: vault))
    }

    static func webhookRepository(_ db: Database, provider: ProviderKind, fullName: String, uuid: String?) throws -> WebhookRepositoryResolution {
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT r.id, r.full_name, r.remote_id FROM repositories r
            JOIN workspaces w ON w.id = r.workspace_id JOIN accounts a ON a.id = w.account_id
            WHERE a.provider = ? AND (r.full_name = ? OR (? IS NOT NULL AND r.remote_id = ?))
            """), arguments: [provider.rawValue, fullName, uuid, uuid])
        guard !rows.isEmpty else { return .none }
        guard rows.count == 1, let row = rows.first else {
            return .conflicting("\(fullName) and \(uuid ?? "its id") name different repositories")
        }
        let storedName: String = row["full_name"]
        let storedID: String? = row["remote_id"]
        guard storedName == fullName else {
            return .conflicting("the id \(uuid ?? "") belongs to \(storedName), not \(fullName)")
        }
        if let uuid, let storedID, storedID != uuid {
            return .conflicting("\(fullName) has another id than \(uuid)")
        }
        return .repository(id: row["id"])
    }

    struct SealedHookSecret {
        var id: Int64
        var data: Data
        var signed: Bool
    }

    static func sealedWebhookSecrets(_ db: Database, repositoryID: Int64) throws -> [SealedHookSecret] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT id, secret_ciphertext, signs_deliveries FROM webhook_subscriptions
            WHERE repository_id = ? AND secret_ciphertext IS NOT NULL ORDER BY id
            """), arguments: [repositoryID]).map { SealedHookSecret(id: $0["id"], data: $0["secret_ciphertext"], signed: $0["signs_deliveries"]) }
    }

    /// Opens sealed hook secrets; the vault only when there is something to open, a secret that
    /// does not open left out.
    private func open(_ sealed: [SealedHookSecret], opened: OpenedSecrets?, vault: () throws -> Vault) throws -> [(hookID: Int64, secret: String, signed: Bool)] {
        guard !sealed.isEmpty else { return [] }
        if let opened {
            return try sealed.compactMap { item in
                try opened.open(item.data, context: Self.webhookSecretContext(item.id), vault: vault).map { (hookID: item.id, secret: $0, signed: item.signed) }
            }
        }
        let vault = try vault()
        return sealed.compactMap { item in
            (try? vault.openString(item.data, context: Self.webhookSecretContext(item.id))).map { (hookID: item.id, secret: $0, signed: item.signed) }
        }
    }

    /// The secrets of Slipway's hooks on one repository, with each hook's id. The vault is opened
    /// only when there is something to open; a secret that does not open is left out. With
    /// `opened`, each secret is opened once and kept (a daemon verifies every delivery with them).
    public func webhookSecrets(repositoryID: Int64, opened: OpenedSecrets? = nil,
                               vault: () throws -> Vault) throws -> [(hookID: Int64, secret: String, signed: Bool)] {
        try open(try read { db in try Self.sealedWebhookSecrets(db, repositoryID: repositoryID) }, opened: opened, vault: vault)
    }

    /// A hook the provider confirmed, with the secret it signs with; replaces any row Slipway kept
    /// for the same URL on that repository.
    @discardableResult

    /// Replaces a repository's hooks on `url` by one whose secret is sealed but whose provider id
    /// is not known yet: stored before the provider creates the hook, so the delivery it sends at
    /// once (GitHub's `ping`) verifies.
    public func prepareInstalledWebhook(repositoryID: Int64, url: String, events: [String], secret: String, vault: Vault,
                                        now: Date) throws -> WebhookSubscription {
        try write { db in
            try db.execute(sql: "DELETE FROM webhook_subscriptions WHERE repository_id = ? AND url = ?", arguments: [repositoryID, url])
        }
        return try addWebhookSubscription(repositoryID: repositoryID, remoteID: nil, url: url, events: events, secret: secret, vault: vault, now: now)
    }

    /// The provider's id for a hook prepared before its creation, and whether the provider
    /// confirmed it signs its deliveries.
    public func setWebhookRemoteID(subscriptionID: Int64, remoteID: String, signsDeliveries: Bool = false) throws -> WebhookSubscription {
        try write { db in
            try db.execute(sql: "UPDATE webhook_subscriptions SET remote_id = ?, signs_deliveries = ? WHERE id = ?",
                           arguments: [remoteID, signsDeliveries, subscriptionID])
            guard let updated = try WebhookSubscription.fetchOne(db, key: subscriptionID) else { throw DatabaseError(message: "the webhook subscription vanished") }
            return updated
        }
    }

    public func deleteWebhookSubscription(id: Int64) throws {
        _ = try write { db in try WebhookSubscription.deleteOne(db, key: id) }
    }

    /// Whether Slipway holds the secret of a subscription (a hook it can verify).
    public func hasWebhookSecret(subscriptionID: Int64) throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT secret_ciphertext IS NOT NULL FROM webhook_subscriptions WHERE id = ?", arguments: [subscriptionID]) ?? false
        }
    }

    /// A hook Slipway installed, with where it lives.
    public struct InstalledWebhook: Sendable, Equatable {
        public var subscription: WebhookSubscription
        public var workspaceSlug: String
        public var repositorySlug: String
    }

    /// Every hook Slipway installed on an account's repositories (what `unlink` removes).
    public func installedWebhooks(accountID: Int64) throws -> [InstalledWebhook] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.*, w.slug AS ws, r.slug AS repo FROM webhook_subscriptions s
                JOIN repositories r ON r.id = s.repository_id JOIN workspaces w ON w.id = r.workspace_id
                WHERE w.account_id = ? AND s.installed_by_slipway ORDER BY w.slug, r.slug, s.id
                """, arguments: [accountID]).map {
                InstalledWebhook(subscription: try WebhookSubscription(row: $0), workspaceSlug: $0["ws"], repositorySlug: $0["repo"])
            }
        }
    }

    public func webhookSubscriptions(repositoryID: Int64) throws -> [WebhookSubscription] {
        try read { db in
            try WebhookSubscription.filter(Column("repository_id") == repositoryID).order(Column("id")).fetchAll(db)
        }
    }

    /// The webhook health of repositories (absent: no hook Slipway installed).
    public func webhookHealth(repositoryIDs: [Int64]) throws -> [Int64: WebhookHealth] {
        try read { db in try Self.webhookHealth(db, repositoryIDs: repositoryIDs) }
    }

    /// The same inside a read already open (the browse windows).
    static func webhookHealth(_ db: Database, repositoryIDs: [Int64]) throws -> [Int64: WebhookHealth] {
        guard !repositoryIDs.isEmpty else { return [:] }
        let subscriptions = try WebhookSubscription.filter(repositoryIDs.contains(Column("repository_id"))).fetchAll(db)
        return Dictionary(grouping: subscriptions, by: \.repositoryID).compactMapValues(WebhookHealth.of)
    }

    /// Marks the hooks Slipway installed on a repository as failing (why, and since when).
    public func recordWebhookFailure(repositoryID: Int64, message: String, now: Date) throws {
        try write { db in
            try db.execute(sql: """
                UPDATE webhook_subscriptions SET last_failure_at = ?, last_failure_message = ?
                WHERE repository_id = ? AND installed_by_slipway
                """, arguments: [now, message, repositoryID])
        }
    }

    /// Forgets delivery ids older than a cutoff (providers retry within seconds, not days).
    public func pruneDeliveries(before cutoff: Date) throws {
        try write { db in try db.execute(sql: "DELETE FROM webhook_deliveries WHERE received_at < ?", arguments: [cutoff]) }
    }

    /// Whether this provider's delivery id was stored before (providers retry with the same id).
    public func isDuplicateDelivery(id: String, provider: ProviderKind) throws -> Bool {
        try read { db in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE provider = ? AND request_id = ?)"),
                              arguments: [provider.rawValue, id]) ?? false
        }
    }

    /// A verified delivery that is not a push: its id (so a retry is recognised) and that the hook
    /// delivers. False when the id was stored before.
    @discardableResult
    public func recordIgnoredDelivery(id: String, provider: ProviderKind, event eventKey: String, hookID: Int64, now: Date) throws -> Bool {
        try write { db in
            var delivery = WebhookDelivery(subscriptionID: hookID, provider: provider, requestID: id, eventKey: eventKey, outcome: .ignored, receivedAt: now)
            try delivery.insert(db, onConflict: .ignore)
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "UPDATE webhook_subscriptions SET last_delivery_at = ? WHERE id = ?", arguments: [now, hookID])
            return true
        }
    }

    /// Who proved a delivery: its id and the hook whose secret verified it.
    public struct DeliveryProof: Sendable, Equatable {
        /// nil where the provider sent none (its dialect says whether it must).
        public var id: String?
        public var hookID: Int64
        /// The provider's name for the event (`repo:push`), recorded with the id.
        public var event: String

        public init(id: String?, hookID: Int64, event: String) {
            self.event = event
            self.id = id
            self.hookID = hookID
        }
    }

    public enum PushOutcome: Sendable, Equatable {
        case applied([SyncReport.Change])
        /// The delivery id was stored before: nothing applied twice.
        case duplicate
    }

    /// A verified push to the repository the receiver resolved: new heads written from the
    /// payload (created and moved branches with the commit details it carries, closed ones
    /// deleted), change events, the delivery id, the hooks' health, and a confirming refresh of
    /// the repository queued for the engine. One transaction: a delivery counts as received only
    /// once its change is stored.
    public func applyPush(_ event: PushEvent, toRepository repositoryID: Int64, proof: DeliveryProof? = nil, now: Date) throws -> PushOutcome {
        let outcome = try write { db -> PushOutcome? in
            // Cached statements, branches bound through SQLite's C API, one date written by hand:
            // a daemon takes deliveries by the thousand a second; preparing each statement anew
            // was a fifth of its CPU, and GRDB's argument arrays and date formatter most of what
            // the write spent in Swift after that.
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT r.id, r.slug, w.slug AS ws, a.provider FROM repositories r
                JOIN workspaces w ON w.id = r.workspace_id JOIN accounts a ON a.id = w.account_id
                WHERE r.id = ?
                """), arguments: [repositoryID]) else { return nil }
            let stamp = StoredDate.text(now)
            if let proof, let id = proof.id {
                let provider: String = row["provider"]
                try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO webhook_deliveries (subscription_id, provider, request_id, event_key, outcome, received_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [proof.hookID, provider, id, proof.event, WebhookDeliveryOutcome.accepted.rawValue, stamp])
                guard db.changesCount > 0 else { return .duplicate }
            }
            let path = MirrorPath.joined(row["provider"] as String, row["ws"] as String, row["slug"] as String)
            let writer = try MirrorRowWriter(db)
            var changes: [SyncReport.Change] = []
            var countChanged = false
            for change in event.changes {
                let existing = try Branch.fetchOne(db.cachedStatement(sql: "SELECT * FROM branches WHERE repository_id = ? AND name = ?"),
                                                   arguments: [repositoryID, change.branch])
                if let head = change.newHead {
                    if let branch = existing {
                        guard branch.headHash != head.hash else { continue }
                        // Deliveries may arrive out of order: a change that does not start from the
                        // stored head wins only with a newer commit; otherwise the fetch decides.
                        if change.oldHash != branch.headHash, let new = head.date, let stored = branch.headDate, new <= stored { continue }
                        changes.append(.init(kind: .headMoved, path: MirrorPath.child(path, change.branch), old: branch.headHash, new: head.hash))
                        try writer.move(id: branch.id!, head: head, stamp: stamp)
                    } else {
                        try writer.insert(repositoryID: repositoryID, name: change.branch, head: head, stamp: stamp)
                        countChanged = true
                        changes.append(.init(kind: .branchCreated, path: MirrorPath.child(path, change.branch), old: nil, new: head.hash))
                    }
                } else if let branch = existing, change.oldHash == nil || change.oldHash == branch.headHash {
                    try writer.delete(id: branch.id!)
                    countChanged = true
                    changes.append(.init(kind: .branchDeleted, path: MirrorPath.child(path, change.branch), old: branch.headHash, new: nil))
                }
            }
            if countChanged {
                try db.cachedStatement(sql: "UPDATE repositories SET branch_count = (SELECT COUNT(*) FROM branches WHERE repository_id = ?) WHERE id = ?")
                    .execute(arguments: [repositoryID, repositoryID])
            }
            try db.cachedStatement(sql: "UPDATE webhook_subscriptions SET last_delivery_at = ? WHERE repository_id = ?").execute(arguments: [stamp, repositoryID])
            try writer.append(changes, stamp: stamp)
            // Payloads carry at most five commits per change: the engine confirms with a fetch.
            // One queued confirmation per repository is enough, however many pushes arrive.
            let payload = try RefreshPayload.encoded(path: path)
            let pending = try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM commands WHERE kind = ? AND status = ? AND payload = ?)"),
                                            arguments: [EngineCommandKind.refresh.rawValue, EngineCommandStatus.queued.rawValue, payload]) ?? false
            if !pending {
                var command = EngineCommand(kind: .refresh, payload: payload, requestedBy: "webhook", createdAt: now)
                try command.insert(db)
            }
            return .applied(changes)
        }
        guard let outcome else { throw StoreError.notFound("\(event.repositoryFullName) is not in the mirror") }
        return outcome
    }
}

/// Which mirrored repository a delivery names (see `Store.webhookRepository`).
public enum WebhookRepositoryResolution: Sendable, Equatable {
    case none
    case conflicting(String)
    case repository(id: Int64)
}
