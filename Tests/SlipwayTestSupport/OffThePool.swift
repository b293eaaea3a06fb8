import Foundation

/// Blocking work — a child's pipe read to its end, `waitUntilExit` — on a thread of its own.
/// The cooperative pool has one thread per core (two on CI), and an in-process sandbox or server
/// needs that pool to answer: a test that blocks a pool thread on a child talking to it can stall
/// the whole suite. `Task.detached` is no way out; it runs on the same pool.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

public func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: work()) }.start()
    }
}

extension Process {
    /// Waits for the child to end without holding a pool thread.
    public func exited() async {
        let process = UncheckedProcess(self)
        await offThePool { process.value.waitUntilExit() }
    }

    /// For a `defer`, which cannot await: SIGTERM, then reaped on a thread of its own.
    public func stopAndReap() {
        if isRunning { terminate() }
        let process = UncheckedProcess(self)
        Thread { process.value.waitUntilExit() }.start()
    }
}

/// Foundation's Process is not Sendable; it is only waited on here.
private struct UncheckedProcess: @unchecked Sendable {
    let value: Process
    init(_ value: Process) { self.value = value }
}
