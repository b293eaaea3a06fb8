import Foundation
import SlipwayCore
import Testing
@testable import SlipwayTUI

/// The reducer alone: State + Action → State and effects, no store, no terminal.
@Suite("Reducer")
struct ReducerTests {
    let reducer = Reducer()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// A branches level of `count` rows, all loaded, at 80×24 (17 table rows).
    func state(rows count: Int = 100) -> DashboardState {
        var state = DashboardState(width: 80, height: 24, now: now)
        var level = Level(kind: .branches(accountID: 1, repositoryID: 7), title: "api", path: "bitbucket/acme/api", provider: "bitbucket")
        level.total = count
        level.items = (0..<count).map { index in
            .branch(Store.BranchRow(branch: Branch(id: Int64(index + 1), repositoryID: 7, name: "b\(index)", headHash: String(repeating: "a", count: 40), updatedAt: now),
                                    repositorySlug: "api", workspaceSlug: "acme"))
        }
        level.loaded = true
        state.stack.append(level)
        return state
    }

    @discardableResult
    func send(_ state: inout DashboardState, _ keys: Key...) -> [Effect] {
        keys.flatMap { reducer.reduce(&state, .key($0)) }
    }

    @Test("j/k and arrows move within the rows; g/G jump to the ends")
    func moving() {
        var s = state()
        send(&s, .char("j"), .down, .char("j"))
        #expect(s.current.selection == 3)
        send(&s, .char("k"), .up)
        #expect(s.current.selection == 1)
        send(&s, .up, .up, .char("k"))
        #expect(s.current.selection == 0)
        send(&s, .char("G"))
        #expect(s.current.selection == 99)
        #expect(s.current.scrollTop == 100 - s.layout.tableHeight)
        send(&s, .down)
        #expect(s.current.selection == 99)
        send(&s, .char("g"))
        #expect(s.current.selection == 0 && s.current.scrollTop == 0)
    }

    @Test("PgDn/PgUp move a page, Ctrl-d/Ctrl-u half a page, and the selection stays on screen")
    func paging() {
        var s = state()
        let page = s.layout.tableHeight
        send(&s, .pageDown)
        #expect(s.current.selection == page)
        #expect(s.visibleRange.contains(s.current.selection))
        send(&s, .ctrl("u"))
        #expect(s.current.selection == page - page / 2)
        send(&s, .ctrl("d"), .ctrl("d"))
        #expect(s.current.selection == page - page / 2 + 2 * (page / 2))
        send(&s, .pageUp, .pageUp, .pageUp)
        #expect(s.current.selection == 0)
    }

    @Test("a resize keeps the selection visible")
    func resize() {
        var s = state()
        send(&s, .char("G"))
        _ = reducer.reduce(&s, .resize(width: 120, height: 40))
        #expect(s.visibleRange.contains(99))
        _ = reducer.reduce(&s, .resize(width: 40, height: 10))
        #expect(s.visibleRange.contains(99))
        #expect(s.layout.tableHeight == 6)
    }

    @Test("Enter drills in (a branch also asks for its commits); Esc, Backspace and h go back")
    func drilling() {
        var s = state()
        send(&s, .down)
        let effects = send(&s, .enter)
        #expect(s.stack.count == 3)
        #expect(s.current.kind == .commits(accountID: 1, branchID: 2))
        #expect(s.current.path == "bitbucket/acme/api/b1")
        #expect(effects == [.reload(depth: 2), .refresh(path: "bitbucket/acme/api/b1", description: "commits of bitbucket/acme/api/b1")])
        #expect(send(&s, .escape) == [.reload(depth: 1)])
        #expect(s.stack.count == 2)
        #expect(s.current.selection == 1)
        send(&s, .char("h"))
        #expect(s.stack.count == 1)
        #expect(send(&s, .backspace).isEmpty)
    }

    @Test("/ filters live: each character reloads from the first row; Enter keeps it, Esc clears it")
    func filtering() {
        var s = state()
        send(&s, .char("G"))
        send(&s, .char("/"))
        #expect(s.mode == .filter)
        #expect(send(&s, .char("b"), .char("1")) == [.reload(depth: 1), .reload(depth: 1)])
        #expect(s.current.filter == "b1")
        #expect(s.current.selection == 0)
        send(&s, .backspace)
        #expect(s.current.filter == "b")
        send(&s, .enter)
        #expect(s.mode == .browse && s.current.filter == "b")
        // Keys are bindings again: q would quit, j moves.
        send(&s, .char("j"))
        #expect(s.current.selection == 1)
        send(&s, .char("/"), .char("x"))
        #expect(send(&s, .escape) == [.reload(depth: 1)])
        #expect(s.current.filter.isEmpty && s.mode == .browse)
        // Typing q in the filter is text, not quit.
        send(&s, .char("/"), .char("q"))
        #expect(!s.quitRequested && s.current.filter == "q")
    }

    @Test("s cycles the level's sorts and reloads")
    func sorting() {
        var s = state()
        #expect(send(&s, .char("s")) == [.reload(depth: 1)])
        #expect(s.current.sort == .recent)
        send(&s, .char("s"))
        #expect(s.current.sort == .size)
        send(&s, .char("s"))
        #expect(s.current.sort == .name)
        #expect(s.message?.text == "sorted by name")
    }

    @Test(": runs commands with tab completion; unknown ones say so")
    func commandLine() {
        var s = state()
        send(&s, .char(":"), .char("a"), .char("c"), .tab)
        #expect(s.mode == .command("accounts"))
        #expect(send(&s, .enter) == [.reload(depth: 1)])
        #expect(s.current.kind == .accounts)
        // The accounts screen opens the detail pane for itself; p closes it there; leaving it
        // leaves the dashboard's own choice as it was.
        #expect(s.layout.detailShown && !s.detailShown)
        send(&s, .char("p"))
        #expect(!s.layout.detailShown)
        send(&s, .char("p"))
        send(&s, .escape)
        #expect(s.current.kind != .accounts && !s.layout.detailShown)
        send(&s, .char(":"), .char("r"), .char("e"), .tab)
        #expect(s.mode == .command("re"))
        #expect(s.message?.text == "repos  refresh")
        send(&s, .escape, .char(":"), .char("n"), .char("o"), .enter)
        #expect(s.message?.isError == true)
        #expect(s.message?.text.contains("unknown command ':no'") == true)
        send(&s, .char(":"), .char("q"))
        #expect(send(&s, .enter) == [.quit])
        #expect(s.quitRequested)
    }

    @Test(":sort takes a name; :filter sets the filter")
    func commandArguments() {
        var s = state()
        for c in ":sort recent" { send(&s, .char(c)) }
        send(&s, .enter)
        #expect(s.current.sort == .recent)
        for c in ":filter b9" { send(&s, .char(c)) }
        send(&s, .enter)
        #expect(s.current.filter == "b9")
    }

    @Test("? opens help, Esc or ? closes it; q and Ctrl-C quit")
    func helpAndQuit() {
        var s = state()
        send(&s, .char("?"))
        #expect(s.mode == .help)
        send(&s, .char("j"), .char("j"))
        #expect(s.helpScroll == 2)
        send(&s, .char("?"))
        #expect(s.mode == .browse)
        send(&s, .char("?"), .escape)
        #expect(s.mode == .browse)
        #expect(send(&s, .ctrl("c")) == [.quit])
        var t = state()
        #expect(send(&t, .char("q")) == [.quit])
    }

    @Test("r asks the engine to refresh the repository being looked at")
    func refresh() {
        var s = state()
        #expect(send(&s, .char("r")) == [.refresh(path: "bitbucket/acme/api", description: "refresh of bitbucket/acme/api")])
        var top = DashboardState(width: 80, height: 24, now: now)
        #expect(send(&top, .char("r")).isEmpty)
        #expect(top.message != nil)
    }

    @Test("change events mark the row and its parents for a moment; ticks expire marks and messages")
    func changes() {
        var s = state()
        let event = ChangeEvent(kind: .headMoved, path: "bitbucket/acme/api/b3", old: "a", new: "b", createdAt: now)
        _ = reducer.reduce(&s, .changes([event]))
        #expect(s.isRecentlyChanged("bitbucket/acme/api/b3"))
        #expect(s.isRecentlyChanged("bitbucket/acme/api"))
        #expect(s.isRecentlyChanged("bitbucket/acme"))
        s.message = StatusMessage(text: "hi", isError: false, until: now.addingTimeInterval(2))
        _ = reducer.reduce(&s, .tick(now.addingTimeInterval(5)))
        #expect(!s.isRecentlyChanged("bitbucket/acme/api/b3"))
        #expect(s.message == nil)
    }

    @Test("a finished command reports its result and reloads every level")
    func commandResult() {
        var s = state()
        _ = reducer.reduce(&s, .commandQueued(id: 9, description: "refresh of bitbucket/acme/api"))
        #expect(s.pendingCommands[9] != nil)
        let effects = reducer.reduce(&s, .commandFinished(id: 9, succeeded: true, result: "2 changes"))
        #expect(effects == [.reload(depth: 0), .reload(depth: 1)])
        #expect(s.message?.text == "refresh of bitbucket/acme/api: 2 changes")
        #expect(s.pendingCommands.isEmpty)
        _ = reducer.reduce(&s, .commandFinished(id: 10, succeeded: false, result: "x"))
        #expect(s.message?.text == "refresh of bitbucket/acme/api: 2 changes")
    }

    @Test("when rows appear above it, the selection stays on its row; after a filter it starts at the top")
    func followsSelection() {
        var s = state(rows: 10)
        send(&s, .char("j"), .char("j"))
        let selected = s.current.selectedItem
        let extra = Item.branch(Store.BranchRow(branch: Branch(id: 99, repositoryID: 7, name: "a-new", headHash: "b", updatedAt: now),
                                                repositorySlug: "api", workspaceSlug: "acme"))
        _ = reducer.reduce(&s, .loaded(depth: 1, total: 11, offset: 0, items: [extra] + s.current.items))
        #expect(s.current.selection == 3)
        #expect(s.current.selectedItem == selected)
        send(&s, .char("/"), .char("b"))
        _ = reducer.reduce(&s, .loaded(depth: 1, total: 11, offset: 0, items: [extra] + s.current.items))
        #expect(s.current.selection == 0)
    }

    @Test("d and x ask first: y sends the request, anything else does nothing")
    func confirmations() {
        var s = DashboardState(width: 80, height: 24, now: now)
        var apps = Level(kind: .apps, title: "Apps", path: "", provider: "")
        let app = App(id: 3, name: "web", repositoryID: 1, sourcePath: "bitbucket/acme/api", branch: "main", runCommand: "./run.sh", createdAt: now)
        apps.items = [.app(Store.AppRow(app: app, latest: nil, activeCommit: nil))]
        apps.total = 1
        apps.loaded = true
        s.stack.append(apps)
        #expect(send(&s, .char("d")).isEmpty)
        #expect(s.mode == .confirm(prompt: "Deploy web now, from its branch's head? y/n", effect: .deploy(app: "web")))
        #expect(send(&s, .char("n")).isEmpty)
        #expect(s.mode == .browse && s.message?.text == "web was not deployed")
        send(&s, .char("d"))
        #expect(send(&s, .char("y")) == [.deploy(app: "web")])

        var deployments = Level(kind: .deployments(appID: 3), title: "web", path: "app:web", provider: "")
        deployments.items = [.deployment(Deployment(id: 9, appID: 3, commitHash: "abc", phase: .building, cause: "x", createdAt: now)),
                             .deployment(Deployment(id: 8, appID: 3, commitHash: "def", phase: .active, cause: "x", createdAt: now))]
        deployments.total = 2
        deployments.loaded = true
        s.stack.append(deployments)
        send(&s, .char("x"))
        #expect(send(&s, .char("y")) == [.cancelDeployment(9)])
        send(&s, .char("j"), .char("x"))
        #expect(s.mode == .browse)
        #expect(s.message?.text == "select a queued or running deployment to cancel")
        // d on an app's deployments deploys that app.
        send(&s, .char("d"))
        #expect(s.mode == .confirm(prompt: "Deploy web now, from its branch's head? y/n", effect: .deploy(app: "web")))
    }

    @Test("a log follows its end as lines arrive, until the user moves up; G follows again")
    func followsLog() {
        var s = DashboardState(width: 80, height: 24, now: now)
        var log = Level(kind: .log(deploymentID: 1), title: "#1 log", path: "deployment:1", provider: "")
        log.followTail = true
        s.stack.append(log)
        func lines(_ n: Int) -> [Item] { (1...n).map { .logLine(number: $0, stream: .stdout, text: "line \($0)") } }
        _ = reducer.reduce(&s, .loaded(depth: 1, total: 30, offset: 0, items: lines(30)))
        #expect(s.current.selection == 29)
        _ = reducer.reduce(&s, .loaded(depth: 1, total: 40, offset: 0, items: lines(40)))
        #expect(s.current.selection == 39)
        send(&s, .char("k"))
        _ = reducer.reduce(&s, .loaded(depth: 1, total: 50, offset: 0, items: lines(50)))
        #expect(s.current.selection == 38)
        send(&s, .char("G"))
        _ = reducer.reduce(&s, .loaded(depth: 1, total: 60, offset: 0, items: lines(60)))
        #expect(s.current.selection == 59)
    }

    @Test("w wraps a log's long lines (and only a log's)")
    func wrapping() {
        var s = state()
        #expect(send(&s, .char("w")).isEmpty)
        var log = Level(kind: .log(deploymentID: 1), title: "#1 log", path: "deployment:1", provider: "")
        log.loaded = true
        s.stack.append(log)
        #expect(send(&s, .char("w")) == [.reload(depth: 2)])
        #expect(s.current.wrap)
        send(&s, .char("w"))
        #expect(!s.current.wrap)
        #expect(StoreSource.wrap("abcdefghij", width: 4) == ["abcd", "efgh", "ij"])
        #expect(StoreSource.wrap("日本語テキスト", width: 5) == ["日本", "語テ", "キス", "ト"])
        #expect(StoreSource.wrap("short", width: 10) == ["short"])
    }

    @Test("w on a repository asks, then asks the engine to install its webhook; not for a non-admin or a delivering hook")
    func webhookKey() {
        var s = DashboardState(width: 80, height: 24, now: now)
        func repository(_ slug: String, admin: Bool, webhook: WebhookHealth? = nil) -> Item {
            var row = Store.RepositoryRow(repository: Repository(id: Int64(slug.count), workspaceID: 1, slug: slug, name: slug, fullName: "acme/\(slug)",
                                                                 isAdmin: admin, updatedAt: now), workspaceSlug: "acme")
            row.webhook = webhook
            return .repository(row)
        }
        var level = Level(kind: .repositories(accountID: 1, workspaceID: 1), title: "acme", path: "bitbucket/acme", provider: "bitbucket")
        level.items = [repository("api", admin: true), repository("docs", admin: false), repository("web", admin: true, webhook: .healthy(lastDelivery: now))]
        level.total = 3
        level.loaded = true
        s.stack.append(level)

        #expect(send(&s, .char("w")).isEmpty)
        #expect(s.mode == .confirm(prompt: "Install Slipway's push webhook on bitbucket/acme/api? y/n", effect: .installWebhook(path: "bitbucket/acme/api")))
        #expect(send(&s, .char("y")) == [.installWebhook(path: "bitbucket/acme/api")])
        #expect(!s.current.wrap)

        send(&s, .char("j"))
        #expect(send(&s, .char("w")).isEmpty)
        #expect(s.mode == .browse)
        #expect(s.message?.text.contains("not an admin of bitbucket/acme/docs") == true)

        send(&s, .char("j"))
        #expect(send(&s, .char("w")).isEmpty)
        #expect(s.mode == .browse)
        #expect(s.message?.text.contains("installed and delivering") == true)

        // The detail pane says how the hook is doing, and what w would do.
        #expect(DetailView.webhookText(.healthy(lastDelivery: now.addingTimeInterval(-120)), admin: true, now: now) == "delivering · last push 2m ago · polled slowly")
        #expect(DetailView.webhookText(.failing(since: now.addingTimeInterval(-300), message: "delivery refused: bad signature\u{1B}[2J"), admin: true, now: now)
                == "failing since 5m: delivery refused: bad signature^[[2J · polled as usual")
        #expect(DetailView.webhookText(.waiting(since: now.addingTimeInterval(-60)), admin: true, now: now)
                == "installed 1m ago · waiting for its first push (polled as usual until then)")
        #expect(DetailView.webhookText(nil, admin: true, now: now).contains("press w"))
        #expect(DetailView.webhookText(nil, admin: false, now: now).contains("needs admin"))
    }

    @Test("a shrinking list pulls the selection back inside")
    func shrinking() {
        var s = state()
        send(&s, .char("G"))
        _ = reducer.reduce(&s, .loaded(depth: 1, total: 3, offset: 0, items: Array(s.current.items.prefix(3))))
        #expect(s.current.selection == 2)
        #expect(s.current.scrollTop == 0)
        _ = reducer.reduce(&s, .loaded(depth: 1, total: 0, offset: 0, items: []))
        #expect(s.current.selection == 0)
    }
}
