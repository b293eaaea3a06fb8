import Foundation

/// Compact ages as dashboards show them: `now`, `45s`, `12m`, `3h`, `5d`, `7w`, `2y`.
public enum Age {
    public static func ago(_ date: Date?, now: Date) -> String {
        guard let date else { return "-" }
        return duration(now.timeIntervalSince(date))
    }

    /// `just now`, `5m ago`, `in 2h`; `never` without a date: a phrase, never "now ago".
    public static func phrase(_ date: Date?, now: Date) -> String {
        guard let date else { return "never" }
        let seconds = now.timeIntervalSince(date)
        if abs(seconds) < 2 { return "just now" }
        return seconds > 0 ? "\(duration(seconds)) ago" : "in \(duration(-seconds))"
    }

    /// How long something took or has run: `0.4s`, `12s`, `3m05s`, `2h10m` (never "now").
    public static func elapsed(_ seconds: TimeInterval) -> String {
        let s = max(0, seconds)
        if s < 10 { return String(format: "%.1fs", s) }
        return countdown(s.rounded(.down))
    }

    public static func duration(_ seconds: TimeInterval) -> String {
        let s = Int(max(0, seconds).rounded(.down))
        switch s {
        case ..<2: return "now"
        case ..<60: return "\(s)s"
        case ..<3600: return "\(s / 60)m"
        case ..<86400: return "\(s / 3600)h"
        case ..<(14 * 86400): return "\(s / 86400)d"
        case ..<(365 * 86400): return "\(s / (7 * 86400))w"
        default: return "\(s / (365 * 86400))y"
        }
    }

    /// A countdown such as `4m12s`, `38s`.
    public static func countdown(_ seconds: TimeInterval) -> String {
        let s = Int(max(0, seconds).rounded(.up))
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
        if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s)s"
    }
}
