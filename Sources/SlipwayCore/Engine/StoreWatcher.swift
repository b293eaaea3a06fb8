import Foundation
import GRDB

/// Notices commits by other processes: `PRAGMA data_version` on one dedicated connection changes
/// whenever another connection commits. Polled a few times a second; cheap (no table is read).
public final class StoreWatcher: Sendable {
    private let queue: DatabaseQueue

    public init(path: String) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(Store.busyTimeout)
        queue = try DatabaseQueue(path: path, configuration: config)
    }

    public func dataVersion() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
    }

    /// Yields each time another process has committed, checking every `interval` seconds.
    public func changes(interval: TimeInterval = 0.25) -> AsyncStream<Void> {
        AsyncStream { continuation in
            let task = Task {
                var last = (try? dataVersion()) ?? 0
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
                    guard let now = try? dataVersion() else { continue }
                    if now != last {
                        last = now
                        continuation.yield(())
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
