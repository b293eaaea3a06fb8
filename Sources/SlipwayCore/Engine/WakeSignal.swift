import Foundation
import SlipwayHTTP

/// Lets a runner sleep until its next look or until another process commits.
actor WakeSignal {
    private var pending = false
    private var waiter: CheckedContinuation<Void, Never>?

    func fire() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        } else {
            pending = true
        }
    }

    func wait(upTo seconds: TimeInterval, clock: any SlipwayClock) async {
        if pending { pending = false; return }
        let timer = Task { [weak self] in
            try? await clock.sleep(for: seconds)
            await self?.fire()
        }
        await withCheckedContinuation { continuation in waiter = continuation }
        timer.cancel()
        pending = false
    }
}
