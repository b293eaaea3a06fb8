import Foundation

/// Deployment phases, named as DigitalOcean App Platform names them.
public enum DeploymentPhase: String, Sendable, Codable, CaseIterable {
    case pendingBuild = "PENDING_BUILD"
    case building = "BUILDING"
    case pendingDeploy = "PENDING_DEPLOY"
    case deploying = "DEPLOYING"
    case active = "ACTIVE"
    case superseded = "SUPERSEDED"
    case error = "ERROR"
    case canceled = "CANCELED"
    /// App Platform may report a phase it cannot name.
    case unknown = "UNKNOWN"

    /// Phases a deployment never leaves.
    public var isFinal: Bool {
        switch self {
        case .superseded, .error, .canceled: true
        default: false
        }
    }

    /// Phases in which a process of this deployment may be working.
    public var isInProgress: Bool {
        switch self {
        case .pendingBuild, .building, .pendingDeploy, .deploying: true
        default: false
        }
    }
}

public struct Deployment: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var appID: Int64
    public var commitHash: String
    public var phase: DeploymentPhase
    /// Why it started, e.g. "commit 1a2b3c4 pushed to main" or "app created".
    public var cause: String
    /// Set for automatic deployments so a webhook and the fetch that confirms it start one, not two.
    public var dedupeKey: String?
    /// Why it failed, in one line.
    public var reason: String?
    /// The backend's own id (App Platform's deployment id); nil on this host.
    public var remoteID: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?

    public init(id: Int64? = nil, appID: Int64, commitHash: String, phase: DeploymentPhase = .pendingBuild,
                cause: String, dedupeKey: String? = nil, reason: String? = nil, remoteID: String? = nil, createdAt: Date,
                updatedAt: Date? = nil, finishedAt: Date? = nil) {
        self.id = id
        self.appID = appID
        self.commitHash = commitHash
        self.phase = phase
        self.cause = cause
        self.dedupeKey = dedupeKey
        self.reason = reason
        self.remoteID = remoteID
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.finishedAt = finishedAt
    }
}

public enum DeploymentStepStatus: String, Sendable, Codable, CaseIterable {
    case pending, running, succeeded, failed, skipped, canceled
}

/// One step of a deployment (fetch, checkout, build, run) with its own status and duration.
public struct DeploymentStep: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var deploymentID: Int64
    public var position: Int
    public var name: String
    public var status: DeploymentStepStatus
    public var exitStatus: Int?
    public var startedAt: Date?
    public var finishedAt: Date?
    /// How deep it sits in the tree (App Platform nests steps: build → components → web); the
    /// steps are kept in pre-order by position, so a step's children follow it one level deeper.
    public var depth: Int
    /// The component it works on (App Platform), where it works on one.
    public var component: String?

    public init(id: Int64? = nil, deploymentID: Int64, position: Int, name: String,
                status: DeploymentStepStatus = .pending, exitStatus: Int? = nil, startedAt: Date? = nil,
                finishedAt: Date? = nil, depth: Int = 0, component: String? = nil) {
        self.id = id
        self.deploymentID = deploymentID
        self.position = position
        self.name = name
        self.status = status
        self.exitStatus = exitStatus
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.depth = depth
        self.component = component
    }
}

extension [DeploymentStep] {
    /// The steps that do the work (no steps inside them): what progress counts.
    public var leaves: [DeploymentStep] {
        indices.filter { $0 + 1 == count || self[$0 + 1].depth <= self[$0].depth }.map { self[$0] }
    }
}

public enum LogStream: String, Sendable, Codable, CaseIterable {
    case stdout, stderr, system
}

/// A piece of a deployment's log, appended while its steps run.
public struct DeploymentLogChunk: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var deploymentID: Int64
    public var step: String
    public var stream: LogStream
    public var text: String
    public var createdAt: Date

    public init(id: Int64? = nil, deploymentID: Int64, step: String, stream: LogStream, text: String, createdAt: Date) {
        self.id = id
        self.deploymentID = deploymentID
        self.step = step
        self.stream = stream
        self.text = text
        self.createdAt = createdAt
    }
}
