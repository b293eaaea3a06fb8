import Foundation
import Testing
@testable import SlipwayTUI

/// Text snapshots of rendered frames, kept beside the tests. `SLIPWAY_RECORD_SNAPSHOTS=1`
/// rewrites them; a missing one is written and reported, so a new screen is reviewed once.
enum Snapshot {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Snapshots")

    /// With `roles`, the style roles are kept too (`<name>.roles.txt`: per row, runs of `role×cells`),
    /// so a screen whose colours matter cannot change them unseen.
    static func check(_ grid: CellGrid, _ name: String, roles: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
        checkInvariants(grid, name, sourceLocation: sourceLocation)
        compare(grid.text + "\n", file: name + ".txt", sourceLocation: sourceLocation)
        if roles { compare(roleText(grid), file: name + ".roles.txt", sourceLocation: sourceLocation) }
    }

    static func roleText(_ grid: CellGrid) -> String {
        (0..<grid.height).map { y in
            var runs: [(StyleRole, Int)] = []
            for role in grid.roles(y) {
                if let last = runs.last, last.0 == role { runs[runs.count - 1].1 += 1 } else { runs.append((role, 1)) }
            }
            return runs.map { "\($0.0.rawValue)×\($0.1)" }.joined(separator: " ")
        }.joined(separator: "\n") + "\n"
    }

    private static func compare(_ text: String, file name: String, sourceLocation: SourceLocation) {
        let file = directory.appendingPathComponent(name)
        let record = ProcessInfo.processInfo.environment["SLIPWAY_RECORD_SNAPSHOTS"] == "1"
        guard !record, let stored = try? String(contentsOf: file, encoding: .utf8) else {
            try? text.write(to: file, atomically: true, encoding: .utf8)
            if !record { Issue.record("recorded a new snapshot \(name); review and commit it", sourceLocation: sourceLocation) }
            return
        }
        #expect(stored == text, "snapshot \(name) differs:\n\(text)", sourceLocation: sourceLocation)
    }

    /// Every frame: each row exactly as wide as the grid, and no control, escape or bidi
    /// character in any cell.
    static func checkInvariants(_ grid: CellGrid, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for y in 0..<grid.height {
            let line = grid.line(y)
            #expect(DisplayWidth.of(line) == grid.width, "\(name) row \(y) is \(DisplayWidth.of(line)) wide: \(line)", sourceLocation: sourceLocation)
            #expect(!TerminalText.needsSanitizing(line), "\(name) row \(y) holds a control character: \(line.debugDescription)", sourceLocation: sourceLocation)
        }
    }
}
