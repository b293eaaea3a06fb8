import Foundation
import GRDB
import SlipwayProviders

/// Columns are snake_case; properties are camelCase with `ID`/`URL` acronyms. One strategy maps
/// both ways so no model needs hand-written coding keys.
enum ColumnNaming {
    static func propertyName(forColumn column: String) -> String {
        let parts = column.split(separator: "_")
        guard let first = parts.first else { return column }
        return String(first) + parts.dropFirst().map { part -> String in
            switch part {
            case "id": "ID"
            case "url": "URL"
            default: part.prefix(1).uppercased() + part.dropFirst()
            }
        }.joined()
    }
}

struct ColumnKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Shared GRDB conformance for the model values.
public protocol StoredRecord: Codable, FetchableRecord, MutablePersistableRecord {
    var id: Int64? { get set }
}

extension StoredRecord {
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy {
        .custom { ColumnKey(stringValue: ColumnNaming.propertyName(forColumn: $0)) }
    }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension Account: StoredRecord { public static let databaseTableName = "accounts" }
extension Workspace: StoredRecord { public static let databaseTableName = "workspaces" }
extension Repository: StoredRecord { public static let databaseTableName = "repositories" }
extension Branch: StoredRecord { public static let databaseTableName = "branches" }
extension Commit: StoredRecord { public static let databaseTableName = "commits" }
extension App: StoredRecord { public static let databaseTableName = "apps" }
extension Deployment: StoredRecord { public static let databaseTableName = "deployments" }
extension DeploymentStep: StoredRecord { public static let databaseTableName = "deployment_steps" }
extension DeploymentLogChunk: StoredRecord { public static let databaseTableName = "deployment_log_chunks" }
extension WebhookSubscription: StoredRecord { public static let databaseTableName = "webhook_subscriptions" }
extension WebhookDelivery: StoredRecord { public static let databaseTableName = "webhook_deliveries" }
extension SyncState: StoredRecord { public static let databaseTableName = "sync_states" }
extension EngineCommand: StoredRecord { public static let databaseTableName = "commands" }
extension ChangeEvent: StoredRecord { public static let databaseTableName = "change_events" }

// Enumerations are stored as their raw text.
extension ProviderKind: DatabaseValueConvertible {}
extension AuthKind: DatabaseValueConvertible {}
extension AppBackend: DatabaseValueConvertible {}
extension AccountStatus: DatabaseValueConvertible {}
extension DeploymentPhase: DatabaseValueConvertible {}
extension DeploymentStepStatus: DatabaseValueConvertible {}
extension LogStream: DatabaseValueConvertible {}
extension WebhookDeliveryOutcome: DatabaseValueConvertible {}
extension EngineCommandKind: DatabaseValueConvertible {}
extension EngineCommandStatus: DatabaseValueConvertible {}
extension ChangeEventKind: DatabaseValueConvertible {}

// The mirror writes and reads tens of thousands of branches a sync: by hand, not through Codable
// (whose key conversion alone was a tenth of an initial sync's CPU). The same columns and values.
extension Branch {
    public func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id
        container["repository_id"] = repositoryID
        container["name"] = name
        container["head_hash"] = headHash
        container["head_date"] = headDate
        container["head_author"] = headAuthor
        container["head_message"] = headMessage
        container["updated_at"] = updatedAt
    }

    public init(row: Row) throws {
        self.init(id: row["id"], repositoryID: row["repository_id"], name: row["name"], headHash: row["head_hash"], headDate: row["head_date"],
                  headAuthor: row["head_author"], headMessage: row["head_message"], updatedAt: row["updated_at"])
    }
}
