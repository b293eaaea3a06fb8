import Foundation

/// Providers' timestamps come in several shapes (Bitbucket sends all of them, GitHub the first and
/// `Z` ones): `2026-11-20T10:11:12+00:00`, `…12.345678+00:00`, `…12.123456789Z`, fractions of any
/// length, a space for the `T`, `+HHMM` zones. Foundation's ISO 8601 parser takes at most
/// milliseconds, so the text is parsed here — byte by byte, with no calendar: an initial sync
/// parses one per branch, tens of thousands of them.
public enum ProviderDate {
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 }
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        var start = 0, end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        // The zone: Z, +HH:MM, -HH:MM, +HHMM (a sign past the date part).
        var offsetSeconds = 0
        if end > start, bytes[end - 1] == 90 || bytes[end - 1] == 122 {
            end -= 1
        } else if end - start > 6, let sign = (start..<end).last(where: { bytes[$0] == 43 || bytes[$0] == 45 }), sign - start > 10 {
            var zone: [Int] = []
            for index in (sign + 1)..<end where bytes[index] != 58 {
                guard isDigit(bytes[index]) else { return nil }
                zone.append(Int(bytes[index]) - 48)
            }
            guard zone.count == 4 else { return nil }
            offsetSeconds = ((zone[0] * 10 + zone[1]) * 3600 + (zone[2] * 10 + zone[3]) * 60) * (bytes[sign] == 45 ? -1 : 1)
            end = sign
        }
        // A fraction of any length.
        var fraction = 0.0
        if let dot = (start..<end).first(where: { bytes[$0] == 46 }) {
            guard dot + 1 < end else { return nil }
            var scale = 0.1
            for index in (dot + 1)..<end {
                guard isDigit(bytes[index]) else { return nil }
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
            }
            end = dot
        }
        // Six numbers separated by `-`, `T`, `:` or spaces.
        var parts: [Int] = []
        var current: Int?
        for index in start..<end {
            let b = bytes[index]
            if isDigit(b) {
                let value = (current ?? 0) * 10 + Int(b - 48)
                guard value < 1_000_000_000 else { return nil }
                current = value
            } else if b == 45 || b == 84 || b == 58 || isSpace(b) {
                if let number = current { parts.append(number) }
                current = nil
            } else {
                return nil
            }
        }
        if let number = current { parts.append(number) }
        guard parts.count == 6 else { return nil }
        let (y, mo, d, h, mi, s) = (parts[0], parts[1], parts[2], parts[3], parts[4], parts[5])
        // Impossible dates are refused, not rolled over (2026-13-45 is no day in 2027): every field
        // in range, the day within its month (leap years included).
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(mo), (1...days[mo - 1]).contains(d), (0...23).contains(h), (0...59).contains(mi), (0...60).contains(s) else {
            return nil
        }
        let seconds = daysFromCivil(year: y, month: mo, day: d) * 86400 + h * 3600 + mi * 60 + s
        return Date(timeIntervalSince1970: Double(seconds) + fraction - Double(offsetSeconds))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
