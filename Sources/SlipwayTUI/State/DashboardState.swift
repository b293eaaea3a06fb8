import Foundation
import SlipwayCore

/// One level of the navigation stack: what it lists, how, and where the cursor is.
public struct Level: Sendable, Equatable {
    public var kind: LevelKind
    /// The crumb.
    public var title: String
    /// The mirror path of what this level lists the children of (`bitbucket/acme/api`).
    public var path: String
    public var provider: String
    /// For a branch's commits: the repository's web URL, to link each commit.
    public var webBase: String?
    public var sort: Store.BrowseSort = .name
    public var filter = ""
    public var selection = 0
    public var scrollTop = 0
    public var total = 0
    /// The loaded window of rows, starting at `windowOffset`.
    public var windowOffset = 0
    public var items: [Item] = []
    public var loaded = false
    public var loadError: String?
    /// False after a filter or sort change: the next load starts at the first row instead of
    /// following the selected row to where it moved.
    public var followSelection = true
    /// A log that follows its end as lines arrive (until the user moves up).
    public var followTail = false
    /// A log whose long lines wrap onto more rows.
    public var wrap = false
    /// This level's own choice about the detail pane, over the dashboard's (accounts show it).
    public var detail: Bool? = nil

    public init(kind: LevelKind, title: String, path: String, provider: String, webBase: String? = nil) {
        self.kind = kind
        self.title = title
        self.path = path
        self.provider = provider
        self.webBase = webBase
    }

    /// The row at an absolute index, if it is in the loaded window.
    public func item(at index: Int) -> Item? {
        let local = index - windowOffset
        guard local >= 0, local < items.count else { return nil }
        return items[local]
    }

    public var selectedItem: Item? { item(at: selection) }

    /// Whether the loaded window covers rows `range` (or all rows there are).
    public func covers(_ range: Range<Int>) -> Bool {
        guard loaded else { return false }
        let wanted = range.clamped(to: 0..<max(total, 0))
        if wanted.isEmpty { return true }
        return wanted.lowerBound >= windowOffset && wanted.upperBound <= windowOffset + items.count
    }
}

/// What the keyboard is doing: browsing, typing a filter or a command, or reading help.
public enum InputMode: Sendable, Equatable {
    case browse
    case filter
    case command(String)
    case help
    /// A question before something that cannot be undone: `y` runs the effect.
    case confirm(prompt: String, effect: Effect)
}

public struct StatusMessage: Sendable, Equatable {
    public var text: String
    public var isError: Bool
    public var until: Date
}

/// The whole dashboard as a value: the reducer changes it, views draw it.
public struct DashboardState: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var stack: [Level]
    public var mode: InputMode = .browse
    public var detailShown = false
    public var header = HeaderInfo()
    public var message: StatusMessage?
    public var now: Date
    /// Paths changed lately (with their parents), to mark their rows for a moment.
    public var recentChanges: [String: Date] = [:]
    /// Engine commands this dashboard asked for and is waiting on, with what they were for.
    public var pendingCommands: [Int64: String] = [:]
    public var helpScroll = 0
    public var asciiOnly: Bool
    public var quitRequested = false
    /// Frames of the spinner (advanced by ticks while something is busy).
    public var spinnerPhase = 0
    /// Theme names `:theme` completes, and the one in use.
    public var themeNames: [String] = []
    public var themeName = "default"
    /// A shared build host (`--readonly`, `[ui] readonly`): deploy, cancel and webhook actions are hidden and refused.
    public var readonly = false

    /// How long a changed row stays marked.
    public static let changeHighlight: TimeInterval = 3

    public init(width: Int, height: Int, now: Date, asciiOnly: Bool = false) {
        self.width = width
        self.height = height
        self.now = now
        self.asciiOnly = asciiOnly
        stack = [Level(kind: .providers, title: "Providers", path: "", provider: "")]
    }

    public var layout: Layout { Layout(width: width, height: height, detailShown: current.detail ?? detailShown) }

    public var current: Level {
        get { stack[stack.count - 1] }
        set { stack[stack.count - 1] = newValue }
    }

    /// The rows the table shows now.
    public var visibleRange: Range<Int> {
        let top = current.scrollTop
        return top..<(top + layout.tableHeight)
    }

    public func isRecentlyChanged(_ path: String) -> Bool {
        guard let at = recentChanges[path] else { return false }
        return now.timeIntervalSince(at) < Self.changeHighlight
    }
}
