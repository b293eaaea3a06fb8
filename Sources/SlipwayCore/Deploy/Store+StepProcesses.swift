import Foundation
import GRDB

/// The process groups of running steps and services, kept while they run (see `Schema.v3`).
extension Store {
    public struct StepProcessRecord: Sendable, Equatable {
        public var id: Int64
        public var processGroup: Int32
        public var startTicks: UInt64
        public var deploymentID: Int64?
        public var step: String
    }

    @discardableResult
    public func recordStepProcess(group: Int32, startTicks: UInt64, deploymentID: Int64?, step: String, now: Date) throws -> Int64 {
        try write { db in
            try db.execute(sql: "INSERT INTO step_processes (process_group, start_ticks, deployment_id, step, started_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [group, Int64(startTicks), deploymentID, step, now])
            return db.lastInsertedRowID
        }
    }

    public func removeStepProcess(id: Int64) throws {
        try write { db in try db.execute(sql: "DELETE FROM step_processes WHERE id = ?", arguments: [id]) }
    }

    public func stepProcesses() throws -> [StepProcessRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM step_processes ORDER BY id").map {
                StepProcessRecord(id: $0["id"], processGroup: Int32($0["process_group"] as Int64), startTicks: UInt64($0["start_ticks"] as Int64),
                                  deploymentID: $0["deployment_id"], step: $0["step"])
            }
        }
    }
}
