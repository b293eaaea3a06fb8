import Foundation

/// Providers' timestamps come in several shapes (Bitbucket sends all of them, GitHub the first and
/// `Z` ones): `2026-11-20T10:11:12+00:00`,
/// `…12.345678+00:00`, `…12.123456789Z`, fractions of any length. Foundation's ISO 8601 parser takes
/// at most milliseconds, so the fraction is parsed here.
public enum ProviderDate {
    public static func parse(_ text: String) -> Date? {
        var text = Substring(text.trimmingCharacters(in: .whitespaces))
        // Split off the zone: Z, +HH:MM, -HH:MM, +HHMM.
        var offsetSeconds = 0
        if text.hasSuffix("Z") || text.hasSuffix("z") {
            text = text.dropLast()
        } else if text.count > 6, let signIndex = text.lastIndex(where: { $0 == "+" || $0 == "-" }),
                  text.distance(from: text.startIndex, to: signIndex) > 10 {
            let zone = text[text.index(after: signIndex)...].replacingOccurrences(of: ":", with: "")
            guard zone.count == 4, let hours = Int(zone.prefix(2)), let minutes = Int(zone.suffix(2)) else { return nil }
            offsetSeconds = (hours * 3600 + minutes * 60) * (text[signIndex] == "-" ? -1 : 1)
            text = text[..<signIndex]
        }
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...]
            guard !digits.isEmpty, digits.allSatisfy(\.isNumber) else { return nil }
            fraction = Double("0." + digits) ?? 0
            text = text[..<dot]
        }
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == "T" || $0 == ":" || $0 == " " }).map { Int($0) }
        guard parts.count == 6, let y = parts[0], let mo = parts[1], let d = parts[2], let h = parts[3], let mi = parts[4], let s = parts[5] else {
            return nil
        }
        // Impossible dates are refused, not rolled over (the calendar would make 2026-13-45 a
        // day in 2027): every field in range, the day within its month (leap years included).
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(mo), (1...days[mo - 1]).contains(d), (0...23).contains(h), (0...59).contains(mi), (0...60).contains(s) else {
            return nil
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let base = calendar.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s)) else { return nil }
        return base.addingTimeInterval(fraction - Double(offsetSeconds))
    }
}
