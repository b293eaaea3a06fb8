import Foundation
import Testing
@testable import SlipwayTUI

@Suite("Key bindings")
struct KeymapTests {
    @Test("a key is bound once wherever it applies (only disjoint scopes share one), and every action has a binding")
    func unique() {
        let bindings = Keymap.standard.bindings
        for (i, a) in bindings.enumerated() {
            for b in bindings[(i + 1)...] where !Set(a.keys).isDisjoint(with: b.keys) {
                #expect(!a.scope.overlaps(b.scope), "\(a.action) and \(b.action) share a key where both apply")
            }
        }
        #expect(Set(bindings.map(\.action)) == Set(BindingAction.allCases))
        #expect(Keymap.standard.action(for: .char("w"), in: .log(deploymentID: 1)) == .wrap)
        #expect(Keymap.standard.action(for: .char("w"), in: .repositories(accountID: 1, workspaceID: nil)) == .webhook)
        #expect(Keymap.standard.action(for: .char("j"), in: .log(deploymentID: 1)) == .down)
    }

    @Test("remaps conflict only where both bindings apply")
    func scopedRemaps() {
        // webhook and wrap may both take W: they never apply to the same list.
        var (keymap, problems) = Keymap.standard.remapped(["webhook": ["W"], "wrap": ["W"]], file: "config.toml") { _ in 3 }
        #expect(problems.isEmpty)
        #expect(keymap.action(for: .char("W"), in: .log(deploymentID: 1)) == .wrap)
        #expect(keymap.action(for: .char("W"), in: .repositories(accountID: 1, workspaceID: nil)) == .webhook)
        // sort applies everywhere: taking w from both is reported once for each.
        (keymap, problems) = Keymap.standard.remapped(["sort": ["w"]], file: "config.toml") { _ in 4 }
        #expect(problems.map(\.message).sorted() == ["'w' now means sort, no longer webhook", "'w' now means sort, no longer wrap"])
        #expect(keymap.action(for: .char("w"), in: .log(deploymentID: 1)) == .sort)
    }

    @Test("key names read back as keys")
    func names() {
        for key in Keymap.standard.bindings.flatMap(\.keys) {
            #expect(Key(name: key.label) == key, "\(key.label)")
        }
        #expect(Key(name: "ctrl-d") == .ctrl("d"))
        #expect(Key(name: "space") == .char(" "))
        #expect(Key(name: "nonsense") == nil)
    }

    @Test("the README's key table is the one the declarations generate")
    func readme() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let begin = try #require(readme.range(of: "<!-- keys:begin -->\n"))
        let end = try #require(readme.range(of: "\n<!-- keys:end -->"))
        let table = String(readme[begin.upperBound..<end.lowerBound])
        #expect(table == Keymap.standard.markdownTable(), "replace the README's table with:\n\(Keymap.standard.markdownTable())")
    }

    @Test("the help screen and the status bar come from the same declarations")
    func helpAndHints() {
        let help = HelpView.lines(keymap: .standard).map(\.0).joined(separator: "\n")
        for binding in Keymap.standard.bindings {
            #expect(help.contains(binding.help))
        }
    }
}

@Suite("Cell grid")
struct CellGridTests {
    @Test("wide characters take two cells and are cut with an ellipsis, never split")
    func wide() {
        var grid = CellGrid(width: 10, height: 1)
        let used = grid.put("日本語のブランチ", x: 0, y: 0, role: .row)
        #expect(used == 9)
        #expect(grid.line(0) == "日本語の… ")
        #expect(grid[1, 0].isContinuation)
        var odd = CellGrid(width: 6, height: 1)
        odd.put("ab日本", x: 0, y: 0, limit: 5, role: .row)
        #expect(odd.line(0) == "ab日… ")
    }

    @Test("text that fits is written whole; roles can differ per character")
    func roles() {
        var grid = CellGrid(width: 8, height: 1)
        grid.put("main", x: 1, y: 0) { $0 < 2 ? .match : .row }
        #expect(grid.line(0) == " main   ")
        #expect(grid.roles(0).prefix(5) == [.normal, .match, .match, .row, .row])
    }

    @Test("ASCII mode keeps our punctuation readable and turns the rest into ?")
    func ascii() {
        var grid = CellGrid(width: 20, height: 1, asciiOnly: true)
        grid.put("a › “b” 日", x: 0, y: 0, role: .row)
        #expect(grid.line(0) == "a > \"b\" ?           ")
    }

    @Test("columns share the width by weight and drop optional ones when narrow")
    func columns() {
        let columns = [Column("A", min: 10, weight: 1), Column("B", min: 5), Column("C", min: 10, weight: 3, optional: true)]
        #expect(Column.widths(columns, total: 60) == [19, 5, 34])
        #expect(Column.widths(columns, total: 20) == [14, 5, 0])
    }

    @Test("ages are compact")
    func ages() {
        #expect(Age.duration(0) == "now")
        #expect(Age.duration(59) == "59s")
        #expect(Age.duration(3599) == "59m")
        #expect(Age.duration(7200) == "2h")
        #expect(Age.duration(3 * 86400) == "3d")
        #expect(Age.duration(30 * 86400) == "4w")
        #expect(Age.countdown(252) == "4m12s")
    }
}
