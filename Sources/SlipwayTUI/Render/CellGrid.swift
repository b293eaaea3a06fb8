/// One screen cell: a grapheme (empty for the right half of a wide character) and its role.
public struct Cell: Sendable, Equatable {
    public var text: String
    public var role: StyleRole

    public static let blank = Cell(text: " ", role: .normal)
    /// The second column of a two-column character; painted by the character before it.
    public static func continuation(_ role: StyleRole) -> Cell { Cell(text: "", role: role) }

    public var isContinuation: Bool { text.isEmpty }
}

/// The frame a view draws into: width × height cells. Text is measured by display width, cut
/// with an ellipsis, and never contains a control character (`TerminalText` runs first).
public struct CellGrid: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    /// When the locale is not UTF-8, anything outside ASCII is drawn as `?`.
    public var asciiOnly: Bool
    public var glyphs: Glyphs { asciiOnly ? .ascii : .unicode }

    public init(width: Int, height: Int, asciiOnly: Bool = false) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.asciiOnly = asciiOnly
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// Fills a row segment with spaces of a role.
    public mutating func fill(y: Int, from x: Int = 0, to end: Int? = nil, role: StyleRole) {
        guard y >= 0, y < height else { return }
        for column in max(0, x)..<min(width, end ?? width) { self[column, y] = Cell(text: " ", role: role) }
    }

    /// Writes text at (x, y) in at most `limit` columns (to the row's end by default), cutting
    /// with an ellipsis. The text must already be sanitized. Returns the columns used.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, limit: Int? = nil, role: StyleRole) -> Int {
        put(text, x: x, y: y, limit: limit) { _ in role }
    }

    /// Like `put`, with a role per character offset (for highlighted filter matches).
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, limit: Int? = nil, role: (Int) -> StyleRole) -> Int {
        guard y >= 0, y < height, x < width, x >= 0 else { return 0 }
        let available = min(limit ?? (width - x), width - x)
        guard available > 0 else { return 0 }
        let shown = asciiOnly ? Self.ascii(text) : text
        let fits = DisplayWidth.of(shown) <= available
        let ellipsis = glyphs.ellipsis
        var column = x
        var offset = 0
        let end = x + available - (fits ? 0 : 1)
        for character in shown {
            let w = min(2, DisplayWidth.of(String(character)))
            if w == 0 { offset += 1; continue }
            if column + w > end { break }
            let cellRole = role(offset)
            self[column, y] = Cell(text: String(character), role: cellRole)
            if w == 2 { self[column + 1, y] = .continuation(cellRole) }
            column += w
            offset += 1
        }
        if !fits, column < width {
            self[column, y] = Cell(text: ellipsis, role: role(max(0, offset - 1)))
            column += 1
        }
        return column - x
    }

    /// Our own punctuation keeps its sense in ASCII; anything else outside ASCII becomes `?`.
    static func ascii(_ text: String) -> String {
        let table: [Unicode.Scalar: String] = ["“": "\"", "”": "\"", "·": "-", "—": "-", "…": "~", "×": "x", "▏": "_",
                                               "→": ">", "←": "<", "↑": "^", "↓": "v", "›": ">"]
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.isASCII { out.unicodeScalars.append(scalar) } else { out += table[scalar] ?? "?" }
        }
        return out
    }

    /// The grid as plain text, one line per row, trailing spaces kept (snapshots).
    public var text: String {
        (0..<height).map(line).joined(separator: "\n")
    }

    public func line(_ y: Int) -> String {
        var out = ""
        for x in 0..<width where !self[x, y].isContinuation { out += self[x, y].text }
        return out
    }

    /// The roles of a row, one letter per cell, for tests that check styling.
    public func roles(_ y: Int) -> [StyleRole] { (0..<width).map { self[$0, y].role } }
}
