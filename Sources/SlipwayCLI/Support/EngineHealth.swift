import Foundation
import SlipwayCore
import SlipwayServer
import Synchronization

/// The daemon's `/healthz`: the engine runs in this process, its last sync or sweep, and whether
/// the store takes a write. Healthy needs both the engine and a writable store.
final class EngineHealth: HealthReporting {
    private let store: Store
    private let started = Mutex<Date?>(nil)

    init(store: Store) {
        self.store = store
    }

    /// The engine's run began (nil: it has not, or it ended).
    func engine(runningSince date: Date?) { started.withLock { $0 = date } }

    struct Body: Encodable {
        var status: String
        var engine: String
        var engineSince: Date?
        var lastSyncAt: Date?
        var lastSweepAt: Date?
        var store: String

        enum CodingKeys: String, CodingKey { case status, engine, engineSince, lastSyncAt, lastSweepAt, store }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(status, forKey: .status)
            try c.encode(engine, forKey: .engine)
            try c.encode(engineSince, forKey: .engineSince)
            try c.encode(lastSyncAt, forKey: .lastSyncAt)
            try c.encode(lastSweepAt, forKey: .lastSweepAt)
            try c.encode(store, forKey: .store)
        }
    }

    func health() async -> HealthReport {
        let since = started.withLock { $0 }
        var storeState = "writable"
        do {
            try store.probeWrite()
        } catch {
            storeState = "not writable: \(error)"
        }
        let healthy = since != nil && storeState == "writable"
        let body = Body(status: healthy ? "ok" : "failing", engine: since == nil ? "stopped" : "running", engineSince: since,
                        lastSyncAt: try? store.lastSyncAt(), lastSweepAt: try? store.lastSweepAt(), store: storeState)
        return HealthReport(healthy: healthy, json: (try? JSONOutput.string(body)) ?? "{\"status\":\"failing\"}")
    }
}
