import Foundation
import GRDB
import Testing
@testable import SlipwayCore

/// App Platform's deployments are kept as a local app's are (`deploy.keep_deployments`): the
/// newest, and any still running or serving.
@Suite("Deployment pruning")
struct DeploymentPruningTests {
    let tmp = TemporaryDirectory()

    @Test("pruning a backend keeps each of its apps' newest, and the ACTIVE and running ones; other backends' apps are untouched")
    func perBackend() throws {
        let store = try Store(path: tmp.file("slipway.db"))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let ids: [String: Int64] = try store.write { db in
            var ids: [String: Int64] = [:]
            for (name, backend) in [("shop", AppBackend.digitalocean), ("blog", .digitalocean), ("web", .local)] {
                var app = App(name: name, backend: backend, repositoryID: nil, sourcePath: "bitbucket/acme/\(name)", branch: "main", runCommand: "./run",
                              createdAt: now)
                try app.insert(db)
                ids[name] = app.id!
                // The oldest ACTIVE (it still serves), then four superseded or failed, the newest building.
                let phases: [DeploymentPhase] = [.active, .superseded, .error, .superseded, .canceled, .building]
                for (index, phase) in phases.enumerated() {
                    var deployment = Deployment(appID: app.id!, commitHash: String(repeating: "\(index)", count: 40), phase: phase, cause: "push",
                                                createdAt: now.addingTimeInterval(Double(index)))
                    try deployment.insert(db)
                }
            }
            return ids
        }
        try store.pruneDeployments(backend: .digitalocean, keep: 2)
        for name in ["shop", "blog"] {
            let kept = try store.deployments(appID: ids[name]!).map(\.phase)
            #expect(kept == [.building, .canceled, .active], "\(name): \(kept)")
        }
        #expect(try store.deployments(appID: ids["web"]!).count == 6)
    }
}
