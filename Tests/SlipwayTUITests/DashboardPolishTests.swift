import Foundation
import SlipwayCore
import Testing
@testable import SlipwayTUI

/// Issue 18's dashboard items: the typed `:` catalogue with `:goto`, Enter on a commit, one list
/// of sort names, filters over every column shown, the header and detail pane on small
/// screens, and store writes that never hold up a key.
@Suite("Dashboard polish")
struct DashboardPolishTests {
    func send(_ c: DashboardController, _ keys: Key...) { for key in keys { c.send(.key(key)) } }
    func command(_ c: DashboardController, _ text: String) {
        send(c, .char(":"))
        for character in text { c.send(.key(.char(character))) }
        send(c, .enter)
    }

    @Test("every : command and alias resolves, completes, and is in help; unknown ones say so")
    func catalogue() {
        let help = HelpView.lines(keymap: .standard).map(\.0).joined(separator: "\n")
        for command in LineCommand.allCases {
            #expect(LineCommand.resolve(command.rawValue) == command)
            for alias in command.aliases { #expect(LineCommand.resolve(alias) == command) }
            #expect(CommandLineCatalog.completions(for: String(command.rawValue.prefix(2))).contains(command.rawValue))
            #expect(help.contains(":" + command.rawValue))
        }
        #expect(LineCommand.resolve("re") == nil)
        #expect(CommandLineCatalog.completions(for: "sort b", sorts: ["name", "branches"]) == ["sort branches"])
    }

    @Test(":goto PATH opens the stack down to a branch's commits (and fetches them); a path not in the mirror says so")
    func goto() throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: 120, height: 40)
        command(c, "goto bitbucket/acme/api/main")
        #expect(c.state.stack.map(\.title) == ["Providers", "bitbucket", "acme", "api", "main"])
        guard case let .commits(_, branchID) = c.state.current.kind else { Issue.record("\(c.state.current.kind)"); return }
        #expect(branchID == fixture.mainBranchID)
        #expect(c.state.current.total == 3)
        c.settle()
        #expect(c.state.pendingCommands.values.contains("commits of bitbucket/acme/api/main"))
        send(c, .escape)
        guard case .branches(_, fixture.apiRepositoryID?) = c.state.current.kind else { Issue.record("\(c.state.current.kind)"); return }

        command(c, "goto bitbucket/acme")
        #expect(c.state.stack.map(\.title) == ["Providers", "bitbucket", "acme"])
        command(c, "goto bitbucket/acme/nope")
        #expect(c.state.message?.text == "nothing in the mirror at bitbucket/acme/nope" && c.state.message?.isError == true)
        #expect(c.state.stack.map(\.title) == ["Providers", "bitbucket", "acme"], "a failed goto moved")
    }

    @Test("Enter on a commit opens its detail and leaves it open; p closes it")
    func enterOnCommit() throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: 120, height: 40)
        command(c, "goto bitbucket/acme/api/main")
        send(c, .enter)
        #expect(c.state.layout.detailShown)
        send(c, .char("j"), .enter)
        #expect(c.state.layout.detailShown, "a second Enter closed it")
        send(c, .char("p"))
        #expect(!c.state.layout.detailShown)
    }

    @Test(":branches filters on the repository column and the head hash too")
    func filterEveryColumn() throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: 120, height: 40)
        command(c, "branches")
        let all = c.state.current.total
        command(c, "filter acme/web")
        #expect(c.state.current.total == 2, "acme/web has two branches")
        command(c, "filter 2e24de9")
        #expect(c.state.current.total == 1)
        command(c, "filter ")
        #expect(c.state.current.total == all)
        command(c, "repos")
        command(c, "filter develop")
        #expect(c.state.current.total == 1, "the main-branch column is filtered too")
    }

    @Test(":sort takes the names s shows, one list for every level; others are refused with the list")
    func sortNames() throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: 120, height: 40)
        command(c, "repos")
        command(c, "sort branches")
        #expect(c.state.current.sort == .size && c.state.message?.text == "sorted by branches")
        command(c, "sort size")
        #expect(c.state.current.sort == .size && c.state.message?.text == "sort this list by name, recent, branches, provider")
        #expect(LevelKind.sortCatalogue == "workspaces name|repositories; repositories name|recent|branches|provider; branches name|recent|author|provider; commits newest|author")
    }

    @Test("at 80×24 the header keeps the engine's state and the host; below 16 rows the detail pane stays closed")
    func smallScreens() throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: 80, height: 24)
        let header = c.render().line(0)
        #expect(header.contains("engine: here") && header.contains("@buildhost") && header.contains("[bitbucket @ada ok]"), "\(header)")
        let tiny = fixture.controller(width: 40, height: 10)
        send(tiny, .char("p"))
        #expect(!tiny.state.layout.detailShown)
        #expect(tiny.state.layout.tableHeight >= 5)
        command(tiny, "goto bitbucket/acme/api/main")
        send(tiny, .enter)
        #expect(!tiny.state.layout.detailShown && tiny.state.message?.text.contains("too short") == true)
        Snapshot.checkInvariants(tiny.render(), "tiny")
    }

    @Test("a store write (deploy) runs off the key thread: a blocked store does not hold up the next key")
    func writesOffTheKeyThread() throws {
        let fixture = try DashboardFixture()
        let source = BlockingSource(inner: fixture.source())
        let c = DashboardController(source: source, width: 120, height: 40, now: DashboardFixture.now)
        command(c, "apps")
        send(c, .char("d"), .char("y"))
        // The write is blocked; keys still move the cursor.
        send(c, .enter)
        #expect(c.state.stack.count == 3, "the key after the deploy waited for the store")
        #expect(c.state.pendingCommands.isEmpty)
        source.release.signal()
        c.settle()
        #expect(c.state.pendingCommands.values.contains("deploy web"))
    }
}

/// A store that is busy for deploys until released.
final class BlockingSource: DashboardSource, @unchecked Sendable {
    let inner: StoreSource
    let release = DispatchSemaphore(value: 0)
    init(inner: StoreSource) { self.inner = inner }
    func header() throws -> HeaderInfo { try inner.header() }
    func load(_ kind: LevelKind, query: Store.BrowseQuery) throws -> (total: Int, items: [Item]) { try inner.load(kind, query: query) }
    func changes(after cursor: Int64?) throws -> (cursor: Int64, events: [ChangeEvent]) { try inner.changes(after: cursor) }
    func requestRefresh(path: String) throws -> Int64 { try inner.requestRefresh(path: path) }
    func requestDeploy(app: String) throws -> Int64 {
        release.wait()
        return try inner.requestDeploy(app: app)
    }
    func requestCancel(deploymentID: Int64) throws -> Int64 { try inner.requestCancel(deploymentID: deploymentID) }
    func requestLogFollow(deploymentID: Int64) throws -> Int64 { try inner.requestLogFollow(deploymentID: deploymentID) }
    func requestWebhookInstall(path: String) throws -> Int64 { try inner.requestWebhookInstall(path: path) }
    func command(id: Int64) throws -> EngineCommand? { try inner.command(id: id) }
    func locate(path: String) throws -> MirrorLocation? { try inner.locate(path: path) }
    func dataVersion() -> Int? { inner.dataVersion() }
}
