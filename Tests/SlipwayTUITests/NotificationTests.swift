import Foundation
import Testing
import SlipwayCore
@testable import SlipwayTUI

/// A deployment the user watches (its app's deployments on screen) or started with `d` says
/// when it ends: the bell, or OSC 9 / 777 where the terminal shows desktop notifications.
@Suite("Dashboard notifications")
struct NotificationTests {
    func open(_ c: DashboardController, apps filter: String) {
        for key in [Key.char(":")] + "apps".map(Key.char) + [Key.enter] { c.send(.key(key)) }
        for key in [Key.char("/")] + filter.map(Key.char) + [Key.enter, Key.enter] { c.send(.key(key)) }
    }

    func building(_ fixture: DashboardFixture) throws -> Int64 {
        try #require(try fixture.store.deployments().first { $0.phase == .building }?.id)
    }

    @Test("the bell when a watched deployment ends, once; nothing for one not watched; off is silent")
    func bell() throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: 120, height: 40)
        _ = c.takeControlOutput()
        open(c, apps: "web")
        #expect(c.state.current.title == "web")
        c.storeChanged()
        #expect(c.takeControlOutput().isEmpty, "nothing ended yet")
        let id = try building(fixture)
        try fixture.store.setPhase(deploymentID: id, .active, now: DashboardFixture.now)
        c.storeChanged()
        #expect(c.takeControlOutput() == [[0x07]])
        c.storeChanged()
        #expect(c.takeControlOutput().isEmpty, "announced once")

        var quiet = DashboardOptions()
        quiet.notify = .off
        let other = try DashboardFixture()
        let silent = DashboardController(source: other.source(), width: 120, height: 40, now: DashboardFixture.now, options: quiet)
        open(silent, apps: "web")
        silent.storeChanged()
        try other.store.setPhase(deploymentID: try building(other), .error, error: "step build failed", now: DashboardFixture.now)
        silent.storeChanged()
        #expect(silent.takeControlOutput().isEmpty)

        // Not on screen and not started from here: not announced.
        let unwatched = try DashboardFixture()
        let browsing = unwatched.controller(width: 120, height: 40)
        browsing.storeChanged()
        try unwatched.store.setPhase(deploymentID: try building(unwatched), .active, now: DashboardFixture.now)
        browsing.storeChanged()
        #expect(browsing.takeControlOutput().isEmpty)
    }

    @Test("osc: OSC 9 for iTerm2-like terminals, OSC 777 for foot and kitty, through tmux's passthrough inside tmux; the bell elsewhere")
    func desktopNotifications() {
        let iterm = TerminalNotification.bytes("slipway: web #4 ACTIVE", "2e24de9", style: .osc, environment: ["TERM_PROGRAM": "iTerm.app"], inTmux: false)
        #expect(iterm.map { String(decoding: $0, as: UTF8.self) } == "\u{1B}]9;slipway: web #4 ACTIVE: 2e24de9\u{07}")
        let foot = TerminalNotification.bytes("slipway: web #4 ERROR", "step build failed", style: .osc, environment: ["TERM": "foot"], inTmux: false)
        #expect(foot.map { String(decoding: $0, as: UTF8.self) } == "\u{1B}]777;notify;slipway: web #4 ERROR;step build failed\u{07}")
        let tmux = TerminalNotification.bytes("t", "b", style: .osc, environment: ["TERM_PROGRAM": "WezTerm"], inTmux: true)
        #expect(tmux.map { String(decoding: $0, as: UTF8.self) } == "\u{1B}Ptmux;\u{1B}\u{1B}]9;t: b\u{07}\u{1B}\\")
        #expect(TerminalNotification.bytes("t", "b", style: .osc, environment: ["TERM": "xterm-256color"], inTmux: false) == [0x07])
        // The body cannot end the sequence early or inject another.
        let hostile = TerminalNotification.bytes("t", "a\u{07}\u{1B}]52;c;x", style: .osc, environment: ["TERM": "kitty"], inTmux: false)
        #expect(hostile.map { String(decoding: $0, as: UTF8.self) } == "\u{1B}]777;notify;t;a]52cx\u{07}")
    }

    @Test("a push shows as a chain: the branch row is marked when its head moves, again when its app starts deploying, and when it is live")
    func chainOfMarks() throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: 120, height: 40)
        for key in [Key.char(":")] + "branches".map(Key.char) + [Key.enter] { c.send(.key(key)) }
        let main = "bitbucket/acme/api/main"
        c.storeChanged()
        #expect(!c.state.isRecentlyChanged(main))
        let id = try building(fixture)
        try fixture.store.setPhase(deploymentID: id, .active, now: DashboardFixture.now)
        c.storeChanged()
        #expect(c.state.isRecentlyChanged(main), "deploying → live did not mark the branch")
        let row = c.state.current.items.compactMap { item -> Store.BranchRow? in if case let .branch(row) = item, row.branch.name == "main", row.repositorySlug == "api" { row } else { nil } }.first
        #expect(row.map { TableView.whereDeployed($0.apps[0], head: $0.branch.headHash) } == "web runs 3c8998a", "\(String(describing: row?.apps))")
    }
}
