import Foundation

/// A date as the store keeps it — GRDB's text form, `yyyy-MM-dd HH:mm:ss.SSS` in UTC, to the
/// nearest millisecond as its formatter rounds — written without a `DateFormatter` (an initial
/// sync stores two per branch, tens of thousands of them). GRDB reads it back like its own.
enum StoredDate {
    static func text(_ date: Date) -> String {
        // Half a millisecond rounds up, before 1970 too (-0.4805 s is .481 of the second before),
        // as GRDB's formatter rounds the fraction of the second.
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000 + 0.5).rounded(.down))
        var seconds = milliseconds / 1000
        var millis = Int(milliseconds % 1000)
        if millis < 0 { millis += 1000; seconds -= 1 }
        var days = seconds / 86400
        var rest = Int(seconds % 86400)
        if rest < 0 { rest += 86400; days -= 1 }
        let (year, month, day) = civil(fromDays: days)
        var out = [UInt8](repeating: 0, count: 23)
        func put(_ value: Int, at index: Int, width: Int) {
            var v = value
            for offset in stride(from: width - 1, through: 0, by: -1) {
                out[index + offset] = UInt8(48 + v % 10)
                v /= 10
            }
        }
        put(Int(year), at: 0, width: 4)
        out[4] = 45
        put(month, at: 5, width: 2)
        out[7] = 45
        put(day, at: 8, width: 2)
        out[10] = 32
        put(rest / 3600, at: 11, width: 2)
        out[13] = 58
        put(rest / 60 % 60, at: 14, width: 2)
        out[16] = 58
        put(rest % 60, at: 17, width: 2)
        out[19] = 46
        put(millis, at: 20, width: 3)
        return String(decoding: out, as: UTF8.self)
    }

    /// Days since 1970-01-01 → proleptic Gregorian year, month, day (H. Hinnant's algorithm).
    static func civil(fromDays days: Int64) -> (Int64, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
