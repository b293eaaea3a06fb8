import Foundation

/// Wall-clock time, injected so that backoff, pauses and token refills can be tested with a
/// virtual clock instead of sleeping.
public protocol SlipwayClock: Sendable {
    var now: Date { get }
    /// Suspends until `deadline` (or returns at once if it has passed); throws on cancellation.
    func sleep(until deadline: Date) async throws
}

extension SlipwayClock {
    public func sleep(for seconds: TimeInterval) async throws {
        try await sleep(until: now.addingTimeInterval(seconds))
    }
}

/// The real clock.
public struct SystemClock: SlipwayClock {
    public init() {}

    public var now: Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000)) }
        try Task.checkCancellation()
    }
}

/// A clock that moves only when told to. Sleepers wake, in deadline order, when `advance`
/// passes their deadline. `sleepers` lets a test wait until the code under test is parked.
public final class VirtualClock: SlipwayClock, @unchecked Sendable {
    private struct Sleeper {
        var id: UInt64
        var deadline: Date
        var continuation: CheckedContinuation<Void, any Error>
    }

    // All state is guarded by `lock`.
    private let lock = NSLock()
    private var current: Date
    private var sleeping: [Sleeper] = []
    private var nextID: UInt64 = 0

    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = start
    }

    public var now: Date {
        lock.lock(); defer { lock.unlock() }
        return current
    }

    /// How many tasks are suspended in `sleep` right now.
    public var sleepers: Int {
        lock.lock(); defer { lock.unlock() }
        return sleeping.count
    }

    /// The earliest pending wake-up, if any.
    public var nextDeadline: Date? {
        lock.lock(); defer { lock.unlock() }
        return sleeping.map(\.deadline).min()
    }

    public func sleep(until deadline: Date) async throws {
        let id: UInt64 = {
            lock.lock(); defer { lock.unlock() }
            nextID += 1
            return nextID
        }()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                lock.lock()
                if Task.isCancelled {
                    lock.unlock()
                    continuation.resume(throwing: CancellationError())
                } else if deadline <= current {
                    lock.unlock()
                    continuation.resume()
                } else {
                    sleeping.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    lock.unlock()
                }
            }
        } onCancel: {
            lock.lock()
            let index = sleeping.firstIndex { $0.id == id }
            let sleeper = index.map { sleeping.remove(at: $0) }
            lock.unlock()
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    public func advance(by seconds: TimeInterval) {
        lock.lock()
        current = current.addingTimeInterval(seconds)
        let due = sleeping.filter { $0.deadline <= current }.sorted { $0.deadline < $1.deadline }
        sleeping.removeAll { $0.deadline <= current }
        lock.unlock()
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves time to the next deadline (if any) and wakes those sleepers.
    @discardableResult
    public func advanceToNextDeadline() -> Bool {
        guard let next = nextDeadline else { return false }
        advance(by: max(0, next.timeIntervalSince(now)))
        return true
    }
}
