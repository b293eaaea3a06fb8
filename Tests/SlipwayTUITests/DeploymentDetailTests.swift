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

    @Test("App Platform's nested steps are indented under their parents, and a hostile step name is shown inert")
    func nestedSteps() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let deployment = Deployment(id: 9, appID: 2, commitHash: "", phase: .deploying, cause: "manual", remoteID: "r1", createdAt: now.addingTimeInterval(-60))
        let names = [("build", 0, DeploymentStepStatus.succeeded), ("components", 1, .succeeded), ("web\u{1B}[31m", 2, .succeeded),
                     ("deploy", 0, .running), ("finalize", 1, .pending)]
        let steps = names.enumerated().map { index, entry in
            DeploymentStep(deploymentID: 9, position: index, name: entry.0, status: entry.2, depth: entry.1)
        }
        let level = Level(kind: .deployments(appID: 2), title: "web", path: "app:web", provider: "")
        let labels = DetailView.lines(for: .deployment(deployment, steps: steps), level: level, now: now).map(\.label)
        #expect(labels.contains("build") && labels.contains("  components") && labels.contains("  finalize"))
        let hostile = labels.first { $0.hasPrefix("    web") }
        #expect(hostile != nil && !(hostile ?? "").contains("\u{1B}"), "\(labels)")
    }
}
