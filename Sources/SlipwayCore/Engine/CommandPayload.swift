import Foundation
import Synchronization

/// The arguments of one kind of engine command. Every writer (CLI, dashboard, webhook receiver)
/// and the engine go through these types and one encoding, so a payload one process writes is
/// the payload the engine reads — and equal requests are equal text (a queued refresh is found
/// by its payload).
public protocol CommandPayload: Codable, Sendable, Equatable {
    static var kind: EngineCommandKind { get }
}

extension CommandPayload {
    /// Sorted keys, snake_case, ISO 8601 dates: the same text for the same request.
    public func encoded() throws -> String { try JSONOutput.string(self) }

    public static func decode(_ text: String) throws -> Self {
        try JSONOutput.decoder().decode(Self.self, from: Data(text.utf8))
    }
}

/// Run one full sync cycle, stopping early past `deadline`.
public struct SyncCyclePayload: CommandPayload {
    public static let kind = EngineCommandKind.syncCycle
    public var deadline: Date?
    public init(deadline: Date? = nil) { self.deadline = deadline }
}

/// Sweep a repository now, or fetch a branch's new commits (`provider/ws/repo[/branch]`).
public struct RefreshPayload: CommandPayload {
    public static let kind = EngineCommandKind.refresh
    public var path: String
    public init(path: String) { self.path = path }

    /// The encoded payload for `path`, made once per path: a daemon asks for it with every
    /// delivery it stores (to find a confirmation already queued), and the JSON encoder was a
    /// tenth of a delivery's write. Bounded: past 16,384 paths it starts afresh.
    public static func encoded(path: String) throws -> String {
        if let known = encodedPaths.withLock({ $0[path] }) { return known }
        let text = try RefreshPayload(path: path).encoded()
        encodedPaths.withLock { cache in
            if cache.count >= 16_384 { cache.removeAll(keepingCapacity: true) }
            cache[path] = text
        }
        return text
    }

    private static let encodedPaths = Mutex<[String: String]>([:])
}

/// Deploy an app (its branch head, or `commit`).
public struct DeployPayload: CommandPayload {
    public static let kind = EngineCommandKind.deploy
    public var app: String
    public var commit: String?
    public var cause: String?
    public init(app: String, commit: String? = nil, cause: String? = nil) {
        self.app = app
        self.commit = commit
        self.cause = cause
    }
}

/// Cancel a running deployment.
public struct CancelPayload: CommandPayload {
    public static let kind = EngineCommandKind.cancel
    public var deployment: Int64
    public init(deployment: Int64) { self.deployment = deployment }
}

/// Install Slipway's push webhook on a repository (at `url`, else the engine's own address).
public struct InstallWebhookPayload: CommandPayload {
    public static let kind = EngineCommandKind.installWebhook
    public var path: String
    public var url: String?
    public init(path: String, url: String? = nil) {
        self.path = path
        self.url = url
    }
}

/// Mirror a public repository the user just added (by its clone URL) without waiting for the next
/// full listing.
public struct MirrorRepositoryPayload: CommandPayload {
    public static let kind = EngineCommandKind.mirrorRepository
    public var url: String
    public init(url: String) { self.url = url }
}

/// Copy an App Platform deployment's logs into the store (followed live while they grow), so
/// the dashboard shows them as it shows a local deployment's.
public struct FollowLogPayload: CommandPayload {
    public static let kind = EngineCommandKind.followLog
    public var deployment: Int64
    public init(deployment: Int64) { self.deployment = deployment }
}
