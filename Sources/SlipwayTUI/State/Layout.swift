/// Where each part of the screen goes at a given size (views draw there; the reducer scrolls by it).
public struct Layout: Sendable, Equatable {
    public static let minimumWidth = 40
    public static let minimumHeight = 10

    public var width: Int
    public var height: Int
    public var detailShown: Bool

    /// Below this height the detail pane stays closed: it would leave the list a row or two.
    public static let minimumDetailHeight = 16

    public init(width: Int, height: Int, detailShown: Bool) {
        self.width = width
        self.height = height
        self.detailShown = detailShown && height >= Self.minimumDetailHeight
    }

    public var tooSmall: Bool { width < Self.minimumWidth || height < Self.minimumHeight }

    public var headerRow: Int { 0 }
    public var crumbsRow: Int { 1 }
    public var columnHeaderRow: Int { 2 }
    public var tableTop: Int { 3 }
    /// The detail pane's height including its top rule.
    public var detailHeight: Int { detailShown ? min(12, max(5, height / 3)) : 0 }
    public var statusRow: Int { height - 1 }
    public var tableHeight: Int { max(1, height - tableTop - 1 - detailHeight) }
    public var detailTop: Int { statusRow - detailHeight }
}
