import Foundation
import GRDB

/// The deployer's writes: deployments per (app, commit), their steps and phases, their logs in
/// capped chunks, and the bookkeeping that keeps "running" honest across restarts.
extension Store {
    /// Queues a deployment of `commit` for an app unless one exists for that commit (a webhook
    /// and the fetch that confirms it start one deployment, not two). Deployments of the app
    /// still waiting to start are superseded by the new one.
    /// Queues a deployment of a commit. Autodeploy (`byUser` false) is idempotent per (app,
    /// commit) and never retries a failure by itself. A user's request always starts one — a
    /// retry after ERROR or CANCELED, or a redeploy — unless one for that commit is queued or
    /// running, which is returned instead (`created` false).
    public func enqueueDeployment(appID: Int64, commit: String, cause: String, byUser: Bool = false, now: Date) throws -> (deployment: Deployment, created: Bool) {
        try write { db in
            let key = "app:\(appID):\(commit)"
            var dedupeKey: String? = key
            if byUser {
                let active = [DeploymentPhase.pendingBuild, .building, .pendingDeploy, .deploying].map(\.rawValue)
                if let busy = try Deployment.filter(Column("app_id") == appID && Column("commit_hash") == commit && active.contains(Column("phase")))
                    .order(Column("id").desc).fetchOne(db) {
                    return (busy, false)
                }
                // The autodeploy key stays with the first deployment of the commit, so a push seen
                // later never starts yet another one.
                if try Deployment.filter(Column("dedupe_key") == key).fetchCount(db) > 0 { dedupeKey = nil }
            } else if let existing = try Deployment.filter(Column("dedupe_key") == key).fetchOne(db) {
                return (existing, false)
            }
            var deployment = Deployment(appID: appID, commitHash: commit, cause: cause, dedupeKey: dedupeKey, createdAt: now)
            try deployment.insert(db)
            try db.execute(sql: """
                UPDATE deployments SET phase = 'SUPERSEDED', reason = ?, updated_at = ?, finished_at = ?
                WHERE app_id = ? AND phase = 'PENDING_BUILD' AND id <> ? AND remote_id IS NULL
                    AND NOT EXISTS (SELECT 1 FROM deployment_steps s WHERE s.deployment_id = deployments.id AND s.status <> 'pending')
                """, arguments: ["superseded by deployment \(deployment.id!) before it started", now, now, appID, deployment.id!])
            return (deployment, true)
        }
    }

    /// Queued deployments of this host's apps whose app has none in progress, oldest first (App
    /// Platform runs its own).
    public func runnableDeployments(limit: Int) throws -> [Deployment] {
        try read { db in
            try Deployment.fetchAll(db, sql: """
                SELECT d.* FROM deployments d JOIN apps a ON a.id = d.app_id AND a.backend = 'local'
                WHERE d.phase = 'PENDING_BUILD'
                  AND NOT EXISTS (SELECT 1 FROM deployments o WHERE o.app_id = d.app_id
                                  AND o.phase IN ('BUILDING', 'PENDING_DEPLOY', 'DEPLOYING'))
                  AND d.id = (SELECT MIN(q.id) FROM deployments q WHERE q.app_id = d.app_id AND q.phase = 'PENDING_BUILD')
                ORDER BY d.id LIMIT ?
                """, arguments: [limit])
        }
    }

    public func inProgressCount() throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM deployments WHERE phase IN ('BUILDING', 'PENDING_DEPLOY', 'DEPLOYING')
                  AND app_id IN (SELECT id FROM apps WHERE backend = 'local')
                """) ?? 0
        }
    }

    public func setPhase(deploymentID: Int64, _ phase: DeploymentPhase, error: String? = nil, now: Date) throws {
        try write { db in
            let finished: Date? = phase.isFinal ? now : nil
            try db.execute(sql: "UPDATE deployments SET phase = ?, reason = COALESCE(?, reason), updated_at = ?, finished_at = COALESCE(?, finished_at) WHERE id = ?",
                           arguments: [phase.rawValue, error, now, finished, deploymentID])
        }
    }

    /// ACTIVE now; the app's previous ACTIVE deployment becomes SUPERSEDED in the same transaction.
    public func activate(deploymentID: Int64, appID: Int64, now: Date) throws {
        try write { db in
            try db.execute(sql: "UPDATE deployments SET phase = 'SUPERSEDED', updated_at = ?, finished_at = ? WHERE app_id = ? AND phase = 'ACTIVE' AND id <> ?",
                           arguments: [now, now, appID, deploymentID])
            try db.execute(sql: "UPDATE deployments SET phase = 'ACTIVE', updated_at = ?, finished_at = ? WHERE id = ?",
                           arguments: [now, now, deploymentID])
        }
    }

    public func addSteps(deploymentID: Int64, names: [String]) throws -> [DeploymentStep] {
        try write { db in
            try names.enumerated().map { position, name in
                var step = DeploymentStep(deploymentID: deploymentID, position: position, name: name)
                try step.insert(db)
                return step
            }
        }
    }

    public func updateStep(id: Int64, status: DeploymentStepStatus, exitStatus: Int? = nil, now: Date) throws {
        try write { db in
            let started: Date? = status == .running ? now : nil
            let finished: Date? = status == .running || status == .pending ? nil : now
            try db.execute(sql: """
                UPDATE deployment_steps SET status = ?, exit_status = COALESCE(?, exit_status),
                    started_at = COALESCE(started_at, ?), finished_at = COALESCE(?, finished_at) WHERE id = ?
                """, arguments: [status.rawValue, exitStatus, started, finished, id])
        }
    }

    public func steps(deploymentID: Int64) throws -> [DeploymentStep] {
        try read { db in try DeploymentStep.filter(Column("deployment_id") == deploymentID).order(Column("position")).fetchAll(db) }
    }

    /// The steps of several deployments at once, by deployment.
    public func steps(deploymentIDs: [Int64]) throws -> [Int64: [DeploymentStep]] {
        guard !deploymentIDs.isEmpty else { return [:] }
        return try read { db in
            let steps = try DeploymentStep.filter(deploymentIDs.contains(Column("deployment_id"))).order(Column("deployment_id"), Column("position")).fetchAll(db)
            return Dictionary(grouping: steps, by: \.deploymentID)
        }
    }

    /// Appends output to a deployment's log, keeping at most `cap` bytes: the oldest chunks go
    /// first (the tail is what explains a failure), with one note saying so.
    public func appendLog(deploymentID: Int64, step: String, stream: LogStream, text: String, cap: Int, now: Date) throws {
        guard !text.isEmpty else { return }
        try write { db in
            var chunk = DeploymentLogChunk(deploymentID: deploymentID, step: step, stream: stream, text: text, createdAt: now)
            try chunk.insert(db)
            let total = try Int.fetchOne(db, sql: "SELECT SUM(LENGTH(CAST(text AS BLOB))) FROM deployment_log_chunks WHERE deployment_id = ?",
                                         arguments: [deploymentID]) ?? 0
            guard total > cap else { return }
            var excess = total - cap
            let oldest = try Row.fetchAll(db, sql: """
                SELECT id, LENGTH(CAST(text AS BLOB)) AS size, stream, text FROM deployment_log_chunks
                WHERE deployment_id = ? ORDER BY id LIMIT 1000
                """, arguments: [deploymentID])
            var dropped: [Int64] = []
            for row in oldest where excess > 0 {
                let id: Int64 = row["id"]
                if id == chunk.id { break }
                dropped.append(id)
                // An earlier note goes too (a new one replaces it); it does not count as output.
                let isNote = row["stream"] == LogStream.system.rawValue && (row["text"] as String).hasPrefix("[earlier output dropped")
                if !isNote { excess -= row["size"] as Int }
            }
            guard !dropped.isEmpty else { return }
            try db.execute(sql: "DELETE FROM deployment_log_chunks WHERE id IN (\(dropped.map(String.init).joined(separator: ",")))")
            // The note takes the place of what was dropped: the lowest id of them, so it reads first.
            try db.execute(sql: "INSERT INTO deployment_log_chunks (id, deployment_id, step, stream, text, created_at) VALUES (?, ?, ?, 'system', ?, ?)",
                           arguments: [dropped.last!, deploymentID, step, "[earlier output dropped: the log keeps the last \(cap / 1024) KiB]\n", now])
        }
    }

    /// Deployments left in progress by an engine that stopped: ERROR "interrupted", so nothing
    /// claims to run that doesn't. Returns the ACTIVE ones of services to start again.
    @discardableResult
    public func failInterruptedDeployments(now: Date) throws -> [Int64] {
        try write { db in
            // Only this host's: an App Platform deployment goes on whatever happens here.
            let local = "app_id IN (SELECT id FROM apps WHERE backend = 'local')"
            let interrupted = try Int64.fetchAll(db, sql: "SELECT id FROM deployments WHERE phase IN ('BUILDING', 'PENDING_DEPLOY', 'DEPLOYING') AND \(local)")
            try db.execute(sql: """
                UPDATE deployments SET phase = 'ERROR', reason = 'interrupted: the engine stopped while it ran', updated_at = ?, finished_at = ?
                WHERE phase IN ('BUILDING', 'PENDING_DEPLOY', 'DEPLOYING') AND \(local)
                """, arguments: [now, now])
            try db.execute(sql: "UPDATE deployment_steps SET status = 'canceled', finished_at = ? WHERE status = 'running'", arguments: [now])
            return interrupted
        }
    }

    /// Keeps the newest `keep` deployments of an app (with their steps and logs).
    public func pruneDeployments(appID: Int64, keep: Int) throws {
        try write { db in
            try db.execute(sql: """
                DELETE FROM deployments WHERE app_id = ? AND phase NOT IN ('PENDING_BUILD', 'BUILDING', 'PENDING_DEPLOY', 'DEPLOYING', 'ACTIVE')
                  AND id NOT IN (SELECT id FROM deployments WHERE app_id = ? ORDER BY id DESC LIMIT ?)
                """, arguments: [appID, appID, keep])
        }
    }

    /// The same for every app of a backend, in one statement (App Platform's apps, after each look).
    public func pruneDeployments(backend: AppBackend, keep: Int) throws {
        try write { db in
            try db.execute(sql: """
                DELETE FROM deployments WHERE id IN (
                  SELECT id FROM (SELECT d.id, d.phase, ROW_NUMBER() OVER (PARTITION BY d.app_id ORDER BY d.id DESC) AS newer
                                  FROM deployments d JOIN apps a ON a.id = d.app_id WHERE a.backend = ?)
                  WHERE newer > ? AND phase NOT IN ('PENDING_BUILD', 'BUILDING', 'PENDING_DEPLOY', 'DEPLOYING', 'ACTIVE'))
                """, arguments: [backend.rawValue, keep])
        }
    }

    public func createApp(_ app: App) throws -> App {
        try write { db in
            var app = app
            try app.insert(db)
            return app
        }
    }

    /// Where a consumer of change events got to (the deployer's cursor survives restarts).
    public func changeCursor(_ consumer: String) throws -> Int64? {
        try read { db in try Int64.fetchOne(db, sql: "SELECT last_event_id FROM change_cursors WHERE consumer = ?", arguments: [consumer]) }
    }

    public func setChangeCursor(_ consumer: String, to id: Int64) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO change_cursors (consumer, last_event_id, updated_at) VALUES (?, ?, ?)
                ON CONFLICT(consumer) DO UPDATE SET last_event_id = excluded.last_event_id, updated_at = excluded.updated_at
                """, arguments: [consumer, id, Date()])
        }
    }
}

extension Store {
    /// An app's secret variables, sealed in the vault (the app's id as associated data).
    public func setSecretEnvironment(appID: Int64, _ variables: [String: String], vault: Vault) throws {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: variables, options: [.sortedKeys]), as: UTF8.self)
        let sealed = try vault.seal(json, context: Self.appSecretsContext(appID))
        try write { db in
            try db.execute(sql: "UPDATE apps SET secret_environment_ciphertext = ?, updated_at = ? WHERE id = ?", arguments: [sealed, Date(), appID])
        }
    }

    /// The vault is opened only when the app has secrets.
    public func secretEnvironment(appID: Int64, vault: () throws -> Vault) throws -> [String: String] {
        guard let sealed = try read({ db in try Data.fetchOne(db, sql: "SELECT secret_environment_ciphertext FROM apps WHERE id = ?", arguments: [appID]) })
        else { return [:] }
        let json = try vault().openString(sealed, context: Self.appSecretsContext(appID))
        return (try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String]) ?? [:]
    }

    public func updateApp(_ app: App) throws {
        try write { db in
            var app = app
            app.updatedAt = Date()
            try app.update(db)
        }
    }
}
