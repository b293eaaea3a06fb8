import Foundation
import SlipwayHTTP
import Synchronization

/// Something that happens once (a process ended, a stop was asked for). Waiters are resumed
/// when it fires, at once if it already has; a waiting task that is cancelled stops waiting.
final class Signal: Sendable {
    private struct State {
        var fired = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    init() {}

    var hasFired: Bool { state.withLock { $0.fired } }

    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once fired, or once the calling task is cancelled.
    func wait() async {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.fired || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

extension SlipwayClock {
    /// Suspends until `deadline` passes on this clock or any of `signals` fires, whichever comes
    /// first: the deployer's policy waits (settle, readiness, restart pauses) run on the clock
    /// while a process's end still wakes them at once.
    func sleep(until deadline: Date, orUntilAnyOf signals: [Signal]) async {
        guard !signals.contains(where: \.hasFired) else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await self.sleep(until: deadline) }
            for signal in signals { group.addTask { await signal.wait() } }
            await group.next()
            group.cancelAll()
        }
    }
}
