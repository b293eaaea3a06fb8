import Foundation
import Testing
import SlipwaySandbox

/// An App Platform deployment followed in the dashboard as a person would (tmux): its log view
/// fills from App Platform's live log while the build runs, then the deploy's, the same view a
/// local deployment has.
@Suite("App Platform in the dashboard", .serialized, .timeLimit(.minutes(3)))
struct AppPlatformDashboardTests {
    func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test("Enter on an App Platform deployment opens its log: build lines arrive while it builds, then the deploy's; the lines are shown inert")
    func followedLog() async throws {
        var options = SandboxOptions()
        options.personalities = [.bitbucket, .digitalocean]
        options.workspaces = 1
        options.reposPerWorkspace = 2
        options.largeRepositories = false
        options.appPlatformPhaseSeconds = 1
        // App Platform's clock stands still while the test gets to the log, and again while it
        // looks at the first lines: "while it builds" holds however slow the machine.
        let clock = PausableNow()
        let server = try await SandboxServer.start(options: options, now: { clock.now })
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        _ = try await runner.runAsync(["link", "bitbucket", "--api-url", server.bitbucket.apiURL, "--web-url", server.bitbucket.webURL, "--token-file", "-"],
                                      stdin: server.service.bitbucket.accessToken + "\n")
        #expect(try await runner.runAsync(["sync", "--once"]).status == 0)
        let linked = try await runner.runAsync(["link", "digitalocean", "--api-url", server.digitalocean.apiURL, "--web-url", server.digitalocean.webURL,
                                                "--token-file", "-"], stdin: server.service.digitalocean.token + "\n")
        #expect(linked.status == 0, "\(linked.stderr)")
        try runner.writeConfig("[webhooks]\nlisten = \"127.0.0.1:0\"\n")
        #expect(try await runner.runAsync(["apps"]).status == 0)
        clock.pause()
        let started = try await runner.runAsync(["deploy", "sample-app"])
        #expect(started.status == 0, "\(started.stderr)")
        let newest = try #require((json(try await runner.runAsync(["deployments", "sample-app", "--json"]).stdout) as? [[String: Any]])?.first)
        let id = try #require(newest["id"] as? Int)

        let tmux = try TmuxSession(width: 120, height: 40, environment: ["SLIPWAY_HOME": home.path, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": home.path])
        try tmux.type("\(BinaryRunner.binary)")
        var (ok, screen) = try await tmux.waitFor("bitbucket")
        #expect(ok, "\(screen)")
        try tmux.press(":")
        try tmux.typeWithoutEnter("apps")
        try tmux.press("Enter")
        (ok, screen) = try await tmux.waitFor("sample-app")
        #expect(ok, "\(screen)")
        try tmux.press("/")
        try tmux.typeWithoutEnter("sample-app")
        try tmux.press("Enter", "Enter")
        (ok, screen) = try await tmux.waitFor("#\(id)")
        #expect(ok, "\(screen)")
        // The newest deployment is the first row.
        try tmux.press("g", "Enter")
        (ok, screen) = try await tmux.waitFor("#\(id) log")
        #expect(ok, "\(screen)")
        // A quarter into the build (pending 1 s, then a line every 0.1 s): its first two lines exist.
        clock.advance(1.25)
        (ok, screen) = try await tmux.waitFor(20) { $0.contains("fetching app source code") }
        #expect(ok, "the build's first lines did not show:\n\(screen)")
        let early = try tmux.screen()
        clock.resume()
        (ok, screen) = try await tmux.waitFor(30) { $0.contains("uploading the built image") && $0.contains("✔ deployed") }
        #expect(ok, "the rest of the build and the deploy did not follow:\n\(screen)")
        // Seen while it ran: the first look had only part of the build.
        #expect(!early.contains("✔ deployed"), "\(early)")
        // The box-drawing of App Platform's clone banner arrives intact.
        #expect(screen.contains("╭"))
        try tmux.press("q")
    }
}
