import Foundation

/// What a process asks the engine to do.
public enum EngineCommandKind: String, Sendable, Codable, CaseIterable {
    case syncCycle = "sync_cycle"
    case refresh
    case deploy
    case cancel
    case installWebhook = "install_webhook"
    case mirrorRepository = "mirror_repository"
    case followLog = "follow_log"

    /// What the sync engine runs: work that spends a provider's requests.
    public static let sync: Set<EngineCommandKind> = [.syncCycle, .refresh, .installWebhook, .mirrorRepository, .followLog]
    /// What the deployment command runner runs, apart from the sync engine, so a `deploy` never
    /// waits behind a sync cycle.
    public static let deployment: Set<EngineCommandKind> = [.deploy, .cancel]
}

public enum EngineCommandStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, done, failed

    public var isFinished: Bool { self == .done || self == .failed }
}

/// A request written by any process and claimed by the engine (queued → running → done/failed).
public struct EngineCommand: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var kind: EngineCommandKind
    /// The kind's `CommandPayload`, encoded (a path to refresh, an app and commit to deploy …).
    public var payload: String
    public var status: EngineCommandStatus
    public var result: String?
    public var requestedBy: String?
    public var createdAt: Date
    public var claimedAt: Date?
    public var finishedAt: Date?

    public init(id: Int64? = nil, kind: EngineCommandKind, payload: String = "{}", status: EngineCommandStatus = .queued,
                result: String? = nil, requestedBy: String? = nil, createdAt: Date, claimedAt: Date? = nil,
                finishedAt: Date? = nil) {
        self.id = id
        self.kind = kind
        self.payload = payload
        self.status = status
        self.result = result
        self.requestedBy = requestedBy
        self.createdAt = createdAt
        self.claimedAt = claimedAt
        self.finishedAt = finishedAt
    }
}

public enum ChangeEventKind: String, Sendable, Codable, CaseIterable {
    case headMoved = "head_moved"
    case branchCreated = "branch_created"
    case branchDeleted = "branch_deleted"
    case repositoryAdded = "repository_added"
    case repositoryRemoved = "repository_removed"
    case accessLost = "access_lost"
}

/// Appended by the engine; each consumer (deployer, TUI highlights) reads past its own cursor.
public struct ChangeEvent: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var kind: ChangeEventKind
    /// `provider/workspace/repository[/branch]`.
    public var path: String
    public var old: String?
    public var new: String?
    public var createdAt: Date

    public init(id: Int64? = nil, kind: ChangeEventKind, path: String, old: String? = nil, new: String? = nil, createdAt: Date) {
        self.id = id
        self.kind = kind
        self.path = path
        self.old = old
        self.new = new
        self.createdAt = createdAt
    }
}
