import Foundation
import GRDB
import Testing
@testable import SlipwayCore
import SlipwayProviders

/// The list of public repositories the user added, the `git` account that lives while it is not
/// empty, and how a host's own budget plans the repositories apps build from.
@Suite("Public repositories in the store")
struct PublicRepositoryStoreTests {
    let tmp = TemporaryDirectory()
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func mirror(_ store: Store, _ url: PublicGitURL, account: Account) throws -> Int64 {
        let workspace = try store.upsertWorkspace(accountID: account.id!, ProviderWorkspace(id: nil, slug: url.host, name: url.host, isAdmin: false), now: now)
        let remote = ProviderRepository(id: nil, slug: url.path, name: url.path, fullName: url.fullName, mainBranch: "main", isPrivate: false,
                                        updatedOn: nil, cloneURL: url.cloneURL, webURL: nil)
        _ = try store.applyRepository(workspaceID: workspace.id!, path: "git/\(url.host)/\(url.path)", remote, isAdmin: false,
                                      branches: [ProviderBranch(name: "main", head: ProviderCommit(hash: String(repeating: "a", count: 40)))], now: now)
        return try #require(try store.repository(workspaceID: workspace.id!, slug: url.path)?.id)
    }

    @Test("the first addition makes the git account (auth none, no credential); a repeat is known; the last removal takes the account and its budgets")
    func lifecycle() throws {
        let store = try Store(path: tmp.file("slipway.db"))
        let a = try PublicGitURL.parse("https://example.com/group/a.git"), b = try PublicGitURL.parse("https://other.example:8443/b.git")
        guard case let .added(account) = try store.addPublicRepository(a, now: now) else { Issue.record("not added"); return }
        #expect(account.provider == .git && account.auth == .none && account.username.isEmpty)
        #expect(try AccountLinker.credential(for: account, store: store, keyFile: tmp.file("no-key")) == .none)
        #expect(try store.addPublicRepository(a, now: now) == .known(account))
        _ = try store.addPublicRepository(b, now: now)
        #expect(try store.publicRepositories() == [a, b])
        _ = try mirror(store, a, account: account)
        let stamp = now
        try store.write { db in
            try db.execute(sql: """
                INSERT INTO budget_states (host, credential, kind, capacity, tokens, refill_per_second, refilled_at, updated_at)
                VALUES ('example.com', ?, 'git', 480, 480, 0.13, ?, ?)
                """, arguments: [account.budgetCredential, stamp, stamp])
        }
        let changes = try #require(try store.removePublicRepository(host: a.host, path: a.path, now: now))
        #expect(changes.map(\.kind) == [.repositoryRemoved] && changes.first?.path == "git/example.com/group/a")
        #expect(try store.workspaces(accountID: account.id!).isEmpty)
        #expect(try store.account(for: .git) != nil)
        #expect(try store.removePublicRepository(host: a.host, path: a.path, now: now) == nil)
        _ = try store.removePublicRepository(host: b.host, path: b.path, now: now)
        #expect(try store.account(for: .git) == nil)
        #expect(try store.publicRepositories().isEmpty)
        #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM budget_states") } == 0)
    }

    @Test("each host plans its own tracked repositories: within its budget every app_poll_seconds, stretched past it, and said so")
    func trackedPollingPerHost() throws {
        let store = try Store(path: tmp.file("slipway.db"))
        var settings = SyncEngine.Settings()
        settings.appPollInterval = 30
        settings.perProvider[.git] = .init(restRequestsPerHour: 0, gitRequestsPerHour: 600, concurrency: 2)
        // 600 an hour × 0.8 × the sweep's 0.75: 360 looks an hour, one every 10 s.
        var account: Account?
        var tracked: [String: Int] = ["busy.example": 5, "quiet.example": 2]
        for (host, count) in tracked.sorted(by: { $0.key < $1.key }) {
            for index in 0..<count {
                let url = try PublicGitURL.parse("https://\(host)/r\(index).git")
                if case let .added(made) = try store.addPublicRepository(url, now: now) { account = made }
                let owner = try account ?? store.account(for: .git)
                let repositoryID = try mirror(store, url, account: try #require(owner))
                let app = App(name: "\(host)-\(index)", repositoryID: repositoryID, sourcePath: "git/\(host)/r\(index)", branch: "main",
                              runCommand: "true", createdAt: now)
                _ = try store.createApp(app)
            }
        }
        tracked = [:]
        let plans = try TrackedPolling.plan(store: store, settings: settings)
        #expect(plans.map(\.host) == ["busy.example", "quiet.example"])
        #expect(plans.map(\.tracked) == [5, 2])
        // Five need one look each every 30 s (600 an hour): the host gives 360, so every 50 s.
        #expect(abs(plans[0].interval - 50) < 0.01 && plans[0].stretched)
        #expect(plans[0].message == "git on busy.example: 5 repositories apps build from get a look every 50 s, not every 30 s (app_poll_seconds): the git budget allows no more")
        #expect(plans[1].interval == 30 && !plans[1].stretched)
        #expect(TrackedPolling.interval(tracked: 0, gitPerSecond: 0, settings: settings) == 30)
    }
}
