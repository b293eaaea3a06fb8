import Foundation
import SlipwayCore

/// Leaves a command for the engine (the one process that deploys) and, when one runs, waits
/// for its answer. Without an engine the command stays queued until `slipway daemon` or the
/// dashboard starts one — said plainly, not treated as a failure.
struct EngineRequest {
    let context: CommandContext

    enum Outcome {
        case answered(String)
        case queued(Int64)
    }

    func send(_ kind: EngineCommandKind, payload: [String: Any], wait: TimeInterval = 30) async throws -> Outcome {
        let text = String(decoding: try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]), as: UTF8.self)
        let id = try context.store.enqueue(kind, payload: text, requestedBy: "cli:\(getpid())", now: Date())
        guard EngineLock.holder(path: context.paths.engineLockFile) != nil else { return .queued(id) }
        let end = Date().addingTimeInterval(wait)
        while Date() < end {
            try await Task.sleep(nanoseconds: 100_000_000)
            guard let command = try context.store.command(id: id) else { throw SlipwayCLIError.failure("command \(id) vanished") }
            if command.status.isFinished {
                if command.status == .failed { throw SlipwayCLIError.failure(command.result ?? "the engine could not do it") }
                return .answered(command.result ?? "done")
            }
            if EngineLock.holder(path: context.paths.engineLockFile) == nil { return .queued(id) }
        }
        return .queued(id)
    }

    static let noEngine = "no engine runs for this home; it happens when one starts ('slipway daemon', or open the dashboard)"
}
