import Foundation
import SlipwayCore
import SlipwayTUI

/// Follows a deployment until it ends, like `gh run watch --exit-status`: a line for each phase
/// and each step as they change, then one line on stderr saying how it ended. ACTIVE is success;
/// any other end (ERROR, CANCELED, SUPERSEDED) is a failure (exit 1).
struct DeploymentFollower {
    let store: Store
    let engineRuns: () -> Bool
    var interval: Duration = .milliseconds(250)

    /// Returns once the deployment is ACTIVE; throws the one-line failure otherwise.
    func follow(_ id: Int64, app: String) async throws {
        var lastPhase: DeploymentPhase?
        var lastSteps: [String: DeploymentStepStatus] = [:]
        var saidNoEngine = false
        while true {
            guard let deployment = try store.deployment(id: id) else {
                throw SlipwayCLIError.failure("deployment \(id) is gone (its app was deleted?)")
            }
            if deployment.phase != lastPhase {
                Terminal.out("#\(id) \(app) \(deployment.commitHash.prefix(7))  \(deployment.phase.rawValue)")
                lastPhase = deployment.phase
            }
            for step in try store.steps(deploymentID: id) where lastSteps[step.name] != step.status {
                lastSteps[step.name] = step.status
                guard step.status != .pending else { continue }
                Terminal.out("  \(step.name.padding(toLength: 9, withPad: " ", startingAt: 0)) \(Self.describe(step))")
            }
            if !deployment.phase.isInProgress {
                let took = Self.seconds((deployment.finishedAt ?? Date()).timeIntervalSince(deployment.createdAt))
                guard deployment.phase == .active else {
                    let reason = deployment.reason.map { ": \(TerminalText.sanitize($0))" } ?? ""
                    throw SlipwayCLIError.failure("deployment \(id) of \(app) ended \(deployment.phase.rawValue) after \(took)\(reason); see 'slipway logs \(id)'")
                }
                Terminal.error("deployment \(id) of \(app) is ACTIVE after \(took)")
                return
            }
            if !saidNoEngine, deployment.phase == .pendingBuild, !engineRuns() {
                Terminal.error("waiting: \(EngineRequest.noEngine) (Ctrl-C stops waiting; the deployment stays queued)")
                saidNoEngine = true
            }
            try await Task.sleep(for: interval)
        }
    }

    /// `running`, `succeeded in 3.2 s`, `failed (exit status 2) after 1.0 s`, `skipped`.
    static func describe(_ step: DeploymentStep) -> String {
        let took = step.startedAt.flatMap { start in step.finishedAt.map { seconds($0.timeIntervalSince(start)) } }
        switch step.status {
        case .running: return "running"
        case .succeeded: return "succeeded" + (took.map { " in \($0)" } ?? "")
        case .failed: return "failed" + (step.exitStatus.map { " (exit status \($0))" } ?? "") + (took.map { " after \($0)" } ?? "")
        default: return step.status.rawValue + (took.map { " after \($0)" } ?? "")
        }
    }

    /// `0.4 s`, `12 s`, `3m05s`.
    static func seconds(_ value: TimeInterval) -> String {
        let value = max(0, value)
        if value < 10 { return String(format: "%.1f s", value) }
        if value < 60 { return "\(Int(value)) s" }
        return Age.countdown(value)
    }
}
