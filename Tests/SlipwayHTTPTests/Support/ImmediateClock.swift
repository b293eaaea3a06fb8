import Foundation
import SlipwayHTTP

/// A clock for integration tests that never waits: every sleep returns at once, moves time
/// forward and is recorded, so retry delays can be checked without sleeping.
final class ImmediateClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private var recorded: [TimeInterval] = []

    init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    var sleeps: [TimeInterval] { lock.withLock { recorded } }
}

extension ImmediateClock: SlipwayClock {
    var now: Date { lock.withLock { current } }

    func sleep(until deadline: Date) async throws {
        try Task.checkCancellation()
        lock.withLock {
            recorded.append(max(0, deadline.timeIntervalSince(current)))
            if deadline > current { current = deadline }
        }
    }
}
