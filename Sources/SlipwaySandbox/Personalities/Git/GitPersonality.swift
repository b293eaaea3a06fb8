import Foundation

/// A plain public Git host, as any git server with smart HTTP answers anonymous clients: the
/// refs advertisement at `/PATH.git/info/refs?service=git-upload-pack` and upload-pack behind
/// it, no credentials asked. Its repositories are real (the `demo` projects at
/// `/demo/NAME.git`, so clones and partial fetches work and pushes make real commits); anything
/// under `/private/` asks for credentials (401 with `WWW-Authenticate`), as a private repository
/// would; any other path is 404. Anonymous requests share one per-client window (git's limit).
public final class GitPersonality: SandboxPersonality, @unchecked Sendable {
    let name = SandboxPersonalityName.git
    let options: SandboxOptions
    static let summary = "git: public repositories over smart HTTP with no credentials (/demo/NAME.git; /private/… asks for credentials)"
    /// Anonymous clients all count against one window.
    static let anonymous = "anonymous"
    static let privatePrefix = "private"

    // Guarded by the world's lock.
    var origin = "http://127.0.0.1"

    init(options: SandboxOptions) {
        self.options = options
    }

    func urls(origin: String) -> (api: String, web: String) { (origin, origin) }

    func kind(of request: SandboxRequest) -> RequestKind { .git }

    func world(_ state: WorldState) -> SandboxWorld { state.hosts[name]! }

    /// The repository path a git request names (`demo/hello-web`), and what it asks for.
    static func target(_ segments: [String]) -> (path: String, rest: [String])? {
        guard let index = segments.firstIndex(where: { $0.hasSuffix(".git") }), index + 1 < segments.count else { return nil }
        let path = (segments[..<index] + [String(segments[index].dropLast(4))]).joined(separator: "/")
        return (path, Array(segments[(index + 1)...]))
    }

    func respond(to request: SandboxRequest, in state: inout WorldState) -> SandboxReply {
        guard let (path, rest) = Self.target(request.segments), rest == ["info", "refs"] else { return .text(404, "Not Found\n") }
        if let refusal = refusal(path, in: &state) { return refusal }
        return RefsAdvertisementWriter.reply(for: world(state).repositories[path], request: request, notFound: "Repository not found.\n")
    }

    /// What git hears before anything is served: credentials asked for, or the limit.
    private func refusal(_ path: String, in state: inout WorldState) -> SandboxReply? {
        if path == Self.privatePrefix || path.hasPrefix(Self.privatePrefix + "/") {
            state.stats.unauthorized += 1
            return .text(401, "Authentication required\n", headers: [("WWW-Authenticate", #"Basic realm="sandbox git""#)])
        }
        state.stats.byCredential[Self.anonymous, default: 0] += 1
        guard state.admit(Self.anonymous, kind: .git, on: name).allowed else {
            return .text(429, "Too many requests\n", headers: [("Retry-After", String(options.retryAfterSeconds ?? 60))])
        }
        return nil
    }

    func faultReply(_ kind: FaultSpec.Kind, in state: inout WorldState) -> SandboxReply {
        switch kind {
        case .status(429), .rateLimitForbidden:
            state.stats.rateLimited += 1
            return .text(429, "Too many requests\n", headers: [("Retry-After", String(options.retryAfterSeconds ?? 60))])
        case let .status(code):
            return .text(code, "Injected fault \(code)\n")
        case .malformed:
            return SandboxReply(status: 200, headers: [("Content-Type", "application/x-git-upload-pack-advertisement")], body: Data("001e# service=git-upl".utf8))
        case .reset, .delay, .truncate:
            return .text(500, "Internal Server Error\n")
        }
    }

    /// `POST /demo/NAME.git/git-upload-pack`: served to anyone.
    func uploadPack(_ request: SandboxRequest, in state: inout WorldState) -> UploadPackDecision {
        guard let (path, rest) = Self.target(request.segments), rest == ["git-upload-pack"] else { return .notHere }
        if let refusal = refusal(path, in: &state) { return .refuse(refusal) }
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count == 2, parts[0] == DemoRepositories.workspace, let demo = state.demo[name], demo.contains(parts[1]) else {
            return .refuse(.text(404, "Repository not found.\n"))
        }
        return .serve(bare: demo.bare(parts[1]))
    }

    /// A plain git host sends no webhooks.
    func deliveries(for push: SandboxPush, in state: inout WorldState) -> [OutboundDelivery] { [] }

    func template(_ s: [String]) -> String {
        guard let (_, rest) = Self.target(s) else { return "/" + s.joined(separator: "/") }
        return "/{path}.git/" + rest.joined(separator: "/")
    }

    func control(_ object: [String: Any], in state: inout WorldState) {}

    func statistics(in state: WorldState) -> [String: Any] { ["repositories": world(state).repositories.keys.sorted()] }

    func banner(api: String, web: String, options: SandboxOptions) -> [BannerLine] {
        [
            BannerLine(label: "git", value: "\(web)/\(DemoRepositories.workspace)/NAME.git  (public: no credentials)"),
            BannerLine(label: "login", value: "\(web)/\(Self.privatePrefix)/NAME.git  (asks for credentials)"),
            BannerLine(label: "add", value: linkCommand(api: api, web: web)),
        ]
    }

    func linkCommand(api: String, web: String) -> String {
        "slipway repos add \(web)/\(DemoRepositories.workspace)/\(DemoRepositories.projects[0].slug).git"
    }
}
