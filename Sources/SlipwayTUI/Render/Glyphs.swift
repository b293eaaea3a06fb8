/// The few non-ASCII symbols the dashboard draws, with ASCII stand-ins for terminals whose
/// locale is not UTF-8.
public struct Glyphs: Sendable, Equatable {
    public var crumbSeparator: String
    public var ellipsis: String
    public var changedMark: String
    public var adminMark: String
    /// A repository's push webhook: delivering, waiting for its first push, or failing.
    public var hookHealthy: String
    public var hookWaiting: String
    public var hookFailing: String
    public var progressFull: String
    public var progressEmpty: String
    public var verticalRule: String
    public var horizontalRule: String
    public var spinner: [String]

    public static let unicode = Glyphs(crumbSeparator: " › ", ellipsis: "…", changedMark: "●", adminMark: "★", hookHealthy: "✓", hookWaiting: "○", hookFailing: "✗",
                                       progressFull: "█", progressEmpty: "░", verticalRule: "│", horizontalRule: "─",
                                       spinner: ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"])
    public static let ascii = Glyphs(crumbSeparator: " > ", ellipsis: "~", changedMark: "*", adminMark: "A", hookHealthy: "ok", hookWaiting: "..", hookFailing: "!!",
                                     progressFull: "#", progressEmpty: ".", verticalRule: "|", horizontalRule: "-",
                                     spinner: ["|", "/", "-", "\\"])
}
