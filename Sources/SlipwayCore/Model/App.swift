import Foundation

/// Where an app is built and run.
public enum AppBackend: String, Sendable, Codable, CaseIterable {
    /// This host: the deployer fetches, builds and runs it.
    case local
    /// DigitalOcean App Platform.
    case digitalocean
}

/// One buildable part of an app and the branch it builds from. A local app has one; an App
/// Platform app one per service, worker or static site.
public struct AppComponent: Sendable, Equatable, Codable {
    public var name: String
    /// `provider/workspace/repository`.
    public var source: String
    public var branch: String

    public init(name: String, source: String, branch: String) {
        self.name = name
        self.source = source
        self.branch = branch
    }
}

/// An app built from one branch of a mirrored repository (on this host, or on App Platform).
public struct App: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var name: String
    public var backend: AppBackend
    /// What the backend needs besides the commands (App Platform: region, instance size, port).
    public var backendSettings: [String: String]
    /// The backend's own id for the app (App Platform's app id); nil on this host.
    public var remoteID: String?
    public var components: [AppComponent]
    public var repositoryID: Int64?
    /// `provider/workspace/repository`, kept even if the repository leaves the mirror.
    public var sourcePath: String
    public var branch: String
    public var buildCommand: String?
    public var runCommand: String
    public var isService: Bool
    public var healthURL: String?
    public var autodeploy: Bool
    public var timeoutSeconds: Int?
    /// Plain variables; secret ones are sealed separately.
    public var environment: [String: String]
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: Int64? = nil, name: String, backend: AppBackend = .local, backendSettings: [String: String] = [:], remoteID: String? = nil,
                components: [AppComponent]? = nil, repositoryID: Int64?, sourcePath: String, branch: String,
                buildCommand: String? = nil, runCommand: String, isService: Bool = false, healthURL: String? = nil,
                autodeploy: Bool = true, timeoutSeconds: Int? = nil, environment: [String: String] = [:],
                createdAt: Date, updatedAt: Date? = nil) {
        self.id = id
        self.name = name
        self.backend = backend
        self.backendSettings = backendSettings
        self.remoteID = remoteID
        self.components = components ?? [AppComponent(name: name, source: sourcePath, branch: branch)]
        self.repositoryID = repositoryID
        self.sourcePath = sourcePath
        self.branch = branch
        self.buildCommand = buildCommand
        self.runCommand = runCommand
        self.isService = isService
        self.healthURL = healthURL
        self.autodeploy = autodeploy
        self.timeoutSeconds = timeoutSeconds
        self.environment = environment
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }

    /// App names appear in paths, work folders and systemd-style logs: keep them tame.
    public static func isValidName(_ name: String) -> Bool {
        guard (1...63).contains(name.count), let first = name.unicodeScalars.first else { return false }
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789-_")
        guard CharacterSet.lowercaseLetters.contains(first) || CharacterSet.decimalDigits.contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { allowed.contains($0) }
    }
}

extension App {
    /// Its repository left the mirror (its provider was unlinked): kept, deploying nothing, until
    /// the repository is mirrored again and re-attaches it.
    public var isSourceUnlinked: Bool { repositoryID == nil }
}
