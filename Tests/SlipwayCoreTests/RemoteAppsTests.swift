import Foundation
import GRDB
import Testing
@testable import SlipwayCore
import SlipwayProviders

/// App Platform's apps as the store keeps them: observed apps of backend `digitalocean`, matched
/// to the mirror, with the deployments their app objects carry — and never run by this host's
/// deployer.
@Suite("App Platform apps in the store")
struct RemoteAppsTests {
    let tmp = TemporaryDirectory()
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func remote(id: String = "a1", name: String = "web", source: RemoteApp.Component.Source = .hosted(provider: .bitbucket, repository: "acme/api",
                                                                                                      branch: "main", deployOnPush: true),
                active: String? = "d1", inProgress: String? = nil) -> RemoteApp {
        func deployment(_ id: String, _ phase: String, _ commit: String) -> RemoteDeployment {
            RemoteDeployment(id: id, phase: phase, cause: "commit \(commit.prefix(7)) pushed", createdAt: now, updatedAt: now, commits: ["web": commit])
        }
        return RemoteApp(id: id, name: name, region: "ams", liveURL: "https://web.ondigitalocean.app",
                         components: [.init(name: "web", source: source)],
                         active: active.map { deployment($0, "ACTIVE", String(repeating: "a", count: 40)) },
                         inProgress: inProgress.map { deployment($0, "BUILDING", String(repeating: "b", count: 40)) })
    }

    @Test("found apps are stored observed, matched to the mirrored repository, with their deployments; gone ones go")
    func observe() throws {
        let store = try Store(path: tmp.file("slipway.db"))
        let helper = StoreTests()
        let (_, repository, _) = try helper.insertMirror(store, accountID: try helper.insertAccount(store).id!)
        #expect(try store.applyRemoteApps([remote(), remote(id: "a2", name: "docs", source: .git(cloneURL: "https://github.com/x/y.git", branch: "main"))],
                                          now: now) == 2)
        let web = try #require(try store.app(named: "digitalocean/web"))
        #expect(web.backend == .digitalocean && web.remoteID == "a1" && !web.autodeploy && web.repositoryID == repository.id)
        #expect(web.sourcePath == "bitbucket/acme/api" && web.branch == "main" && web.backendSettings["region"] == "ams")
        let docs = try #require(try store.app(named: "docs"))
        #expect(docs.sourcePath == "git/github.com/x/y" && docs.repositoryID == nil)
        #expect(try store.deployments(appID: web.id!).map(\.phase) == [.active])

        // A new deployment takes over; the app's old ACTIVE one is superseded; the same answer twice changes nothing.
        try store.applyRemoteApps([remote(active: "d2", inProgress: nil)], now: now.addingTimeInterval(60))
        try store.applyRemoteApps([remote(active: "d2", inProgress: "d3")], now: now.addingTimeInterval(90))
        let phases = try store.deployments(appID: web.id!).map { "\($0.remoteID ?? ""):\($0.phase.rawValue)" }.sorted()
        #expect(phases == ["d1:SUPERSEDED", "d2:ACTIVE", "d3:BUILDING"])
        #expect(try store.appPlatformDeploying())
        #expect(try store.app(named: "docs") == nil, "gone from the account, gone from the store")

        // This host's deployer never takes an App Platform deployment, nor fails it as interrupted.
        #expect(try store.runnableDeployments(limit: 10).isEmpty)
        try store.failInterruptedDeployments(now: now)
        #expect(try store.deployments(appID: web.id!).contains { $0.remoteID == "d3" && $0.phase == .building })
    }

    @Test("a name on both backends needs its backend said; each qualified name finds its own")
    func sharedNames() throws {
        let store = try Store(path: tmp.file("slipway.db"))
        try store.applyRemoteApps([remote()], now: now)
        _ = try store.createApp(App(name: "web", repositoryID: nil, sourcePath: "bitbucket/acme/api", branch: "main", runCommand: "true", createdAt: now))
        #expect(throws: StoreError.self) { try store.app(named: "web") }
        #expect(try store.app(named: "local/web")?.backend == .local)
        #expect(try store.app(named: "digitalocean/web")?.remoteID == "a1")
        try store.deleteApp(named: "local/web")
        #expect(try store.app(named: "web")?.backend == .digitalocean)
    }

    @Test("who deploys a push: App Platform where every source has deploy_on_push; Slipway for an autodeploying app with a git source, queued once per commit and started by the engine")
    func whoDeploysAPush() throws {
        let store = try Store(path: tmp.file("slipway.db"))
        try store.applyRemoteApps([remote(), remote(id: "a2", name: "docs", source: .git(cloneURL: "https://github.com/x/y.git", branch: "main"))], now: now)
        let web = try #require(try store.app(named: "web"))
        #expect(web.appPlatformDeploysOnPush && !web.slipwayDeploysOnPush, "found apps are observed only")
        var docs = try #require(try store.app(named: "docs"))
        #expect(!docs.appPlatformDeploysOnPush && !docs.slipwayDeploysOnPush)
        docs.autodeploy = true
        try store.updateApp(docs)
        #expect(try #require(try store.app(named: "docs")).slipwayDeploysOnPush)
        var tracked = try #require(try store.app(named: "web"))
        tracked.autodeploy = true
        try store.updateApp(tracked)
        #expect(try #require(try store.app(named: "web")).slipwayDeploysOnPush == false, "App Platform deploys it; never a second one")

        // Queued as the deployer queues a push: once per commit; a newer push supersedes one not yet started.
        let first = String(repeating: "c", count: 40), second = String(repeating: "d", count: 40)
        let queued = try store.enqueueDeployment(appID: docs.id!, commit: first, cause: "commit ccccccc pushed to main", now: now)
        let again = try store.enqueueDeployment(appID: docs.id!, commit: first, cause: "again", now: now)
        #expect(queued.created && !again.created)
        #expect(try store.appPlatformDeploymentsToStart().map(\.deployment.id) == [queued.deployment.id])
        #expect(try store.runnableDeployments(limit: 10).isEmpty, "this host's deployer never runs it")
        // App Platform's answer: the row takes its id and keeps the push as its cause and commit until the build names one.
        let answer = RemoteDeployment(id: "r9", phase: "PENDING_BUILD", cause: "manual", createdAt: now, updatedAt: now, commits: [:])
        let started = try store.attachRemoteDeployment(answer, to: queued.deployment.id!, now: now)
        #expect(started.remoteID == "r9" && started.cause == "commit ccccccc pushed to main" && started.commitHash == first)
        #expect(try store.appPlatformDeploymentsToStart().isEmpty)
        // A later push while it builds queues its own, and never supersedes the one App Platform runs.
        let next = try store.enqueueDeployment(appID: docs.id!, commit: second, cause: "commit ddddddd pushed to main", now: now)
        let kept = try store.deployment(id: queued.deployment.id!)
        #expect(next.created && kept?.phase == .pendingBuild && kept?.remoteID == "r9")
        // The app listing brings App Platform's row for it: still one row, ours.
        let listed = RemoteApp(id: "a2", name: "docs", region: "ams", liveURL: nil, components: [.init(name: "web", source: .git(cloneURL: "https://github.com/x/y.git", branch: "main"))],
                               active: nil, inProgress: RemoteDeployment(id: "r9", phase: "BUILDING", cause: "manual", createdAt: now, updatedAt: now, commits: ["web": first]))
        try store.applyRemoteApps([remote(), listed], now: now)
        let rows = try store.deployments(appID: docs.id!).filter { $0.remoteID == "r9" }
        #expect(rows.count == 1 && rows.first?.phase == .building && rows.first?.cause == "commit ccccccc pushed to main")
    }

    @Test("App Platform's progress tree is kept in pre-order with depths, rewritten only when it changes; a failed build says which step and why")
    func progressTree() throws {
        let store = try Store(path: tmp.file("slipway.db"))
        try store.applyRemoteApps([remote(active: nil, inProgress: nil)], now: now)
        let web = try #require(try store.app(named: "web"))
        func tree(_ build: RemoteStep.Status, _ deploy: RemoteStep.Status, reason: String? = nil) -> [RemoteStep] {
            [RemoteStep(name: "build", status: build, startedAt: now, steps: [
                RemoteStep(name: "initialize", status: .success),
                RemoteStep(name: "components", status: build, steps: [RemoteStep(name: "web", status: build, component: "web", reason: reason)]),
            ]),
             RemoteStep(name: "deploy", status: deploy, steps: [RemoteStep(name: "finalize", status: deploy)])]
        }
        let building = RemoteDeployment(id: "d7", phase: "BUILDING", cause: "manual", createdAt: now, updatedAt: now, commits: [:], steps: tree(.running, .pending))
        let row = try store.recordRemoteDeployment(building, appID: web.id!, now: now)
        let steps = try store.steps(deploymentID: row.id!)
        #expect(steps.map(\.name) == ["build", "initialize", "components", "web", "deploy", "finalize"])
        #expect(steps.map(\.depth) == [0, 1, 1, 2, 0, 1] && steps[3].component == "web" && steps[0].status == .running && steps[0].startedAt == now)
        #expect(steps.leaves.map(\.name) == ["initialize", "web", "finalize"])
        // The same answer again writes nothing (the rows keep their ids).
        try store.recordRemoteDeployment(building, appID: web.id!, now: now)
        #expect(try store.steps(deploymentID: row.id!).map(\.id) == steps.map(\.id))
        let failed = RemoteDeployment(id: "d7", phase: "ERROR", cause: "manual", createdAt: now, updatedAt: now, commits: [:],
                                      steps: tree(.error, .pending, reason: "your build job failed"))
        let ended = try store.recordRemoteDeployment(failed, appID: web.id!, now: now)
        #expect(ended.phase == .error && ended.reason == "build → components → web failed: your build job failed", "\(ended.reason ?? "")")
        #expect(try store.steps(deploymentID: row.id!).filter { $0.status == .failed }.map(\.name) == ["build", "components", "web"])
    }
}
