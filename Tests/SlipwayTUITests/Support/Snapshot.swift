import Foundation
import Testing
@testable import SlipwayTUI

/// Text snapshots of rendered frames, kept beside the tests. `SLIPWAY_RECORD_SNAPSHOTS=1`
/// rewrites them; a missing one is written and reported, so a new screen is reviewed once.
enum Snapshot {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Snapshots")

    static func check(_ grid: CellGrid, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        checkInvariants(grid, name, sourceLocation: sourceLocation)
        let text = grid.text + "\n"
        let file = directory.appendingPathComponent(name + ".txt")
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
