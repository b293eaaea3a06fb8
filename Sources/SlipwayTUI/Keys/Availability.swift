import SlipwayCore

/// When a binding works, declared with it (as lazygit's bindings do): the status bar shows only
/// what works here, and a key pressed elsewhere says why not. One declaration feeds the hints,
/// the refusal, the help screen and the README.
public enum Availability: String, Sendable, Equatable, CaseIterable {
    case always
    /// Somewhere to go back to: a level below the top, or a filter to clear.
    case canGoBack
    /// The selected row opens (drills in, or shows its detail).
    case onSelection
    /// More than one sort order on this list.
    case sortable
    /// A repository or branch row, or a branch's commits.
    case refreshable
    /// A row with a hash or a web page.
    case onCopyable
    case onWebPage
    /// An app row or an app's deployments, and a host that is not read-only.
    case onApp
    /// A queued or running deployment (or an app with one), and not read-only.
    case onCancellable
    /// A repository row, and not read-only.
    case onRepository
    /// A deployment's log.
    case inLog

    /// Where it works, for help and the README.
    public var place: String {
        switch self {
        case .always: ""
        case .canGoBack: "below the top level"
        case .onSelection: "on a row"
        case .sortable: "lists with several orders"
        case .refreshable: "repositories, branches, commits"
        case .onCopyable: "rows with a hash or a web page"
        case .onWebPage: "rows with a web page"
        case .onApp: "apps"
        case .onCancellable: "running deployments"
        case .onRepository: "repository lists"
        case .inLog: "log views"
        }
    }

    /// Nil when the binding works in `state`; else why not, in a few words.
    public func refusal(in state: DashboardState) -> String? {
        let level = state.current
        let item = level.selectedItem
        switch self {
        case .always:
            return nil
        case .canGoBack:
            return state.stack.count > 1 || !level.filter.isEmpty ? nil : "already at the top"
        case .onSelection:
            return item == nil ? "nothing selected" : nil
        case .sortable:
            return level.kind.sorts.count > 1 ? nil : "this list has one order"
        case .refreshable:
            switch (level.kind, item) {
            case (_, .repository?), (.branches, .branch?), (.branches(_, _?), _), (.commits, _): return nil
            default: return "select a repository or branch to refresh; the engine keeps the rest fresh"
            }
        case .onCopyable:
            switch item {
            case nil: return "nothing selected"
            case .branch?, .commit?, .deployment?, .logLine?, .account?: return nil
            case let item?: return Reducer.webURL(of: item, level: level) == nil ? "nothing to copy on this row" : nil
            }
        case .onWebPage:
            return item.flatMap { Reducer.webURL(of: $0, level: level) } == nil ? "this row has no web page" : nil
        case .onApp:
            if state.readonly { return "read-only: this host does not deploy from here" }
            return Reducer.selectedApp(state) == nil ? "select an app to deploy (:apps)" : nil
        case .onCancellable:
            if state.readonly { return "read-only: this host cancels nothing from here" }
            return Reducer.cancellable(state) == nil ? "select a queued or running deployment to cancel" : nil
        case .onRepository:
            if state.readonly { return "read-only: this host installs no webhooks" }
            guard case .repository? = item else {
                if case .repositories = level.kind { return "select a repository to install its push webhook" }
                return "webhooks are installed from a repository list"
            }
            return nil
        case .inLog:
            if case .log = level.kind { return nil }
            return "only in a deployment's log"
        }
    }
}
