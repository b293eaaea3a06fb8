import Foundation
import GRDB

extension Store {
    public func apps() throws -> [App] {
        try read { db in try App.order(Column("name")).fetchAll(db) }
    }

    /// An app by name; `local/NAME` or `digitalocean/NAME` says which backend's where both have
    /// one by that name (a bare name that two backends share is refused, never guessed).
    public func app(named text: String) throws -> App? {
        var name = text
        var backend: AppBackend?
        if let slash = text.firstIndex(of: "/"), let named = AppBackend(rawValue: String(text[..<slash])) {
            backend = named
            name = String(text[text.index(after: slash)...])
        }
        let (bare, wanted) = (name, backend)
        let found = try read { db in
            try App.filter(Column("name") == bare).fetchAll(db).filter { wanted == nil || $0.backend == wanted }
        }
        guard found.count <= 1 else {
            throw StoreError.conflict("'\(name)' is an app on this host and on App Platform; say local/\(name) or digitalocean/\(name)")
        }
        return found.first
    }

    /// Deletes an app with its deployments and their logs.
    public func deleteApp(named name: String) throws {
        guard let app = try app(named: name), let id = app.id else { throw StoreError.notFound("no app named '\(name)'; see 'slipway apps'") }
        _ = try write { db in try App.deleteOne(db, key: id) }
    }

    /// Deployments, newest first, optionally of one app.
    public func deployments(appID: Int64? = nil, limit: Int = 200) throws -> [Deployment] {
        try read { db in
            var request = Deployment.order(Column("created_at").desc, Column("id").desc).limit(limit)
            if let appID { request = request.filter(Column("app_id") == appID) }
            return try request.fetchAll(db)
        }
    }

    public func deployment(id: Int64) throws -> Deployment? {
        try read { db in try Deployment.fetchOne(db, key: id) }
    }

    public func appNames() throws -> [Int64: String] {
        try read { db in
            var names: [Int64: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM apps") { names[row["id"]] = row["name"] }
            return names
        }
    }

    /// Forgets a deployment's log (App Platform's copy is about to be read again in full).
    public func clearLog(deploymentID: Int64) throws {
        _ = try write { db in try DeploymentLogChunk.filter(Column("deployment_id") == deploymentID).deleteAll(db) }
    }

    public func app(id: Int64) throws -> App? {
        try read { db in try App.fetchOne(db, key: id) }
    }

    /// Log chunks of a deployment after a given chunk id, in order.
    public func logChunks(deploymentID: Int64, after chunkID: Int64 = 0, limit: Int = 1000) throws -> [DeploymentLogChunk] {
        try read { db in
            try DeploymentLogChunk
                .filter(Column("deployment_id") == deploymentID && Column("id") > chunkID)
                .order(Column("id"))
                .limit(limit)
                .fetchAll(db)
        }
    }
}
