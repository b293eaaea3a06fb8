import Dispatch

/// Runs every job of the tasks that prefer it on one serial queue. GraphQLSwift's executor makes
/// a child task for every object and every list item; on the global pool each of a page's tens of
/// thousands of tasks may hop threads, so one query keeps its jobs on one queue (queries still run
/// side by side, each on its own).
final class SerialTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        queue.async { unowned.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Runs `operation` with its child tasks preferring a fresh serial queue.
    static func run<T: Sendable>(label: String, _ operation: @Sendable () async throws -> T) async rethrows -> T {
        try await withTaskExecutorPreference(SerialTaskExecutor(label: label), operation: operation)
    }
}
