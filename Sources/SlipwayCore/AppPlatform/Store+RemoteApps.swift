import Foundation
import GRDB
import SlipwayProviders

/// The apps found on the linked App Platform account, kept as apps of backend `digitalocean` —
/// observed only (DESIGN.md): never autodeployed by Slipway until a user says so — each matched
/// to the mirrored repository its first component builds from, with the deployments the app
/// object carries (its active one and one in progress).
extension Store {
    /// Where a component builds from, as a mirror path (`github/owner/repo`, `git/host/path`).
    static func mirrorSource(_ source: RemoteApp.Component.Source) -> (path: String, branch: String)? {
        switch source {
        case let .hosted(provider, repository, branch, _): ("\(provider.rawValue)/\(repository)", branch ?? "")
        case let .git(cloneURL, branch): (try? PublicGitURL.parse(cloneURL)).map { ("git/\($0.host)/\($0.path)", branch ?? "") }
        case .other: nil
        }
    }

    /// Makes the stored App Platform apps what the account lists: new ones added, changed ones
    /// updated, ones gone from the account removed (they were only observed). Returns how many
    /// apps there are.
    @discardableResult
    public func applyRemoteApps(_ remote: [RemoteApp], now: Date) throws -> Int {
        try write { db in
            var kept: Set<String> = []
            for found in remote {
                kept.insert(found.id)
                try Self.upsertRemoteApp(found, now: now, db: db)
            }
            // Observed apps the account no longer has are gone (with their deployments).
            let stored = try App.filter(Column("backend") == AppBackend.digitalocean.rawValue).fetchAll(db)
            for app in stored where !kept.contains(app.remoteID ?? "") { try app.delete(db) }
            return remote.count
        }
    }

    /// One app as App Platform just answered for it (after a change), kept with its tracking.
    public func applyRemoteApp(_ found: RemoteApp, now: Date) throws {
        try write { db in _ = try Self.upsertRemoteApp(found, now: now, db: db) }
    }

    /// An app Slipway just created on App Platform: stored at once (not waiting for the next
    /// look), tracked — its autodeploy as the user asked.
    @discardableResult
    public func recordCreatedRemoteApp(_ found: RemoteApp, autodeploy: Bool, now: Date) throws -> App {
        try write { db in
            var app = try Self.upsertRemoteApp(found, now: now, db: db)
            app.autodeploy = autodeploy
            app.backendSettings["created_by"] = "slipway"
            try app.update(db)
            return app
        }
    }

    /// One found app written as App Platform describes it, with its deployments.
    @discardableResult
    static func upsertRemoteApp(_ found: RemoteApp, now: Date, db: Database) throws -> App {
        let components = found.components.map { component -> AppComponent in
            let source = Self.mirrorSource(component.source)
            return AppComponent(name: component.name, source: source?.path ?? "", branch: source?.branch ?? "")
        }
        let first = components.first { !$0.source.isEmpty } ?? components.first ?? AppComponent(name: found.name, source: "", branch: "")
        let repositoryID = first.source.isEmpty ? nil
            : try Int64.fetchOne(db, sql: """
                SELECT r.id FROM repositories r JOIN workspaces w ON w.id = r.workspace_id JOIN accounts a ON a.id = w.account_id
                WHERE a.provider || '/' || w.slug || '/' || r.slug = ?
                """, arguments: [first.source])
        var settings: [String: String] = [:]
        if let region = found.region { settings["region"] = region }
        if let live = found.liveURL { settings["live_url"] = live }
        // App Platform deploys on a push itself only where every component built from a
        // repository says so; elsewhere an autodeploying app's pushes are Slipway's to deploy.
        let built = found.components.filter { $0.source != .other }
        let onPush = !built.isEmpty && built.allSatisfy { if case .hosted(_, _, _, true) = $0.source { true } else { false } }
        settings["deploy_on_push"] = onPush ? "true" : "false"
        var app: App
        if let stored = try App.filter(Column("backend") == AppBackend.digitalocean.rawValue && Column("remote_id") == found.id).fetchOne(db) {
            app = stored
        } else {
            app = App(name: found.name, backend: .digitalocean, remoteID: found.id, repositoryID: nil, sourcePath: first.source,
                      branch: first.branch, runCommand: "", autodeploy: false, createdAt: now)
        }
        app.name = found.name
        app.backendSettings = app.backendSettings.merging(settings) { _, new in new }
        app.components = components
        app.repositoryID = repositoryID
        app.sourcePath = first.source
        app.branch = first.branch
        app.updatedAt = now
        try app.save(db)
        for deployment in [found.active, found.inProgress].compactMap({ $0 }) {
            try applyRemoteDeployment(deployment, appID: app.id!, component: first.name, now: now, db: db)
        }
        return app
    }

    /// One App Platform deployment of a stored app, as App Platform answered for it; the row.
    @discardableResult
    public func recordRemoteDeployment(_ remote: RemoteDeployment, appID: Int64, now: Date) throws -> Deployment {
        try write { db in
            let component = try App.fetchOne(db, key: appID)?.components.first?.name ?? ""
            try Self.applyRemoteDeployment(remote, appID: appID, component: component, now: now, db: db)
            guard let row = try Deployment.filter(Column("app_id") == appID && Column("remote_id") == remote.id).fetchOne(db) else {
                throw StoreError.notFound("deployment \(remote.id)")
            }
            return row
        }
    }

    /// Deployments Slipway decided on for App Platform apps (an autodeployed push) that App
    /// Platform has not been asked for yet, oldest first, with their apps.
    public func appPlatformDeploymentsToStart() throws -> [(deployment: Deployment, app: App)] {
        try read { db in
            let rows = try Deployment.fetchAll(db, sql: """
                SELECT d.* FROM deployments d JOIN apps a ON a.id = d.app_id
                WHERE a.backend = 'digitalocean' AND d.remote_id IS NULL AND d.phase = 'PENDING_BUILD' ORDER BY d.id
                """)
            return try rows.compactMap { row in try App.fetchOne(db, key: row.appID).map { (row, $0) } }
        }
    }

    /// App Platform's answer to starting a deployment Slipway queued: the row takes its id,
    /// phase and (once known) commit.
    @discardableResult
    public func attachRemoteDeployment(_ remote: RemoteDeployment, to deploymentID: Int64, now: Date) throws -> Deployment {
        try write { db in
            guard var row = try Deployment.fetchOne(db, key: deploymentID) else { throw StoreError.notFound("deployment \(deploymentID)") }
            // The app listing may have brought App Platform's row in already: one row, ours.
            try Deployment.filter(Column("app_id") == row.appID && Column("remote_id") == remote.id && Column("id") != deploymentID).deleteAll(db)
            row.remoteID = remote.id
            try row.update(db)
            let component = try App.fetchOne(db, key: row.appID)?.components.first?.name ?? ""
            try Self.applyRemoteDeployment(remote, appID: row.appID, component: component, now: now, db: db)
            return try Deployment.fetchOne(db, key: deploymentID) ?? row
        }
    }

    /// Whether any App Platform deployment is in progress (the engine then looks more often).
    public func appPlatformDeploying() throws -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS(SELECT 1 FROM deployments d JOIN apps a ON a.id = d.app_id
                              WHERE a.backend = 'digitalocean' AND d.phase IN ('PENDING_BUILD', 'BUILDING', 'PENDING_DEPLOY', 'DEPLOYING'))
                """) ?? false
        }
    }

    /// One App Platform deployment, by its id: its phase, cause and commit as App Platform says.
    static func applyRemoteDeployment(_ remote: RemoteDeployment, appID: Int64, component: String, now: Date, db: Database) throws {
        let phase = DeploymentPhase(rawValue: remote.phase) ?? .unknown
        let commit = remote.commits[component] ?? remote.commits.values.sorted().first ?? ""
        var deployment = try Deployment.filter(Column("app_id") == appID && Column("remote_id") == remote.id).fetchOne(db)
            ?? Deployment(appID: appID, commitHash: commit, phase: phase, cause: remote.cause ?? "", remoteID: remote.id,
                          createdAt: remote.createdAt ?? now)
        deployment.phase = phase
        // App Platform names the commit once the build has checked it out; until then the row
        // keeps the one Slipway deployed for.
        if !commit.isEmpty { deployment.commitHash = commit }
        // A deployment Slipway started keeps its own cause (the push), not App Platform's "manual".
        if deployment.cause.isEmpty { deployment.cause = remote.cause ?? "" }
        deployment.updatedAt = remote.updatedAt ?? now
        if !phase.isInProgress, phase != .unknown, deployment.finishedAt == nil { deployment.finishedAt = remote.updatedAt ?? now }
        if phase == .error, deployment.reason == nil { deployment.reason = Self.failure(in: remote.steps) }
        try deployment.save(db)
        try Self.applyRemoteSteps(remote.steps, deploymentID: deployment.id!, db: db)
        // The app's earlier ACTIVE one was superseded when this one took over.
        if phase == .active {
            try db.execute(sql: "UPDATE deployments SET phase = 'SUPERSEDED', updated_at = ? WHERE app_id = ? AND phase = 'ACTIVE' AND id <> ?",
                           arguments: [now, appID, deployment.id!])
        }
    }

    /// App Platform's progress tree, flattened in pre-order with each step's depth; written only
    /// when it changed (the apps are looked at every few seconds while one deploys).
    static func applyRemoteSteps(_ tree: [RemoteStep], deploymentID: Int64, db: Database) throws {
        guard !tree.isEmpty else { return }
        var flat: [DeploymentStep] = []
        func add(_ steps: [RemoteStep], depth: Int) {
            for step in steps {
                flat.append(DeploymentStep(deploymentID: deploymentID, position: flat.count, name: step.name, status: Self.status(step.status),
                                           startedAt: step.startedAt, finishedAt: step.endedAt, depth: depth, component: step.component))
                add(step.steps, depth: depth + 1)
            }
        }
        add(tree, depth: 0)
        let stored = try DeploymentStep.filter(Column("deployment_id") == deploymentID).order(Column("position")).fetchAll(db)
        guard stored.map({ var s = $0; s.id = nil; return s }) != flat else { return }
        try DeploymentStep.filter(Column("deployment_id") == deploymentID).deleteAll(db)
        for var step in flat { try step.insert(db) }
    }

    static func status(_ status: RemoteStep.Status) -> DeploymentStepStatus {
        switch status {
        case .pending, .unknown: .pending
        case .running: .running
        case .success: .succeeded
        case .error: .failed
        }
    }

    /// Why a deployment failed: the deepest failed step, with App Platform's reason.
    static func failure(in steps: [RemoteStep], path: [String] = []) -> String? {
        for step in steps where step.status == .error {
            let here = path + [step.component.flatMap { $0 == step.name ? nil : "\(step.name) (\($0))" } ?? step.name]
            if let deeper = failure(in: step.steps, path: here) { return deeper }
            return "\(here.joined(separator: " → ")) failed" + (step.reason.map { ": \($0)" } ?? "")
        }
        return nil
    }
}
