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

    func push(_ branch: String, from old: String?, to new: String?, at date: Date) -> BitbucketPushEvent {
        BitbucketPushEvent(repositoryFullName: "acme/api", repositoryUUID: nil, changes: [
            .init(branch: branch, newHead: new.map { ProviderCommit(hash: $0, date: date, author: "Ada <ada@example.com>", message: "m") },
                  oldHash: old, created: old == nil, closed: new == nil, forced: false, truncated: false),
        ])
    }

    func head(_ store: Store) throws -> String? {
        try store.read { db in try String.fetchOne(db, sql: "SELECT head_hash FROM branches WHERE name = 'main'") }
    }

    @Test("in order, each push moves the head; late ones that would move it back are left to the confirming fetch")
    func outOfOrder() throws {
        let store = try store()
        // b → c arrives before a → b.
        #expect(try store.applyPush(push("main", from: b, to: c, at: now.addingTimeInterval(20)), now: now).count == 1)
        #expect(try head(store) == c)
        #expect(try store.applyPush(push("main", from: a, to: b, at: now.addingTimeInterval(10)), now: now).isEmpty)
        #expect(try head(store) == c)
        // A deletion of a head that has since moved does not delete the branch either.
        #expect(try store.applyPush(push("main", from: b, to: nil, at: now), now: now).isEmpty)
        #expect(try head(store) == c)
        #expect(try store.applyPush(push("main", from: c, to: nil, at: now), now: now).count == 1)
        #expect(try head(store) == nil)
    }

    @Test("many pushes queue one confirming fetch per repository, taken a second later, until the engine takes it")
    func coalescedConfirmation() throws {
        let store = try store()
        for (index, hash) in [b, c].enumerated() {
            try store.applyPush(push("main", from: nil, to: hash, at: now.addingTimeInterval(Double(index + 1))), now: now)
        }
        let queued = try store.read { db in try EngineCommand.filter(Column("kind") == "refresh").fetchAll(db) }
        #expect(queued.count == 1)
        #expect(queued.first?.requestedBy == "webhook")
        // It waits a second, so a burst is confirmed once; then the engine may take it.
        #expect(try store.claimNextCommand(now: now) == nil)
        #expect(try store.claimNextCommand(now: now.addingTimeInterval(1.5))?.requestedBy == "webhook")
        try store.applyPush(push("main", from: c, to: b, at: now.addingTimeInterval(5)), now: now)
        #expect(try store.read { db in try EngineCommand.filter(Column("kind") == "refresh").fetchCount(db) } == 2)
    }
}
