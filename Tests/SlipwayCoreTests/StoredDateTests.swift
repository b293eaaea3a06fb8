import Foundation
import GRDB
import Testing
@testable import SlipwayCore

/// The store's own date text must be GRDB's, to the character: rows written either way read back
/// the same and compare the same.
@Suite("Stored dates")
struct StoredDateTests {
    @Test("StoredDate.text writes what GRDB writes for a Date, to the nearest millisecond, 1970 to 2400 and before 1970")
    func matchesGRDB() {
        var generator = SystemRandomNumberGenerator()
        var samples = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -0.5), Date(timeIntervalSince1970: 1_795_169_472.999_9),
                       Date(timeIntervalSince1970: 951_782_400),   // 2000-02-29
                       // Half a millisecond before 1970, which GRDB rounds up (a CI run found it).
                       Date(timeIntervalSince1970: -799_957_440.5195), Date(timeIntervalSince1970: -1.0005)]
        for _ in 0..<(Int(ProcessInfo.processInfo.environment["SLIPWAY_DATE_SAMPLES"] ?? "") ?? 3000) { samples.append(Date(timeIntervalSince1970: Double.random(in: -2_000_000_000...13_569_465_600, using: &generator))) }
        for date in samples {
            guard case let .string(expected) = date.databaseValue.storage else { Issue.record("GRDB stored \(date) as no text"); return }
            #expect(StoredDate.text(date) == expected, "\(date.timeIntervalSince1970)")
        }
    }
}
