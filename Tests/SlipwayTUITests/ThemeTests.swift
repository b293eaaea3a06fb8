import Foundation
import SlipwayCore
import Testing
@testable import SlipwayTUI

@Suite("Themes")
struct ThemeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("every shipped theme loads, sets every element, and is named after its file")
    func shipped() throws {
        let required = ["default", "light", "solarized-dark", "dracula", "gruvbox", "high-contrast", "monochrome"]
        #expect(Set(ThemeCatalog.builtInNames).isSuperset(of: required))
        for source in BuiltinThemes.sources {
            let theme = try Theme.parse(source.text, file: source.name + ".toml")
            #expect(theme.name == source.name)
            #expect(!theme.description.isEmpty)
            for role in StyleRole.allCases {
                #expect(theme.styles[role] != nil, "\(source.name) leaves out \(role.themeKey.section).\(role.themeKey.key)")
            }
        }
    }

    @Test("the embedded themes are exactly Themes/*.toml (run scripts/generate-themes after editing one)")
    func embeddedMatchFiles() throws {
        let folder = Self.root.appendingPathComponent("Themes")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".toml") }.sorted()
        #expect(files.map { String($0.dropLast(5)) } == BuiltinThemes.sources.map(\.name))
        for source in BuiltinThemes.sources {
            let text = try String(contentsOf: folder.appendingPathComponent(source.name + ".toml"), encoding: .utf8)
            #expect(text == source.text + "\n", "Themes/\(source.name).toml differs from the embedded copy; run scripts/generate-themes")
        }
    }

    @Test("a broken theme fails with its file and line", arguments: [
        ("name = \"x\"\n[ui]\nselected = { fg = \"chartreuse\" }\n", 3, "'chartreuse' is not a colour"),
        ("name = \"x\"\n\n[ui]\nrow = {}\nselcted = { attrs = [\"bold\"] }\n", 5, "unknown element 'ui.selcted'"),
        ("name = \"x\"\n[ui]\nrow = { attrs = [\"blink\"] }\n", 3, "unknown attribute"),
        ("name = \"x\"\n[ui]\nrow = { fg = \"red\"\n", 3, "not valid TOML"),
        ("name = \"x\"\n[colours]\nrow = 1\n", 2, "unknown key 'colours'"),
        ("[ui]\nrow = {}\n", nil, "no name"),
    ] as [(String, Int?, String)])
    func broken(text: String, line: Int?, message: String) {
        do {
            _ = try Theme.parse(text, file: "/home/ada/.config/slipway/themes/x.toml")
            Issue.record("parsed a broken theme")
        } catch {
            #expect(error.file == "/home/ada/.config/slipway/themes/x.toml")
            #expect(error.line == line, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.description.hasPrefix("/home/ada/.config/slipway/themes/x.toml" + (line.map { ":\($0)" } ?? "")))
        }
    }

    @Test("colours: names, indexes and hex map to the nearest the terminal has")
    func colours() {
        #expect(ThemeColor(text: "default")?.terminalIndex(colors: 256) == -1)
        #expect(ThemeColor(text: "cyan")?.terminalIndex(colors: 8) == 6)
        #expect(ThemeColor(text: "bright_red")?.terminalIndex(colors: 16) == 9)
        #expect(ThemeColor(text: "bright_red")?.terminalIndex(colors: 8) == 1)
        #expect(ThemeColor(text: "#ff0000")?.terminalIndex(colors: 256) == 196)
        #expect(ThemeColor(text: "#ff0000")?.terminalIndex(colors: 16) == 9)
        #expect(ThemeColor(text: "#ff0000")?.terminalIndex(colors: 8) == 1)
        #expect(ThemeColor(text: "#282a36")?.terminalIndex(colors: 256) == 236)
        #expect(ThemeColor(text: "208")?.terminalIndex(colors: 256) == 208)
        #expect(ThemeColor(text: "208")?.terminalIndex(colors: 8) == 3)
        #expect(ThemeColor(text: "#12345") == nil)
        #expect(ThemeColor(text: "256") == nil)
    }

    @Test("elements a theme leaves out come from the default theme; colours left out from its normal")
    func fallback() throws {
        let theme = try Theme.parse("name = \"mine\"\n[ui]\nnormal = { fg = \"white\", bg = \"#000000\" }\nrow = { attrs = [\"bold\"] }\n", file: "mine.toml")
        let row = theme.resolved(.row, fallback: ThemeCatalog.standard)
        #expect(row == ResolvedStyle(fg: .index(7), bg: .rgb(0, 0, 0), attributes: [.bold]))
        let error = theme.resolved(.error, fallback: ThemeCatalog.standard)
        #expect(error.fg == .index(1))
        #expect(error.bg == .rgb(0, 0, 0))
    }

    @Test("user themes come from the themes folder, win over built-ins, and a broken one says where")
    func catalog() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-themes-" + UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "name = \"dracula\"\ndescription = \"mine\"\n[ui]\nrow = {}\n".write(toFile: folder + "/dracula.toml", atomically: true, encoding: .utf8)
        try "name = \"oops\"\n[ui]\nrow = { fg = \"nope\" }\n".write(toFile: folder + "/oops.toml", atomically: true, encoding: .utf8)
        let catalog = ThemeCatalog(userDirectory: folder)
        #expect(try catalog.load("dracula").get().description == "mine")
        guard case let .failure(error) = catalog.load("oops") else { Issue.record("a broken theme loaded"); return }
        #expect(error.description.hasPrefix(folder + "/oops.toml:3: "))
        guard case let .failure(missing) = catalog.load("nope") else { Issue.record("a missing theme loaded"); return }
        #expect(missing.message.contains("no theme named 'nope'"))
        #expect(missing.file == "theme 'nope'", "names a file that does not exist: \(missing.file)")
        let entries = catalog.entries()
        #expect(entries.first { $0.name == "oops" }?.description.hasPrefix("broken: ") == true)
        #expect(entries.first { $0.name == "dracula" }?.origin == .file(folder + "/dracula.toml"))
        #expect(entries.first { $0.name == "gruvbox" }?.origin == .builtIn)
    }

    @Test("a preview shows every element, in colour for a terminal and as text otherwise")
    func preview() throws {
        let theme = try ThemeCatalog(userDirectory: nil).load("dracula").get()
        let coloured = ThemePreview.render(theme, colors: 256)
        #expect(coloured.contains("\u{1B}[0;38;5;"))
        let plain = ThemePreview.render(theme, colors: 0)
        #expect(!plain.contains("\u{1B}"))
        #expect(plain.contains("selected") && plain.contains("ACTIVE") && plain.contains("fg #f8f8f2 bg #282a36"))
    }
}

@Suite("Key remaps, clipboard and mouse")
struct RemapClipboardMouseTests {
    @Test("[keys] remaps replace an action's keys; conflicts, unknown actions and bad keys are reported with their line")
    func remaps() {
        let lines = ["quit": 7, "sort": 8, "frobnicate": 9, "help": 10]
        let (keymap, problems) = Keymap.standard.remapped(["quit": ["Q"], "sort": ["j", "S"], "frobnicate": ["x"], "help": ["ctrl-"]],
                                                          file: "/c/config.toml") { lines[$0] }
        #expect(keymap.action(for: .char("Q")) == .quit)
        #expect(keymap.action(for: .char("q")) == nil)
        #expect(keymap.action(for: .char("j")) == .sort)
        #expect(keymap.action(for: .down) == .down)
        #expect(keymap.action(for: .char("?")) == .help)
        #expect(problems.map(\.description).sorted() == [
            "/c/config.toml:10: 'ctrl-' is not a key; write a character, ctrl-x, enter, esc, tab, up, down, pgup, pgdn, home or end",
            "/c/config.toml:8: 'j' now means sort, no longer down",
            "/c/config.toml:9: unknown action 'frobnicate' in [keys]; actions: " + BindingAction.allCases.map(\.rawValue).joined(separator: ", "),
        ])
        let (_, clash) = Keymap.standard.remapped(["quit": ["z"], "sort": ["z"]], file: "c.toml") { lines[$0] }
        #expect(clash.map(\.description) == ["c.toml:8: 'z' is bound to both quit and sort; quit keeps it"])
    }

    @Test("OSC 52 bytes: plain, wrapped for tmux, and refused past the cap")
    func osc52() {
        #expect(Clipboard.osc52("abc", inTmux: false) == Array("\u{1B}]52;c;YWJj\u{07}".utf8))
        #expect(Clipboard.osc52("abc", inTmux: true) == Array("\u{1B}]52;c;YWJj\u{07}\u{1B}Ptmux;\u{1B}\u{1B}]52;c;YWJj\u{07}\u{1B}\\".utf8))
        #expect(Clipboard.osc52(String(repeating: "a", count: 60_000), inTmux: false) == nil)
        // Whatever the text, nothing but the base64 alphabet sits between our prefix and BEL.
        let hostile = Clipboard.osc52("\u{1B}]0;pwned\u{07}\r\n", inTmux: false)!
        let payload = hostile.dropFirst(7).dropLast()
        #expect(payload.allSatisfy { $0 >= 0x2B && $0 <= 0x7A })
    }

    func branchState() -> DashboardState {
        var state = DashboardState(width: 80, height: 24, now: Date(timeIntervalSince1970: 0))
        var level = Level(kind: .branches(accountID: 1, repositoryID: 7), title: "api", path: "bitbucket/acme/api", provider: "bitbucket")
        level.items = (0..<30).map { i in
            .branch(Store.BranchRow(branch: Branch(id: Int64(i + 1), repositoryID: 7, name: "b\(i)", headHash: String(repeating: "\(i % 10)", count: 40),
                                                   updatedAt: Date(timeIntervalSince1970: 0)),
                                    repositorySlug: "api", workspaceSlug: "acme", repositoryWebURL: "https://bitbucket.org/acme/api"))
        }
        level.total = 30
        level.loaded = true
        state.stack.append(level)
        return state
    }

    @Test("a click selects a row, a click on the selected row or a double click opens it, the wheel scrolls")
    func mouse() {
        let reducer = Reducer()
        var state = branchState()
        let top = state.layout.tableTop
        #expect(reducer.reduce(&state, .mouse(MouseEvent(x: 5, y: top + 4, kind: .click))).isEmpty)
        #expect(state.current.selection == 4)
        let effects = reducer.reduce(&state, .mouse(MouseEvent(x: 5, y: top + 4, kind: .click)))
        #expect(state.current.kind == .commits(accountID: 1, branchID: 5))
        #expect(effects.first == .reload(depth: 2))
        var other = branchState()
        _ = reducer.reduce(&other, .mouse(MouseEvent(x: 5, y: top + 2, kind: .doubleClick)))
        #expect(other.current.kind == .commits(accountID: 1, branchID: 3))
        var wheel = branchState()
        _ = reducer.reduce(&wheel, .mouse(MouseEvent(x: 0, y: 10, kind: .wheelDown)))
        _ = reducer.reduce(&wheel, .mouse(MouseEvent(x: 0, y: 10, kind: .wheelDown)))
        #expect(wheel.current.selection == 6)
        _ = reducer.reduce(&wheel, .mouse(MouseEvent(x: 0, y: 10, kind: .wheelUp)))
        #expect(wheel.current.selection == 3)
        // Clicks outside the rows do nothing.
        _ = reducer.reduce(&wheel, .mouse(MouseEvent(x: 0, y: 0, kind: .click)))
        #expect(wheel.current.selection == 3)
    }

    @Test("y copies a branch's full hash, o shows its web URL, :theme asks for a theme")
    func copyAndLinks() {
        let reducer = Reducer()
        var state = branchState()
        _ = reducer.reduce(&state, .key(.char("j")))
        #expect(reducer.reduce(&state, .key(.char("y"))) == [.copy(String(repeating: "1", count: 40))])
        _ = reducer.reduce(&state, .key(.char("o")))
        #expect(state.message?.text == "https://bitbucket.org/acme/api/branch/b1")
        for c in ":theme dracula" { _ = reducer.reduce(&state, .key(.char(c))) }
        #expect(reducer.reduce(&state, .key(.enter)) == [.setTheme("dracula")])
        state.themeNames = ["default", "dracula", "gruvbox"]
        for c in ":theme g" { _ = reducer.reduce(&state, .key(.char(c))) }
        _ = reducer.reduce(&state, .key(.tab))
        #expect(state.mode == .command("theme gruvbox"))
    }

    @Test("switching theme in the controller applies it and saves it; an unknown one is an error and changes nothing")
    func switching() throws {
        let fixture = try DashboardFixture()
        let saved = SavedNames()
        var options = DashboardOptions()
        options.themes = ThemeCatalog(userDirectory: nil)
        options.saveTheme = { name in saved.append(name); return "~/.config/slipway/config.toml" }
        let controller = DashboardController(source: fixture.source(), width: 80, height: 24, now: DashboardFixture.now, options: options)
        for c in ":theme gruvbox" { controller.send(.key(.char(c))) }
        controller.send(.key(.enter))
        #expect(controller.theme.name == "gruvbox")
        #expect(controller.themeVersion == 1)
        #expect(saved.names == ["gruvbox"])
        #expect(controller.state.message?.text == "theme gruvbox (saved as ui.theme in ~/.config/slipway/config.toml)")
        for c in ":theme nope" { controller.send(.key(.char(c))) }
        controller.send(.key(.enter))
        #expect(controller.theme.name == "gruvbox")
        #expect(controller.state.message?.isError == true)
    }

    @Test("y on a branch queues the OSC 52 bytes for the terminal")
    func copyBytes() throws {
        let fixture = try DashboardFixture()
        let controller = fixture.controller(width: 80, height: 24)
        controller.send(.key(.enter))
        controller.send(.key(.enter))
        controller.send(.key(.char("y")))
        let output = controller.takeControlOutput()
        #expect(output.count == 1)
        #expect(output.first.map { String(decoding: $0, as: UTF8.self).hasPrefix("\u{1B}]52;c;") } == true)
        #expect(controller.takeControlOutput().isEmpty)
    }
}

final class SavedNames: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ name: String) { lock.withLock { stored.append(name) } }
    var names: [String] { lock.withLock { stored } }
}
