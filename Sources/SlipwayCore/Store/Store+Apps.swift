import Foundation
import GRDB

extension Store {
    public func apps() throws -> [App] {
        try read { db in try App.order(Column("name")).fetchAll(db) }
    }

    public func app(named name: String) throws -> App? {
        try read { db in try App.filter(Column("name") == name).fetchOne(db) }
    }

    /// Deletes an app with its deployments and their logs.
    public func deleteApp(named name: String) throws {
        let deleted = try write { db in try App.filter(Column("name") == name).deleteAll(db) }
        if deleted == 0 { throw StoreError.notFound("no app named '\(name)'; see 'slipway apps'") }
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
