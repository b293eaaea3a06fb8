import Foundation
import Testing
@testable import SlipwayCore

@Suite("JSON output")
struct JSONOutputTests {
    /// What `timestamp` replaced: the contract's format is the formatter's.
    static func formatterTimestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let whole = date.timeIntervalSince1970.rounded(.down) == date.timeIntervalSince1970
        formatter.formatOptions = whole ? [.withInternetDateTime] : [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    @Test("timestamps are written exactly as ISO8601DateFormatter writes them, whole seconds and fractions alike")
    func timestampsMatchTheFormatter() {
        // A fixed sequence (a 64-bit LCG), so the test checks the same dates every run.
        struct Sequence: RandomNumberGenerator {
            var state: UInt64 = 0x5EED
            mutating func next() -> UInt64 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return state
            }
        }
        var generator = Sequence()
        var dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_800_000_000), Date(timeIntervalSince1970: 1_800_000_000.5),
                     Date(timeIntervalSince1970: 951_782_400), Date(timeIntervalSince1970: 4_102_444_799.999), Date(timeIntervalSince1970: 1_700_000_000.001)]
        for _ in 0..<5000 {
            let seconds = Double.random(in: 0..<4_102_444_800, using: &generator)
            dates.append(Date(timeIntervalSince1970: Bool.random(using: &generator) ? seconds.rounded(.down) : seconds))
        }
        dates += [1796202038.3065, 3618846060.4575, 757710710.5595, 1_800_000_000.9996].map { Date(timeIntervalSince1970: $0) }
        for date in dates {
            #expect(JSONOutput.timestamp(date) == Self.formatterTimestamp(date), "\(date.timeIntervalSince1970)")
        }
        // And it reads back.
        #expect(JSONOutput.parseTimestamp(JSONOutput.timestamp(Date(timeIntervalSince1970: 1_800_000_000.25)))?.timeIntervalSince1970 == 1_800_000_000.25)
    }
}
