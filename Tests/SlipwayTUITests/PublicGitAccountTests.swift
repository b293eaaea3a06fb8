import Foundation
import Testing
import SlipwayCore
import SlipwayProviders
@testable import SlipwayTUI

/// Public Git on the dashboard: no user to name, and the accounts screen says when a host's
/// budget stretches the repositories apps build from past `app_poll_seconds`.
@Suite("Public Git on the dashboard")
struct PublicGitAccountTests {
    @Test("the git account shows as public repositories, and its detail names the host whose budget stretches tracked polling")
    func stretchedPollingShows() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-tui-git-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try Store(path: folder + "/slipway.db")
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        for index in 0..<4 {
            let url = try PublicGitURL.parse("https://busy.example/r\(index).git")
            _ = try store.addPublicRepository(url, now: now)
            let account = try #require(try store.account(for: .git))
            let workspace = try store.upsertWorkspace(accountID: account.id!, ProviderWorkspace(id: nil, slug: url.host, name: url.host, isAdmin: false), now: now)
            let remote = ProviderRepository(id: nil, slug: url.path, name: url.path, fullName: url.fullName, mainBranch: "main", isPrivate: false,
                                            updatedOn: nil, cloneURL: url.cloneURL, webURL: nil)
            _ = try store.applyRepository(workspaceID: workspace.id!, path: "git/busy.example/\(url.path)", remote, isAdmin: false, branches: [], now: now)
            let repository = try #require(try store.repository(workspaceID: workspace.id!, slug: url.path))
            _ = try store.createApp(App(name: "app\(index)", repositoryID: repository.id, sourcePath: "git/busy.example/\(url.path)", branch: "main",
                                        runCommand: "true", createdAt: now))
        }
        var pacing = SyncEngine.Settings()
        pacing.perProvider[.git] = .init(restRequestsPerHour: 0, gitRequestsPerHour: 600, concurrency: 2)
        let source = StoreSource(store: store, home: "~", host: "buildhost", pacing: pacing, engine: { EngineBadge.none })
        let items = try source.load(LevelKind.accounts, query: Store.BrowseQuery(offset: 0, limit: 10)).items
        guard case let .account(card)? = items.first else { Issue.record("no account row: \(items)"); return }
        let level = Level(kind: .accounts, title: "Accounts", path: "", provider: "")
        #expect(TableView.cells(for: .account(card), level: level, now: now, glyphs: .ascii)[1] == "public repositories")
        let lines = DetailView.lines(for: .account(card), level: level, now: now)
        let polling = try #require(lines.first { (line: DetailView.Line) in line.label == "polling" })
        #expect(polling.value.hasPrefix("git on busy.example: 4 repositories apps build from get a look every 40 s, not every 30 s"), "\(polling.value)")
    }
}
