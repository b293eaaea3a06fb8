/// What a cell is, not how it looks: views paint roles, the palette (and, later, themes)
/// decides colours and attributes. Tests snapshot roles without a terminal.
public enum StyleRole: String, Sendable, CaseIterable, Hashable {
    case normal
    case title
    case header
    case badgeOK = "badge_ok"
    case badgeWarning = "badge_warning"
    case badgeError = "badge_error"
    case crumbs
    case crumbsCurrent = "crumbs_current"
    case columnHeader = "column_header"
    case row
    case selected
    case match
    case selectedMatch = "selected_match"
    case changed
    case stale
    case dim
    case hash
    case hintKey = "hint_key"
    case hint
    case info
    case error
    case prompt
    case border
    case progress
    case detailLabel = "detail_label"
    // Deployment phases (App Platform's names).
    case phasePendingBuild = "PENDING_BUILD"
    case phaseBuilding = "BUILDING"
    case phasePendingDeploy = "PENDING_DEPLOY"
    case phaseDeploying = "DEPLOYING"
    case phaseActive = "ACTIVE"
    case phaseSuperseded = "SUPERSEDED"
    case phaseError = "ERROR"
    case phaseCanceled = "CANCELED"

    /// Where a theme file sets this role: `[ui] selected`, `[badges] ok`, `[phases] ACTIVE`.
    public var themeKey: (section: String, key: String) {
        switch self {
        case .badgeOK: ("badges", "ok")
        case .badgeWarning: ("badges", "warning")
        case .badgeError: ("badges", "error")
        case .phasePendingBuild, .phaseBuilding, .phasePendingDeploy, .phaseDeploying, .phaseActive, .phaseSuperseded,
             .phaseError, .phaseCanceled: ("phases", rawValue)
        default: ("ui", rawValue)
        }
    }
}
