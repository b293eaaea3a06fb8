import Foundation
import SlipwayCore
import Testing
@testable import SlipwayTUI

/// The status bar shows the keys that work where the cursor is, from the same declarations as
/// help; a key pressed where it does not work says why, and the next key clears that message.
@Suite("Context hints")
struct ContextHintsTests {
    func send(_ c: DashboardController, _ keys: Key...) { for key in keys { c.send(.key(key)) } }
    func command(_ c: DashboardController, _ text: String) {
        send(c, .char(":"))
        for character in text { c.send(.key(.char(character))) }
        send(c, .enter)
    }
    func hints(_ c: DashboardController) -> [String] { c.reducer.keymap.hints(in: c.state).map(\.hint) }

    @Test("no 'back' at the top; repositories offer the webhook, not wrap; sort only where there are orders")
    func browsing() throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: 120, height: 40)
        send(c, .escape)   // the single account opened itself; back to the providers
        #expect(c.state.stack.count == 1)
        #expect(!hints(c).contains("back"))
        #expect(!hints(c).contains("sort"), "providers have one order")
        send(c, .enter, .enter)   // bitbucket → acme's repositories
        #expect(hints(c).contains("back") && hints(c).contains("webhook") && hints(c).contains("sort"))
        #expect(!hints(c).contains("wrap") && !hints(c).contains("deploy") && !hints(c).contains("follow"))
    }

    @Test("apps offer deploy and cancel (its deployment builds); a log offers follow and wrap")
    func appsAndLogs() throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: 120, height: 40)
        command(c, "apps")
        #expect(hints(c).contains("deploy") && hints(c).contains("cancel"))
        #expect(!hints(c).contains("webhook") && !hints(c).contains("wrap"))
        send(c, .enter, .char("j"), .char("j"), .enter)   // web → the ERROR deployment → its log
        guard case .log = c.state.current.kind else { Issue.record("not in a log: \(c.state.current.kind)"); return }
        #expect(hints(c).contains("follow") && hints(c).contains("wrap") && hints(c).contains("back"))
        #expect(!hints(c).contains("deploy"))
    }

    @Test("x on an app whose deployment builds asks to cancel that deployment")
    func cancelFromTheAppRow() throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: 120, height: 40)
        command(c, "apps")
        send(c, .char("x"))
        guard case let .confirm(prompt, effect) = c.state.mode else { Issue.record("no question: \(c.state.mode)"); return }
        #expect(prompt.contains("BUILDING"))
        guard case .cancelDeployment = effect else { Issue.record("\(effect)"); return }
        send(c, .char("n"))
        #expect(c.state.message?.text.hasSuffix("goes on") == true, "\(c.state.message?.text ?? "")")
    }

    @Test("a key where it does not work says why; the next key clears the message")
    func refusalAndClearing() throws {
        let fixture = try DashboardFixture()
        let c = fixture.controller(width: 120, height: 40)
        send(c, .char("w"))   // workspaces: no webhook here, no log to wrap
        #expect(c.state.message?.text == "only in a deployment's log; webhooks are installed from a repository list")
        send(c, .char("j"))
        #expect(c.state.message == nil)
        command(c, "re")
        #expect(c.state.message?.isError == true)
        command(c, "repos")
        #expect(c.state.message == nil, "the unknown-command message outlived a good command")
    }

    @Test("read-only hides and refuses deploy, cancel and webhook")
    func readonly() throws {
        let fixture = try DashboardFixture()
        var options = DashboardOptions()
        options.readonly = true
        let c = DashboardController(source: fixture.source(), width: 120, height: 40, now: DashboardFixture.now, options: options)
        command(c, "apps")
        #expect(!hints(c).contains("deploy") && !hints(c).contains("cancel"))
        send(c, .char("d"))
        #expect(c.state.mode == .browse)
        #expect(c.state.message?.text.hasPrefix("read-only") == true)
        command(c, "repos")
        send(c, .char("w"))
        #expect(c.state.mode == .browse && c.state.message?.text.hasPrefix("read-only") == true)
    }
}
