import Foundation

/// At most N requests in flight per credential; waiting interactive requests go before waiting
/// background ones, first come first served within a lane.
final class InFlightLimiter: @unchecked Sendable {
    private struct Waiter {
        var id: UInt64
        var lane: RequestLane
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Slot {
        var inFlight = 0
        var waiters: [Waiter] = []
    }

    // Guarded by `lock`.
    private let lock = NSLock()
    private var slots: [String: Slot] = [:]
    private var nextID: UInt64 = 0

    func inFlight(_ credential: String) -> Int {
        lock.withLock { slots[credential]?.inFlight ?? 0 }
    }

    func waiting(_ credential: String) -> Int {
        lock.withLock { slots[credential]?.waiters.count ?? 0 }
    }

    func acquire(_ credential: String, limit: Int, lane: RequestLane) async throws {
        let id: UInt64 = lock.withLock { nextID += 1; return nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                lock.lock()
                var slot = slots[credential] ?? Slot()
                if Task.isCancelled {
                    lock.unlock()
                    continuation.resume(throwing: CancellationError())
                    return
                }
                if slot.inFlight < max(1, limit) && slot.waiters.isEmpty {
                    slot.inFlight += 1
                    slots[credential] = slot
                    lock.unlock()
                    continuation.resume()
                    return
                }
                // Interactive waiters go ahead of every background waiter.
                let index = slot.waiters.firstIndex { $0.lane > lane } ?? slot.waiters.endIndex
                slot.waiters.insert(Waiter(id: id, lane: lane, continuation: continuation), at: index)
                slots[credential] = slot
                lock.unlock()
            }
        } onCancel: {
            lock.lock()
            let index = slots[credential]?.waiters.firstIndex { $0.id == id }
            let waiter = index.map { slots[credential]!.waiters.remove(at: $0) }
            lock.unlock()
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    func release(_ credential: String, limit: Int) {
        lock.lock()
        guard var slot = slots[credential] else { lock.unlock(); return }
        slot.inFlight -= 1
        var woken: Waiter?
        if slot.inFlight < max(1, limit), !slot.waiters.isEmpty {
            woken = slot.waiters.removeFirst()
            slot.inFlight += 1
        }
        slots[credential] = slot
        lock.unlock()
        woken?.continuation.resume()
    }
}
