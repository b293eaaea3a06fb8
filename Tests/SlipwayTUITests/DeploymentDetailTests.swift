import Foundation
import Testing
import SlipwayCore
@testable import SlipwayTUI

/// The deployment view lists its steps with their times, as `deployments --json` does.
@Suite("Deployment detail")
struct DeploymentDetailTests {
    @Test("a deployment's detail names each step with its status and how long it took, or has run so far")
    func steps() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let deployment = Deployment(id: 4, appID: 1, commitHash: String(repeating: "a", count: 40), phase: .building, cause: "push",
                                    createdAt: now.addingTimeInterval(-30))
        let steps = [
            DeploymentStep(deploymentID: 4, position: 0, name: "fetch", status: .succeeded, startedAt: now.addingTimeInterval(-30), finishedAt: now.addingTimeInterval(-27.5)),
            DeploymentStep(deploymentID: 4, position: 1, name: "build", status: .running, startedAt: now.addingTimeInterval(-20)),
            DeploymentStep(deploymentID: 4, position: 2, name: "deploy"),
        ]
        let level = Level(kind: .deployments(appID: 1), title: "web", path: "app:web", provider: "")
        let lines = DetailView.lines(for: .deployment(deployment, steps: steps), level: level, now: now)
        #expect(lines.contains(.init(label: "fetch", value: "succeeded in 2.5s")))
        #expect(lines.contains(.init(label: "build", value: "running for 20s")))
        #expect(lines.contains(.init(label: "deploy", value: "pending")))
        #expect(lines.firstIndex { $0.label == "fetch" }! < lines.firstIndex { $0.label == "deploy" }!)
    }
}
