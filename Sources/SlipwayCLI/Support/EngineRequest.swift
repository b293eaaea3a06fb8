import Foundation
import SlipwayCore

/// Leaves a command for the engine (the one process that syncs and deploys) and, when one runs,
/// waits for its answer. Without an engine the command stays queued until `slipway daemon` or the
/// dashboard starts one — said plainly, not treated as a failure.
struct EngineRequest {
    let context: CommandContext

    enum Outcome {
        case answered(String)
        case queued(Int64)
    }

    func send<Payload: CommandPayload>(_ payload: Payload, wait: TimeInterval = 30) async throws -> Outcome {
        let id = try enqueue(payload)
        guard engineRuns else { return .queued(id) }
        guard let command = try await finished(id, until: Date().addingTimeInterval(wait)) else { return .queued(id) }
        if command.status == .failed { throw SlipwayCLIError.failure(command.result ?? "the engine could not do it") }
        return .answered(command.result ?? "done")
    }

    func enqueue<Payload: CommandPayload>(_ payload: Payload) throws -> Int64 {
        try context.store.enqueue(payload, requestedBy: "cli:\(getpid())", now: Date())
    }

    var engineRuns: Bool { EngineLock.holder(path: context.paths.engineLockFile) != nil }

    /// The command once the engine has finished it (done or failed); nil when no engine runs any
    /// more (unless `whileNoEngine`: then it waits for one to start), or `end` passes first.
    func finished(_ id: Int64, until end: Date?, every interval: TimeInterval = 0.1, whileNoEngine: Bool = false) async throws -> EngineCommand? {
        while end.map({ Date() < $0 }) ?? true {
            try await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
            guard let command = try context.store.command(id: id) else { throw SlipwayCLIError.failure("command \(id) vanished") }
            if command.status.isFinished { return command }
            if !whileNoEngine && !engineRuns { return nil }
        }
        return nil
    }

    static let noEngine = "no engine runs for this home; it happens when one starts ('slipway daemon', or open the dashboard)"
}
