import Foundation
import SlipwayCore
import SlipwayTUI

/// Times in text output the way `gh` prints them: `5m ago`, `in 2h`, `just now`. JSON keeps
/// exact ISO 8601 timestamps.
enum RelativeTime {
    static func text(_ date: Date?, now: Date = Date()) -> String? {
        guard let date else { return nil }
        let seconds = now.timeIntervalSince(date)
        if abs(seconds) < 2 { return "just now" }
        return seconds > 0 ? "\(Age.duration(seconds)) ago" : "in \(Age.duration(-seconds))"
    }

    /// `5m ago (2026-11-29T12:00:00Z)`, for single facts where the exact time helps.
    static func withTimestamp(_ date: Date, now: Date = Date()) -> String {
        "\(text(date, now: now) ?? "") (\(JSONOutput.timestamp(date)))"
    }
}
