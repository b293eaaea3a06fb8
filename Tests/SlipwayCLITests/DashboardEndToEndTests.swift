import Foundation
import Testing
import SlipwayCore
import SlipwaySandbox

/// The real binary in a real terminal (tmux) against the sandbox, driven key by key.
@Suite("Dashboard end to end", .serialized, .timeLimit(.minutes(3)))
struct DashboardEndToEndTests {
    func sandbox() async throws -> SandboxServer {
        var options = SandboxOptions()
        options.seed = 81
        options.workspaces = 2
        options.reposPerWorkspace = 3
        options.branchesPerRepo = 4
        options.largeRepositories = false
        return try await SandboxServer.start(options: options)
    }

    func listing(_ runner: BinaryRunner, _ path: String) async throws -> [[String: Any]] {
        let result = try await runner.runAsync(["ls", path, "--json"])
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    func environment(home: String) -> [String: String] {
        ["SLIPWAY_HOME": home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": home]
    }

    @Test("navigate to a branch, filter, resize, see a simulated push appear, quit and find the terminal restored")
    func browse() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        let linked = try await runner.link(server)
        #expect(linked.status == 0)

        let tmux = try TmuxSession(width: 120, height: 40, environment: environment(home: home.path))
        try tmux.type("\(BinaryRunner.binary); echo \"EXITED $?\"")
        // One account: the dashboard opens at its workspaces, hosting the engine, which mirrors them.
        var (ok, screen) = try await tmux.waitFor("engine: here")
        #expect(ok, "\(screen)")
        let workspaces = try await waitForListing(runner, "bitbucket", count: 2)
        let workspace = try #require(workspaces.first)
        let wsSlug = workspace["path"].flatMap { ($0 as? String)?.split(separator: "/").last.map(String.init) } ?? ""
        (ok, screen) = try await tmux.waitFor(workspace["display_name"] as? String ?? wsSlug)
        #expect(ok, "\(screen)")
        #expect(screen.contains("Providers › bitbucket"))

        // Into the first workspace, then its first repository (names sorted as the table sorts them).
        try tmux.press("Enter")
        (ok, screen) = try await tmux.waitFor("Providers › bitbucket › \(wsSlug)")
        #expect(ok, "\(screen)")
        let repositories = try await listing(runner, "bitbucket/\(wsSlug)")
        let repository = try #require(repositories.min { ($0["name"] as! String).lowercased() < ($1["name"] as! String).lowercased() })
        let repoSlug = (repository["path"] as! String).split(separator: "/").last.map(String.init)!
        try tmux.press("Enter")
        (ok, screen) = try await tmux.waitFor("› \(wsSlug) › \(repoSlug)")
        #expect(ok, "\(screen)")
        #expect(screen.contains("BRANCH"))
        let branches = try await listing(runner, "bitbucket/\(wsSlug)/\(repoSlug)")
        #expect(branches.count == 4)
        let hashes = branches.map { String((($0["head"] as? [String: Any])?["hash"] as? String ?? "").prefix(7)) }
        (ok, screen) = try await tmux.waitFor { screen in hashes.allSatisfy { screen.contains($0) } }
        #expect(ok, "the heads \(hashes) are not all shown:\n\(screen)")

        // Filter live, keep it, clear it.
        let target = try #require(branches.first?["name"] as? String)
        let needle = String(target.prefix(4))
        try tmux.press("/")
        try tmux.typeWithoutEnter(needle)
        (ok, screen) = try await tmux.waitFor("/\(needle)")
        #expect(ok, "\(screen)")
        #expect(screen.contains("filter “\(needle)”"))
        try tmux.press("Enter")
        (ok, screen) = try await tmux.waitFor { $0.contains(" back ") && $0.contains("filter “\(needle)”") }
        #expect(ok, "\(screen)")
        try tmux.press("Escape")
        (ok, screen) = try await tmux.waitFor { !$0.contains("filter “") && $0.contains("1/4") }
        #expect(ok, "\(screen)")

        // Resize: smaller, too small, and back.
        try tmux.resize(width: 80, height: 24)
        (ok, screen) = try await tmux.waitFor { $0.split(separator: "\n").count <= 24 && $0.contains("› \(repoSlug)") && $0.contains("q quit") }
        #expect(ok, "\(screen)")
        try tmux.resize(width: 30, height: 8)
        (ok, screen) = try await tmux.waitFor("Terminal too small: 30×8")
        #expect(ok, "\(screen)")
        try tmux.resize(width: 120, height: 40)
        (ok, screen) = try await tmux.waitFor("› \(wsSlug) › \(repoSlug)")
        #expect(ok, "\(screen)")

        // A push in the sandbox shows up without a key press.
        var push: SandboxPush?
        for _ in 0..<20 {
            if let next = server.service.push(repository: "\(wsSlug)/\(repoSlug)"), next.kind != .branchDeleted, next.new != nil { push = next; break }
        }
        let pushed = try #require(push)
        let short = String(pushed.new!.prefix(7))
        (ok, screen) = try await tmux.waitFor(30) { $0.contains(short) }
        #expect(ok, "the pushed head \(short) on \(pushed.branch) did not appear:\n\(screen)")

        // y copies the selected head through OSC 52; tmux (set-clipboard on) keeps it as a buffer.
        try tmux.tmux(["set-option", "-g", "set-clipboard", "on"])
        try tmux.press("g", "y")
        let current = try await listing(runner, "bitbucket/\(wsSlug)/\(repoSlug)")
        let firstHead = try #require(current.min { ($0["name"] as! String).lowercased() < ($1["name"] as! String).lowercased() })
        let fullHash = ((firstHead["head"] as? [String: Any])?["hash"] as? String) ?? ""
        var copied = ""
        for _ in 0..<30 {
            copied = try tmux.tmux(["show-buffer"], output: true)
            if copied == fullHash { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(copied == fullHash, "clipboard holds \(copied.debugDescription), not \(fullHash)")

        // Quit: the shell comes back, in its normal modes, with the dashboard gone.
        try tmux.press("q")
        (ok, screen) = try await tmux.waitFor("EXITED 0")
        #expect(ok, "\(screen)")
        #expect(!screen.contains("Providers ›"))
        try tmux.type("stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo -e -icanon -e -echo | tr '\\n' ','; echo")
        (ok, screen) = try await tmux.waitFor("icanon,echo,")
        #expect(ok, "the terminal modes were not restored:\n\(screen)")
        // The engine the dashboard hosted let go of the lock.
        let status = try await runner.runAsync(["status", "--json"])
        #expect(status.stdout.contains(#""running":false"#))
    }

    @Test("the status bar shows the keys that work where the cursor is; :goto jumps to a branch by path")
    func hintsAndGoto() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        let (ws, slug, branch) = try firstBranch(of: server)
        #expect(try await runner.runAsync(["apps", "create", "web", "--source", "bitbucket/\(ws)/\(slug)", "--branch", branch, "--run", "true",
                                           "--no-autodeploy"]).status == 0)

        let tmux = try TmuxSession(width: 120, height: 40, environment: environment(home: home.path))
        try tmux.type("\(BinaryRunner.binary); echo \"EXITED $?\"")
        var (ok, screen) = try await tmux.waitFor("engine: here")
        #expect(ok, "\(screen)")
        // Workspaces: no deploy, wrap or webhook keys offered.
        #expect(!screen.contains("d deploy") && !screen.contains("w wrap") && !screen.contains("w webhook"), "\(screen)")
        try tmux.press(":")
        try tmux.typeWithoutEnter("goto bitbucket/\(ws)/\(slug)/\(branch)")
        try tmux.press("Enter")
        (ok, screen) = try await tmux.waitFor("› \(ws) › \(slug) › \(branch)")
        #expect(ok, "\(screen)")
        #expect(screen.contains("HASH"), "not at the commits:\n\(screen)")
        try tmux.press("Escape")
        (ok, screen) = try await tmux.waitFor { $0.contains("› \(ws) › \(slug) ") && $0.contains("BRANCH") }
        #expect(ok, "\(screen)")
        try tmux.press(":")
        try tmux.typeWithoutEnter("apps")
        try tmux.press("Enter")
        (ok, screen) = try await tmux.waitFor { $0.contains("Providers › Apps") && $0.contains("d deploy") }
        #expect(ok, "the apps list does not offer deploy:\n\(screen)")
        #expect(!screen.contains("w webhook"))
        try tmux.press("q")
        (ok, screen) = try await tmux.waitFor("EXITED 0")
        #expect(ok, "\(screen)")
    }

    @Test("slipway demo links every personality: four Git providers and App Platform; a branch of each is found by typing; an App Platform deployment caused by a push goes ACTIVE; the home is removed on exit")
    func demo() async throws {
        let scratch = TemporaryHome()
        try FileManager.default.createDirectory(atPath: scratch.path, withIntermediateDirectories: true)
        let tmux = try TmuxSession(width: 120, height: 40, environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TMPDIR": scratch.path, "HOME": scratch.path])
        try tmux.type("\(BinaryRunner.binary) demo --push-every 0.5; echo \"EXITED $?\"")
        // Four Git providers at the top level, App Platform's account in the header.
        var (ok, screen) = try await tmux.waitFor(30) { screen in
            ["bitbucket", "github", "gitlab", "public repositories"].allSatisfy(screen.contains) && screen.contains("[digitalocean")
        }
        #expect(ok, "\(screen)")
        try tmux.press("Enter")
        (ok, screen) = try await tmux.waitFor { $0.contains("Acme Corp") && $0.contains("Globex") && $0.contains("Initech") }
        #expect(ok, "\(screen)")
        // Webhooks are on: the repositories the sandbox user administers show a hook (✓ once one
        // of them has delivered a push, ○ until then).
        try tmux.press("Enter")
        (ok, screen) = try await tmux.waitFor { $0.contains("HOOK") && ($0.contains("✓") || $0.contains("○")) }
        #expect(ok, "\(screen)")
        // Every branch across the providers: typing finds hello-web on each Git host, flaky-api on the public one.
        try tmux.press(":")
        try tmux.typeWithoutEnter("branches")
        try tmux.press("Enter", "/")
        try tmux.typeWithoutEnter("demo/hello-web")
        (ok, screen) = try await tmux.waitFor { screen in
            let rows = screen.split(separator: "\n").filter { $0.contains("demo/hello-web") }
            return ["bitbucket", "github", "gitlab"].allSatisfy { provider in rows.contains { $0.contains(provider) } }
        }
        #expect(ok, "\(screen)")
        try tmux.press("Escape", "/")
        try tmux.typeWithoutEnter("flaky-api")
        (ok, screen) = try await tmux.waitFor { $0.split(separator: "\n").contains { $0.contains("git ") && $0.contains("127.0.0.1:") } }
        #expect(ok, "\(screen)")
        try tmux.press("Escape")
        // The demo's apps deploy from the sandbox's real repositories: watch them settle.
        try tmux.press(":")
        try tmux.typeWithoutEnter("apps")
        try tmux.press("Enter")
        (ok, screen) = try await tmux.waitFor(30) { screen in
            screen.split(separator: "\n").contains { $0.contains("hello-web") && $0.contains("ACTIVE") }
                && screen.split(separator: "\n").contains { $0.contains("flaky-api") && ($0.contains("ACTIVE") || $0.contains("ERROR")) }
        }
        #expect(ok, "\(screen)")
        // App Platform is linked too: its apps, and the demo's own built there from GitHub, beside the local ones.
        (ok, screen) = try await tmux.waitFor(30) { screen in
            // Pushes come every half second, so its newest deployment may still be pending.
            screen.split(separator: "\n").contains { $0.contains("hello-cloud") && $0.contains("do ams") && $0.contains("github/demo/hello-web") }
                && screen.contains("sample-app")
        }
        #expect(ok, "\(screen)")
        // A push to GitHub's hello-web deploys hello-cloud on App Platform: one such deployment reaches ACTIVE.
        try tmux.press("/")
        try tmux.typeWithoutEnter("hello-cloud")
        try tmux.press("Enter", "Enter")
        (ok, screen) = try await tmux.waitFor("› Apps › hello-cloud")
        #expect(ok, "\(screen)")
        (ok, screen) = try await tmux.waitFor(60) { screen in
            screen.split(separator: "\n").contains { $0.contains("pushed to github/demo/hello-web") && $0.contains("ACTIVE") }
        }
        #expect(ok, "no pushed App Platform deployment reached ACTIVE:\n\(screen)")
        // Its log, copied from App Platform as for a local deployment's.
        try tmux.press("/")
        try tmux.typeWithoutEnter("ACTIVE")
        try tmux.press("Enter", "Enter")
        (ok, screen) = try await tmux.waitFor(20) { $0.contains("log") && $0.contains("fetching app source code") }
        #expect(ok, "the App Platform deployment's log did not show:\n\(screen)")
        try tmux.press("Escape", "Escape", "Escape", ":")
        try tmux.typeWithoutEnter("apps")
        try tmux.press("Enter")
        // Into hello-web's history and the log of its deployment (the filter matches hello-cloud's
        // and hello-lab's sources too: hello-web is the last of the three).
        try tmux.press("/")
        try tmux.typeWithoutEnter("hello-web")
        try tmux.press("Enter", "G", "Enter")
        (ok, screen) = try await tmux.waitFor("› Apps › hello-web")
        #expect(ok, "\(screen)")
        // Pushes to the demo repositories deploy on their own: one pushed commit reaches ACTIVE on screen.
        (ok, screen) = try await tmux.waitFor(60) { screen in
            screen.split(separator: "\n").contains { $0.contains("pushed to main") && $0.contains("ACTIVE") }
        }
        #expect(ok, "no pushed deployment reached ACTIVE:\n\(screen)")
        try tmux.press("G", "Enter")
        (ok, screen) = try await tmux.waitFor(10) { $0.contains("log") && $0.contains("is up") }
        #expect(ok, "\(screen)")
        // Ctrl-C leaves as cleanly as q.
        try tmux.press("C-c")
        (ok, screen) = try await tmux.waitFor("EXITED 0")
        #expect(ok, "\(screen)")
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix("slipway-demo-") }
        #expect(left.isEmpty, "the demo left \(left)")
    }

    @Test("terminals: colours by default, NO_COLOR keeps the selection visible without them, a missing terminfo entry falls back")
    func terminals() async throws {
        let scratch = TemporaryHome()
        try FileManager.default.createDirectory(atPath: scratch.path, withIntermediateDirectories: true)
        let base = ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TMPDIR": scratch.path, "HOME": scratch.path]
        func styled(_ tmux: TmuxSession) throws -> String { try tmux.tmux(["capture-pane", "-p", "-e", "-t", tmux.target], output: true) }
        let colourCode = try Regex(#"\e\[[0-9;]*(3[0-7]|9[0-7]|38;5;[0-9]+)[;m]"#)

        let coloured = try TmuxSession(width: 100, height: 30, environment: base)
        try coloured.type("\(BinaryRunner.binary) demo; echo \"EXITED $?\"")
        var (ok, screen) = try await coloured.waitFor("public repositories")
        #expect(ok, "\(screen)")
        var colouredScreen = ""
        for _ in 0..<50 {
            colouredScreen = try styled(coloured)
            if colouredScreen.contains(colourCode) { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(colouredScreen.contains(colourCode), "no colours:\n\(colouredScreen.debugDescription)")
        try coloured.press("q")
        (ok, screen) = try await coloured.waitFor("EXITED 0")
        #expect(ok, "\(screen)")

        let plain = try TmuxSession(width: 100, height: 30, environment: base.merging(["NO_COLOR": "1"]) { $1 })
        try plain.type("\(BinaryRunner.binary) demo; echo \"EXITED $?\"")
        (ok, screen) = try await plain.waitFor("public repositories")
        #expect(ok, "\(screen)")
        let bare = try styled(plain)
        #expect(!bare.contains(colourCode), "colours despite NO_COLOR:\n\(bare.debugDescription)")
        // The selected row is still marked, by reverse video.
        let selectedLine = try #require(bare.split(separator: "\n").first { $0.contains("bitbucket @sandbox-user") })
        #expect(selectedLine.contains("\u{1B}[7m") || selectedLine.contains(";7m") || selectedLine.contains("[7;"), "\(selectedLine.debugDescription)")
        try plain.press("q")
        (ok, screen) = try await plain.waitFor("EXITED 0")
        #expect(ok, "\(screen)")

        let unknown = try TmuxSession(width: 100, height: 30, environment: base)
        try unknown.type("TERM=xterm-nowhere-known \(BinaryRunner.binary) demo; echo \"EXITED $?\"")
        (ok, screen) = try await unknown.waitFor {
            $0.contains("TERM=xterm-nowhere-known has no terminfo entry here; drawing as xterm-256color") && $0.contains("public repositories")
        }
        #expect(ok, "\(screen)")
        try unknown.press("q")
        (ok, screen) = try await unknown.waitFor("EXITED 0")
        #expect(ok, "\(screen)")
    }

    @Test("a broken ui.theme falls back to the default with file and line; :theme switches live and is saved; [keys] remaps quit")
    func themesAndKeys() async throws {
        let home = TemporaryHome()
        try FileManager.default.createDirectory(atPath: home.path + "/themes", withIntermediateDirectories: true)
        try "name = \"broken\"\n[ui]\nselected = { fg = \"chartreuse\" }\n".write(toFile: home.path + "/themes/broken.toml", atomically: true, encoding: .utf8)
        try BinaryRunner(home: home.path).writeConfig("[ui]\ntheme = \"broken\"\n\n[keys]\nquit = \"Q\"\nnope = \"n\"\n")
        let tmux = try TmuxSession(width: 160, height: 30, environment: environment(home: home.path))
        try tmux.type("\(BinaryRunner.binary); echo \"EXITED $?\"")
        // Every problem at once, before the screen opens, then Enter opens it.
        var (ok, screen) = try await tmux.waitFor("press Enter to open the dashboard anyway")
        #expect(ok, "\(screen)")
        #expect(screen.contains("broken.toml:3: 'chartreuse' is not a colour") && screen.contains("unknown action 'nope'"), "\(screen)")
        try tmux.press("Enter")
        (ok, screen) = try await tmux.waitFor { $0.contains("Providers") && $0.contains("broken.toml:3: 'chartreuse' is not a colour") }
        #expect(ok, "\(screen)")
        #expect(screen.contains("using the default theme"), "\(screen)")
        func styled() throws -> String { try tmux.tmux(["capture-pane", "-p", "-e", "-t", tmux.target], output: true) }
        let colourCode = try Regex(#"\e\[[0-9;]*(3[0-7]|9[0-7]|38;5;[0-9]+)[;m]"#)
        #expect(try styled().contains(colourCode))

        try tmux.press(":")
        try tmux.typeWithoutEnter("theme monochrome")
        try tmux.press("Enter")
        (ok, screen) = try await tmux.waitFor("theme monochrome (saved as ui.theme in")
        #expect(ok, "\(screen)")
        var plain = ""
        for _ in 0..<30 {
            plain = try styled()
            if !plain.contains(colourCode) { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(!plain.contains(colourCode), "monochrome still shows colours:\n\(plain.debugDescription)")
        let config = try String(contentsOfFile: home.path + "/config.toml", encoding: .utf8)
        #expect(config == "[ui]\ntheme = \"monochrome\"\n\n[keys]\nquit = \"Q\"\nnope = \"n\"\n")

        // q is no longer quit; Q is.
        // Keys are handled in order: once the help that '?' opens is on screen, the 'q' before it
        // was handled too, and did not quit.
        try tmux.press("q", "?")
        (ok, screen) = try await tmux.waitFor("Browsing")
        #expect(ok && !screen.contains("EXITED"), "\(screen)")
        try tmux.press("Escape", "Q")
        (ok, screen) = try await tmux.waitFor("EXITED 0")
        #expect(ok, "\(screen)")
    }

    @Test("with a daemon running, the dashboard works beside it and says so")
    func besideDaemon() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.link(server)
        let daemon = try runner.startDaemon()
        defer { if daemon.isRunning { daemon.terminate() } }
        _ = try await waitForListing(runner, "bitbucket", count: 2)

        let tmux = try TmuxSession(width: 120, height: 40, environment: environment(home: home.path))
        try tmux.type("\(BinaryRunner.binary); echo \"EXITED $?\"")
        var (ok, screen) = try await tmux.waitFor("engine: daemon \(daemon.processIdentifier)")
        #expect(ok, "\(screen)")
        // The daemon stops: the dashboard takes the engine over.
        daemon.terminate()
        daemon.waitUntilExit()
        (ok, screen) = try await tmux.waitFor(15) { $0.contains("engine: here") }
        #expect(ok, "\(screen)")
        try tmux.press("q")
        (ok, screen) = try await tmux.waitFor("EXITED 0")
        #expect(ok, "\(screen)")
    }

    func waitForListing(_ runner: BinaryRunner, _ path: String, count: Int) async throws -> [[String: Any]] {
        let end = Date().addingTimeInterval(20)
        var last: [[String: Any]] = []
        while Date() < end {
            last = try await listing(runner, path)
            if last.count >= count { return last.sorted { ($0["display_name"] as? String ?? "") < ($1["display_name"] as? String ?? "") } }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return last
    }
}
