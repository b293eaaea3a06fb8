import Foundation

/// The services a sandbox world can be served as (DESIGN.md's `slipway sandbox --only`).
public enum SandboxPersonalityName: String, CaseIterable, Sendable, Comparable, CustomStringConvertible {
    case bitbucket, github, gitlab, git, digitalocean

    /// The personalities this sandbox speaks so far; the others join with their adapters.
    public static let available: [SandboxPersonalityName] = [.bitbucket, .github, .gitlab, .git, .digitalocean]

    public var description: String { rawValue }

    /// REST requests an hour per credential, as the service allows them, unless `--rate-limit` says.
    public var defaultRequestsPerHour: Int {
        switch self {
        case .github: 5000
        // 300 a minute, a self-managed instance's typical setting; GitLab meters it per minute.
        case .gitlab: 18000
        // App Platform also meters 250 a minute.
        case .digitalocean: 5000
        case .bitbucket, .git: 1000
        }
    }

    /// What the personality serves where, for `slipway sandbox --help`.
    public var summary: String {
        switch self {
        case .bitbucket: BitbucketPersonality.summary
        case .github: GitHubPersonality.summary
        case .gitlab: GitLabPersonality.summary
        case .git: GitPersonality.summary
        case .digitalocean: DigitalOceanPersonality.summary
        }
    }

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Parses `--only`'s comma-separated list.
    public static func parseList(_ text: String) throws(SandboxOptions.ValidationError) -> [SandboxPersonalityName] {
        var names: [SandboxPersonalityName] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let name = try parse(part)
            if !names.contains(name) { names.append(name) }
        }
        guard !names.isEmpty else { throw .personality("--only names no personality; choose from \(available.map(\.rawValue).joined(separator: ", "))") }
        return names.sorted()
    }

    /// One name, refused when this sandbox has no such personality.
    public static func parse(_ text: String) throws(SandboxOptions.ValidationError) -> SandboxPersonalityName {
        let served = available.map(\.rawValue).joined(separator: ", ")
        guard let name = SandboxPersonalityName(rawValue: text.lowercased()) else {
            throw .personality("unknown sandbox personality '\(text)'; choose from \(served)")
        }
        guard available.contains(name) else {
            throw .personality("the sandbox does not serve \(name) yet; choose from \(served)")
        }
        return name
    }
}

/// What a request spends: each kind has its own rate window and its own line in the stats.
enum RequestKind: String, Sendable {
    case rest, graphql, git, oauth

    /// OAuth endpoints are never faulted: a test that breaks the API still wants to link.
    var faultable: Bool { self != .oauth }
}

/// How a personality answers git's upload-pack POST (clone and fetch of a real repository).
enum UploadPackDecision: Sendable {
    /// Not a real repository of this personality: the request goes the ordinary way.
    case notHere
    /// Refused (credentials, limits) with this reply.
    case refuse(SandboxReply)
    /// Served by git from this bare repository.
    case serve(bare: String)
}

/// A line of the `slipway sandbox` banner.
public struct BannerLine: Sendable, Equatable {
    public var label: String
    public var value: String

    public init(label: String, value: String) {
        self.label = label
        self.value = value
    }
}

/// One service's wire format over the shared world: its routes, credentials, paging, error shapes,
/// rate-limit answers, hooks and webhook deliveries. Everything it reads or changes in the world
/// comes through `WorldState`; every method is called with the world's lock held, which also
/// guards the personality's own state (its OAuth server, its origin).
protocol SandboxPersonality: AnyObject, Sendable {
    var name: SandboxPersonalityName { get }
    /// The origin this personality is served at, once its server is up (links in deliveries).
    var origin: String { get set }

    /// The API and web URLs a client links with, at `origin`.
    func urls(origin: String) -> (api: String, web: String)
    /// What a request spends, for its window and the stats.
    func kind(of request: SandboxRequest) -> RequestKind
    /// The request's path with its variable parts named, for the stats.
    func template(_ segments: [String]) -> String
    /// Answers a request addressed to this personality.
    func respond(to request: SandboxRequest, in state: inout WorldState) -> SandboxReply
    /// The answer an injected status fault gets, in this service's shapes (`malformed` too).
    func faultReply(_ kind: FaultSpec.Kind, in state: inout WorldState) -> SandboxReply
    /// git upload-pack for a real repository: who may, and where its bare repository is.
    func uploadPack(_ request: SandboxRequest, in state: inout WorldState) -> UploadPackDecision
    /// The deliveries this service owes its hooks on the pushed repository.
    func deliveries(for push: SandboxPush, in state: inout WorldState) -> [OutboundDelivery]
    /// Applies the keys of a `/_sandbox/control` body this personality owns.
    func control(_ object: [String: Any], in state: inout WorldState)
    /// This personality's lines of `/_sandbox/stats`.
    func statistics(in state: WorldState) -> [String: Any]
    /// The banner's lines for this personality (the `link` line among them).
    func banner(api: String, web: String, options: SandboxOptions) -> [BannerLine]
    /// The line a user types to link Slipway to this personality.
    func linkCommand(api: String, web: String) -> String
}
