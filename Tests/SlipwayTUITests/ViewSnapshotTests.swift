import Foundation
import SlipwayCore
import Testing
@testable import SlipwayTUI
import GRDB

/// Every screen as text at 80×24 and 120×40: hostile strings, CJK and emoji, empty states and errors.
@Suite("Dashboard views")
struct ViewSnapshotTests {
    static let sizes = [(80, 24), (120, 40)]

    func keys(_ controller: DashboardController, _ keys: Key...) {
        for key in keys { controller.send(.key(key)) }
    }

    func type(_ controller: DashboardController, _ text: String) {
        for character in text { controller.send(.key(.char(character))) }
    }

    @Test("every level of the drill-down, with and without the detail pane", arguments: sizes)
    func drillDown(width: Int, height: Int) throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: width, height: height)
        let size = "\(width)x\(height)"
        // One account: the dashboard opens at its workspaces.
        Snapshot.check(c.render(), "workspaces-\(size)")
        keys(c, .escape)
        Snapshot.check(c.render(), "providers-\(size)", roles: true)
        keys(c, .enter, .enter)
        Snapshot.check(c.render(), "repositories-\(size)", roles: true)
        keys(c, .enter)
        Snapshot.check(c.render(), "branches-\(size)")
        keys(c, .char("j"), .char("j"), .char("p"))
        Snapshot.check(c.render(), "branches-detail-\(size)")
        keys(c, .char("p"), .char("/"))
        type(c, "main")
        keys(c, .enter, .enter)
        Snapshot.check(c.render(), "commits-\(size)")
        keys(c, .char("G"), .char("p"))
        Snapshot.check(c.render(), "commits-detail-\(size)")
    }

    @Test("accounts, help, every branch of the account, and a filter with its matches", arguments: sizes)
    func otherScreens(width: Int, height: Int) throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: width, height: height)
        let size = "\(width)x\(height)"
        keys(c, .char(":"))
        type(c, "accounts")
        keys(c, .enter)
        Snapshot.check(c.render(), "accounts-\(size)", roles: true)
        keys(c, .char("?"))
        Snapshot.check(c.render(), "help-\(size)")
        keys(c, .escape, .char(":"))
        type(c, "branches")
        keys(c, .enter)
        Snapshot.check(c.render(), "all-branches-\(size)")
        keys(c, .char("/"))
        type(c, "ma")
        Snapshot.check(c.render(), "filter-\(size)")
    }

    @Test("apps, an app's deployments with their phases, and a failed deployment's log (hostile output inert)", arguments: sizes)
    func apps(width: Int, height: Int) throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: width, height: height)
        let size = "\(width)x\(height)"
        keys(c, .char(":"))
        type(c, "apps")
        keys(c, .enter)
        Snapshot.check(c.render(), "apps-\(size)", roles: true)
        keys(c, .enter)
        Snapshot.check(c.render(), "deployments-\(size)", roles: true)
        keys(c, .char("j"), .char("j"), .char("p"))
        Snapshot.check(c.render(), "deployments-detail-\(size)")
        keys(c, .char("p"), .enter)
        Snapshot.check(c.render(), "log-\(size)", roles: true)
        keys(c, .char("w"))
        Snapshot.check(c.render(), "log-wrapped-\(size)")
    }

    @Test("no account linked says how to link one", arguments: sizes)
    func empty(width: Int, height: Int) throws {
        let fixture = try DashboardFixture(empty: true)
        Snapshot.check(fixture.controller(width: width, height: height, engine: .none).render(), "empty-\(width)x\(height)")
    }

    @Test("a list that cannot be read shows the error in place", arguments: sizes)
    func loadError(width: Int, height: Int) throws {
        let fixture = try DashboardFixture()
        let source = FailingSource(inner: fixture.source(engine: .elsewhere(pid: 4242, role: "daemon")))
        let c = DashboardController(source: source, width: width, height: height, now: DashboardFixture.now)
        keys(c, .enter, .enter)
        Snapshot.check(c.render(), "error-\(width)x\(height)")
    }

    @Test("a terminal that is too small gets one clear message until it grows")
    func tooSmall() throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: 30, height: 8)
        Snapshot.check(c.render(), "too-small-30x8")
        c.send(.resize(width: 80, height: 24))
        #expect(c.render().text.contains("Acme Corp"))
    }

    @Test("without a UTF-8 locale everything is drawn in ASCII")
    func ascii() throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: 80, height: 24, asciiOnly: true)
        keys(c, .enter, .enter)
        let grid = c.render()
        Snapshot.check(grid, "branches-ascii-80x24")
        #expect(grid.text.unicodeScalars.allSatisfy { $0.isASCII })
    }

    @Test("a rate-limited account is shown paused with a countdown, its rows stale")
    func paused() throws {
        let fixture = try DashboardFixture()
        try fixture.store.write { db in
            try db.execute(sql: "UPDATE budget_states SET paused_until = ? WHERE kind = 'rest'", arguments: [DashboardFixture.now.addingTimeInterval(252)])
        }
        let c = fixture.controller(width: 120, height: 40)
        let grid = c.render()
        #expect(grid.line(0).contains("[bitbucket @ada paused 4m12s]"))
        #expect(grid.roles(3).contains(.stale) || grid.roles(3).contains(.selected))
        #expect(grid.roles(4).contains(.stale))
    }
}

/// Reads like the store but fails on repositories, as a corrupt or locked database would.
final class FailingSource: DashboardSource, @unchecked Sendable {
    let inner: StoreSource
    init(inner: StoreSource) { self.inner = inner }
    func header() throws -> HeaderInfo { try inner.header() }
    func load(_ kind: LevelKind, query: Store.BrowseQuery) throws -> (total: Int, items: [Item]) {
        if case .branches = kind { throw StoreError.failed(path: "/home/ada/.local/share/slipway/slipway.db", reason: "the disk is full") }
        return try inner.load(kind, query: query)
    }
    func changes(after cursor: Int64?) throws -> (cursor: Int64, events: [ChangeEvent]) { try inner.changes(after: cursor) }
    func requestRefresh(path: String) throws -> Int64 { try inner.requestRefresh(path: path) }
    func requestDeploy(app: String) throws -> Int64 { try inner.requestDeploy(app: app) }
    func requestCancel(deploymentID: Int64) throws -> Int64 { try inner.requestCancel(deploymentID: deploymentID) }
    func requestLogFollow(deploymentID: Int64) throws -> Int64 { try inner.requestLogFollow(deploymentID: deploymentID) }
    func requestWebhookInstall(path: String) throws -> Int64 { try inner.requestWebhookInstall(path: path) }
    func command(id: Int64) throws -> EngineCommand? { try inner.command(id: id) }
    func locate(path: String) throws -> MirrorLocation? { try inner.locate(path: path) }
    func dataVersion() -> Int? { inner.dataVersion() }
}
