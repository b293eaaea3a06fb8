import Foundation
import GRDB
import Testing
@testable import SlipwayCore
import SlipwayProviders

/// What a verified push does to the mirror when deliveries come late, twice or out of order.
@Suite("Applying pushes")
struct WebhookPushTests {
    let tmp = TemporaryDirectory()
    let now = Date(timeIntervalSince1970: 1_790_000_000)
    let a = String(repeating: "b", count: 40)   // the fixture's head of main
    let b = String(repeating: "c", count: 40)
    let c = String(repeating: "d", count: 40)

    func store() throws -> Store {
        let store = try Store(path: tmp.file("slipway.db"))
        let helper = StoreTests()
        _ = try helper.insertMirror(store, accountID: try helper.insertAccount(store).id!)
        return store
    }

    /// The changes a push made to acme/api (the fixture's one repository).
    @discardableResult
    func apply(_ store: Store, _ event: PushEvent, proof: Store.DeliveryProof? = nil) throws -> [SyncReport.Change]? {
        let id = try #require(try store.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM repositories WHERE full_name = 'acme/api'") })
        guard case let .applied(changes) = try store.applyPush(event, toRepository: id, proof: proof, now: now) else { return nil }
        return changes
    }

    func push(_ branch: String, from old: String?, to new: String?, at date: Date) -> PushEvent {
        PushEvent(repositoryFullName: "acme/api", repositoryID: nil, changes: [
            .init(branch: branch, newHead: new.map { ProviderCommit(hash: $0, date: date, author: "Ada <ada@example.com>", message: "m") },
                  oldHash: old, created: old == nil, closed: new == nil, forced: false, truncated: false),
        ])
    }

    func head(_ store: Store) throws -> String? {
        try store.read { db in try String.fetchOne(db, sql: "SELECT head_hash FROM branches WHERE name = 'main'") }
    }

    @Test("a hook prepared before its creation gets the provider's id and whether it signs; its secret opens with that flag")
    func preparedHookSigns() throws {
        let store = try store()
        let id = try #require(try store.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM repositories WHERE full_name = 'acme/api'") })
        let vault = try Vault.open(keyFile: tmp.file("key"), create: true)
        let pending = try store.prepareInstalledWebhook(repositoryID: id, url: "https://hooks.example/w", events: ["push_events"], secret: "s3cret",
                                                        vault: vault, now: now)
        #expect(try store.webhookSecrets(repositoryID: id) { vault }.map(\.signed) == [false])
        let stored = try store.setWebhookRemoteID(subscriptionID: pending.id!, remoteID: "7001", signsDeliveries: true)
        #expect(stored.remoteID == "7001" && stored.signsDeliveries)
        let secrets = try store.webhookSecrets(repositoryID: id) { vault }
        #expect(secrets.count == 1 && secrets[0].secret == "s3cret" && secrets[0].signed)
    }

    @Test("a daemon's opened secrets: each opened once, a rotated secret seen at once, one that does not open left out")
    func openedSecrets() throws {
        let store = try store()
        let id = try #require(try store.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM repositories WHERE full_name = 'acme/api'") })
        let vault = try Vault.open(keyFile: tmp.file("key"), create: true)
        _ = try store.prepareInstalledWebhook(repositoryID: id, url: "https://hooks.example/w", events: ["push"], secret: "first", vault: vault, now: now)
        let opened = OpenedSecrets()
        var vaultAsked = 0
        let open: () throws -> Vault = { vaultAsked += 1; return vault }
        for _ in 0..<3 { #expect(try store.webhookSecrets(repositoryID: id, opened: opened, vault: open).map(\.secret) == ["first"]) }
        #expect(vaultAsked == 1 && opened.count == 1)
        // Installed again: a new row, a new sealed secret — opened anew, the old one never offered.
        _ = try store.prepareInstalledWebhook(repositoryID: id, url: "https://hooks.example/w", events: ["push"], secret: "second", vault: vault, now: now)
        #expect(try store.webhookSecrets(repositoryID: id, opened: opened, vault: open).map(\.secret) == ["second"])
        #expect(vaultAsked == 2)
        // Sealed bytes that do not open (another key's, or damaged) are left out and not kept.
        try store.write { db in try db.execute(sql: "UPDATE webhook_subscriptions SET secret_ciphertext = X'00010203'") }
        #expect(try store.webhookSecrets(repositoryID: id, opened: opened, vault: open).isEmpty)
        #expect(opened.count == 2)
    }

    @Test("in order, each push moves the head; late ones that would move it back are left to the confirming fetch")
    func outOfOrder() throws {
        let store = try store()
        // b → c arrives before a → b.
        #expect(try apply(store, push("main", from: b, to: c, at: now.addingTimeInterval(20)))?.count == 1)
        #expect(try head(store) == c)
        #expect(try apply(store, push("main", from: a, to: b, at: now.addingTimeInterval(10)))?.isEmpty == true)
        #expect(try head(store) == c)
        // A deletion of a head that has since moved does not delete the branch either.
        #expect(try apply(store, push("main", from: b, to: nil, at: now))?.isEmpty == true)
        #expect(try head(store) == c)
        #expect(try apply(store, push("main", from: c, to: nil, at: now))?.count == 1)
        #expect(try head(store) == nil)
    }

    @Test("many pushes queue one confirming fetch per repository, taken a second later, until the engine takes it")
    func coalescedConfirmation() throws {
        let store = try store()
        for (index, hash) in [b, c].enumerated() {
            try apply(store, push("main", from: nil, to: hash, at: now.addingTimeInterval(Double(index + 1))))
        }
        let queued = try store.read { db in try EngineCommand.filter(Column("kind") == "refresh").fetchAll(db) }
        #expect(queued.count == 1)
        #expect(queued.first?.requestedBy == "webhook")
        // It waits a second, so a burst is confirmed once; then the engine may take it.
        #expect(try store.claimNextCommand(now: now) == nil)
        #expect(try store.claimNextCommand(now: now.addingTimeInterval(1.5))?.requestedBy == "webhook")
        try apply(store, push("main", from: c, to: b, at: now.addingTimeInterval(5)))
        #expect(try store.read { db in try EngineCommand.filter(Column("kind") == "refresh").fetchCount(db) } == 2)
    }

    @Test("the delivery id is stored with the push in one transaction: a retry applies nothing twice; a failed store records nothing")
    func deliveryStoredWithItsChange() throws {
        let store = try store()
        let proof = Store.DeliveryProof(id: "d-1", hookID: 1, event: "repo:push")
        let now = self.now
        try store.write { db in
            try db.execute(sql: "INSERT INTO webhook_subscriptions (id, repository_id, url, events, installed_by_slipway, created_at) SELECT 1, id, 'u', '[]', 1, ? FROM repositories", arguments: [now])
            // Storing the head fails (a full disk, say).
            try db.execute(sql: "CREATE TRIGGER refuse BEFORE UPDATE ON branches BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        #expect(throws: (any Error).self) { try apply(store, push("main", from: a, to: b, at: now.addingTimeInterval(5)), proof: proof) }
        #expect(try store.isDuplicateDelivery(id: "d-1", provider: .bitbucket) == false, "a delivery that was not stored must not count as received")
        #expect(try head(store) == a)
        try store.write { db in try db.execute(sql: "DROP TRIGGER refuse") }
        // The provider's retry, same id: applied now, and only once.
        #expect(try apply(store, push("main", from: a, to: b, at: now.addingTimeInterval(5)), proof: proof)?.count == 1)
        #expect(try apply(store, push("main", from: b, to: c, at: now.addingTimeInterval(6)), proof: proof) == nil)
        #expect(try head(store) == b)
        #expect(try store.isDuplicateDelivery(id: "d-1", provider: .bitbucket))
    }
}
