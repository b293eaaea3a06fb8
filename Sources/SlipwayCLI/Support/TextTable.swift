import SlipwayTUI

/// A plain aligned table for terminal output. Cells are sanitized: provider strings never
/// reach the terminal raw.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) {
        self.headers = headers
    }

    mutating func add(_ cells: String?...) {
        rows.append(cells.map { TerminalText.sanitize($0 ?? "-") })
    }

    func render() -> String {
        // Columns are measured in terminal cells, so CJK and emoji line up.
        var widths = headers.map(DisplayWidth.of)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], DisplayWidth.of(cell)) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[i] - DisplayWidth.of(cell)))
            }.joined(separator: "  ")
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}
