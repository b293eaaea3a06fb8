/// A table column: a minimum width, a share of what is left, and whether it may be dropped
/// when the terminal is narrow.
public struct Column: Sendable, Equatable {
    public var title: String
    public var minWidth: Int
    public var weight: Int
    public var maxWidth: Int?
    public var optional: Bool
    public var alignRight: Bool

    public init(_ title: String, min: Int, weight: Int = 0, max: Int? = nil, optional: Bool = false, alignRight: Bool = false) {
        self.title = title
        minWidth = min
        self.weight = weight
        maxWidth = max
        self.optional = optional
        self.alignRight = alignRight
    }

    /// Widths for `columns` in `total` columns (one space between columns); dropped columns get 0.
    public static func widths(_ columns: [Column], total: Int) -> [Int] {
        var shown = columns.map { _ in true }
        func needed() -> Int {
            zip(columns, shown).filter(\.1).map { $0.0.minWidth }.reduce(0, +) + max(0, shown.filter { $0 }.count - 1)
        }
        // Drop optional columns from the right until the minimums fit.
        for index in columns.indices.reversed() where needed() > total && columns[index].optional { shown[index] = false }
        var widths = zip(columns, shown).map { $0.1 ? $0.0.minWidth : 0 }
        var spare = max(0, total - needed())
        // Share what is left by weight, respecting maximums, until nothing changes.
        while spare > 0 {
            let growable = columns.indices.filter { shown[$0] && columns[$0].weight > 0 && widths[$0] < (columns[$0].maxWidth ?? Int.max) }
            guard !growable.isEmpty else { break }
            let weights = growable.map { columns[$0].weight }.reduce(0, +)
            var given = 0
            for index in growable {
                let share = max(1, spare * columns[index].weight / weights)
                let room = (columns[index].maxWidth ?? Int.max) - widths[index]
                let add = min(share, room, spare - given)
                widths[index] += add
                given += add
                if given >= spare { break }
            }
            guard given > 0 else { break }
            spare -= given
        }
        return widths
    }
}
