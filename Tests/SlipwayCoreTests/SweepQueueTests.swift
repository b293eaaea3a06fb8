import Foundation
import GRDB
import Testing
@testable import SlipwayCore
import SlipwayProviders

/// The sweep's due-time index: which lane a repository waits in, kept by the store's triggers
/// beside every writer, and how the due ones come out of it.
@Suite("Sweep queue")
struct SweepQueueTests {
    let tmp = TemporaryDirectory()
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    struct Mirror {
        let store: Store
        let account: Account
        let workspace: Workspace
    }

    func mirror(repositories: Int, checked: Date?) throws -> Mirror {
        let store = try Store(path: tmp.file("slipway.db"))
        let (account, workspace) = try store.linkedWorkspace(now: now)
        for index in 0..<repositories {
            let remote = ProviderRepository(id: "r\(index)", slug: "repo-\(index)", name: "repo-\(index)", fullName: "acme/repo-\(index)",
                                            mainBranch: "main", isPrivate: true, updatedOn: now.addingTimeInterval(-86400), cloneURL: nil, webURL: nil)
            _ = try store.applyRepository(workspaceID: workspace.id!, path: "bitbucket/acme/repo-\(index)", remote, isAdmin: true,
                                          branches: [ProviderBranch(name: "main", head: ProviderCommit(hash: String(repeating: "a", count: 40)))],
                                          now: checked ?? now)
        }
        if checked == nil {
            try store.write { db in try db.execute(sql: "UPDATE repositories SET last_checked_at = NULL") }
        }
        return Mirror(store: store, account: account, workspace: workspace)
    }

    func lane(_ m: Mirror, _ slug: String) throws -> SweepLane? {
        try m.store.read { db in
            try Int.fetchOne(db, sql: "SELECT q.lane FROM sweep_queue q JOIN repositories r ON r.id = q.repository_id WHERE r.slug = ?",
                             arguments: [slug]).flatMap(SweepLane.init(rawValue:))
        }
    }

    func id(_ m: Mirror, _ slug: String) throws -> Int64 { try #require(try m.store.repository(workspaceID: m.workspace.id!, slug: slug)?.id) }

    @Test("a listed repository waits quiet; never looked at or changed since the look, it is news; an app makes it tracked; a look sets its lane; a failing or removed hook gives it back")
    func lanes() throws {
        let now = self.now
        let m = try mirror(repositories: 2, checked: now)
        #expect(try lane(m, "repo-0") == .quiet)
        // Discovery saw it change after the last look: news, whatever lane it was in.
        try m.store.write { db in try db.execute(sql: "UPDATE repositories SET updated_on = ? WHERE slug = 'repo-0'", arguments: [now.addingTimeInterval(5)]) }
        #expect(try lane(m, "repo-0") == .news)
        // The look that follows takes it out of the news: moved heads make it active.
        let repo0 = try id(m, "repo-0")
        _ = try m.store.applyHeads(repositoryID: repo0, path: "bitbucket/acme/repo-0", heads: ["main": String(repeating: "b", count: 40)], details: [:],
                                   look: .init(tracked: false, hooked: false, recentlyMoved: false), now: now.addingTimeInterval(10))
        #expect(try lane(m, "repo-0") == .active)
        try m.store.markChecked(repositoryID: repo0, look: .init(tracked: false, hooked: false, recentlyMoved: false), now: now.addingTimeInterval(20))
        #expect(try lane(m, "repo-0") == .quiet)
        // An app made by another process (the CLI) makes its repository tracked at once.
        _ = try m.store.createApp(App(name: "web", repositoryID: try id(m, "repo-1"), sourcePath: "bitbucket/acme/repo-1", branch: "main",
                                      runCommand: "true", createdAt: now))
        #expect(try lane(m, "repo-1") == .tracked)
        // A hook that delivers: the safety sweep only — until it fails, or goes.
        try m.store.markChecked(repositoryID: repo0, look: .init(tracked: false, hooked: true, recentlyMoved: false), now: now.addingTimeInterval(30))
        #expect(try lane(m, "repo-0") == .hooked)
        try m.store.write { db in
            try db.execute(sql: "INSERT INTO webhook_subscriptions (repository_id, url, created_at) VALUES (?, 'http://127.0.0.1:8787/webhooks/bitbucket', ?)",
                           arguments: [repo0, now])
        }
        try m.store.recordWebhookFailure(repositoryID: repo0, message: "a push arrived by polling", now: now.addingTimeInterval(40))
        #expect(try lane(m, "repo-0") == .quiet)
        try m.store.markChecked(repositoryID: repo0, look: .init(tracked: false, hooked: true, recentlyMoved: false), now: now.addingTimeInterval(50))
        try m.store.write { db in try db.execute(sql: "DELETE FROM webhook_subscriptions WHERE repository_id = ?", arguments: [repo0]) }
        #expect(try lane(m, "repo-0") == .quiet)
        // A removed repository leaves the queue with it.
        _ = try m.store.removeRepository(id: repo0, path: "bitbucket/acme/repo-0", now: now)
        #expect(try m.store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sweep_queue") } == 1)
        try expectSizesMatch(m)
        // So do a lost workspace's, by cascade.
        _ = try m.store.removeWorkspaces(accountID: m.account.id!, provider: .bitbucket, keeping: [], now: now)
        try expectSizesMatch(m)
        #expect(try m.store.sweepLaneCounts(accountID: m.account.id!).isEmpty)
    }

    /// The kept lane sizes are what counting the queue says.
    func expectSizesMatch(_ m: Mirror) throws {
        let counted = try m.store.read { db in
            try Row.fetchAll(db, sql: "SELECT workspace_id, lane, COUNT(*) AS n FROM sweep_queue WHERE account_id = ? GROUP BY 1, 2", arguments: [m.account.id!])
                .map { "\($0["workspace_id"] as Int64)/\($0["lane"] as Int):\($0["n"] as Int)" }
        }
        let kept = try m.store.sweepLaneCounts(accountID: m.account.id!).map { "\($0.workspaceID)/\($0.lane.rawValue):\($0.count)" }
        #expect(Set(kept) == Set(counted))
    }

    @Test("the due come longest unchecked first, only those looked at by the cutoff, at most the limit; news come whenever; counts per lane")
    func due() throws {
        let now = self.now
        let m = try mirror(repositories: 6, checked: now)
        for index in 0..<6 {
            try m.store.markChecked(repositoryID: try id(m, "repo-\(index)"), look: .init(tracked: false, hooked: false, recentlyMoved: false),
                                    now: now.addingTimeInterval(Double(10 * (6 - index))))
        }
        let accountID = m.account.id!
        let due = try m.store.dueRepositoryIDs(accountID: accountID, workspaceID: nil, lane: .quiet, lookedAtOrBefore: now.addingTimeInterval(30), limit: 10)
        #expect(due == [try id(m, "repo-5"), try id(m, "repo-4"), try id(m, "repo-3")])
        #expect(try m.store.dueRepositoryIDs(accountID: accountID, workspaceID: nil, lane: .quiet, lookedAtOrBefore: now.addingTimeInterval(60), limit: 2)
            == [try id(m, "repo-5"), try id(m, "repo-4")])
        #expect(try m.store.dueRepositoryIDs(accountID: accountID, workspaceID: m.workspace.id!, lane: .quiet,
                                             lookedAtOrBefore: now.addingTimeInterval(10), limit: 10) == [try id(m, "repo-5")])
        #expect(try m.store.dueRepositoryIDs(accountID: accountID + 1, workspaceID: nil, lane: .quiet, lookedAtOrBefore: now.addingTimeInterval(60), limit: 9).isEmpty)
        try m.store.write { db in try db.execute(sql: "UPDATE repositories SET updated_on = ? WHERE slug = 'repo-0'", arguments: [now.addingTimeInterval(3600)]) }
        #expect(try m.store.dueRepositoryIDs(accountID: accountID, workspaceID: nil, lane: .news, lookedAtOrBefore: nil, limit: 10) == [try id(m, "repo-0")])
        let counts = try m.store.sweepLaneCounts(accountID: accountID)
        #expect(Set(counts.map { "\($0.lane):\($0.count)" }) == ["\(SweepLane.news):1", "\(SweepLane.quiet):5"])
        try expectSizesMatch(m)
        let candidates = try m.store.sweepCandidates(repositoryIDs: [try id(m, "repo-3"), 999_999, try id(m, "repo-1")])
        #expect(candidates.map(\.repository.slug) == ["repo-3", "repo-1"] && candidates.allSatisfy { $0.workspaceSlug == "acme" })
        #expect(try m.store.sweepCandidate(accountID: accountID, workspace: "acme", repository: "repo-2")?.repository.slug == "repo-2")
    }

    @Test("a database made before the index gets every mirrored repository queued in its lane when it opens")
    func migration() throws {
        let path = tmp.file("old.db")
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v7")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO accounts (provider, username, api_url, web_url, auth, created_at, updated_at) VALUES ('bitbucket', 'a', 'x', 'y', 'token', '2026-01-01', '2026-01-01');
                INSERT INTO workspaces (account_id, slug, is_admin, updated_at) VALUES (1, 'acme', 1, '2026-01-01');
                INSERT INTO repositories (workspace_id, slug, name, full_name, updated_at, last_checked_at) VALUES (1, 'looked', 'l', 'acme/l', '2026-01-01', '2026-01-02 00:00:00.000');
                INSERT INTO repositories (workspace_id, slug, name, full_name, updated_at) VALUES (1, 'never', 'n', 'acme/n', '2026-01-01');
                INSERT INTO repositories (workspace_id, slug, name, full_name, updated_at, last_checked_at) VALUES (1, 'built', 'b', 'acme/b', '2026-01-01', '2026-01-02 00:00:00.000');
                INSERT INTO apps (name, repository_id, source_path, branch, run_command, created_at, updated_at) VALUES ('web', 3, 'bitbucket/acme/built', 'main', 'true', '2026-01-01', '2026-01-01');
                """)
        }
        let store = try Store(path: path)
        let lanes = try store.read { db in
            try Row.fetchAll(db, sql: "SELECT r.slug, q.lane FROM sweep_queue q JOIN repositories r ON r.id = q.repository_id ORDER BY r.slug")
                .map { "\($0["slug"] as String):\(SweepLane(rawValue: $0["lane"])!)" }
        }
        #expect(lanes == ["built:tracked", "looked:quiet", "never:news"])
    }
}
