import Foundation

/// GitLab as the sandbox speaks it, self-managed-style on one origin: REST v4 under `/api/v4`,
/// git smart HTTP at `/FULL/PATH.git` (any user name, `oauth2` by convention, the token as
/// password), web pages at the root. Personal access tokens (`glpat-…`) as `PRIVATE-TOKEN` or
/// Bearer; the REST limit is per minute (`RateLimit-*` on every answer, a text/plain 429
/// `Retry later` with `Retry-After` past it); offset pagination with GitLab's `x-*` headers and
/// `Link`, keyset for projects; project hooks with `Push Hook` deliveries proved by `X-Gitlab-Token`.
public final class GitLabPersonality: SandboxPersonality, @unchecked Sendable {
    let name = SandboxPersonalityName.gitlab
    let options: SandboxOptions
    /// A personal access token with every scope a dashboard needs (`api` among them, for hooks).
    public let token: String
    /// A personal access token without `api`: everything reads, hooks cannot be created.
    public let readOnlyToken: String
    static let tokenScopes = ["api", "read_api", "read_repository", "read_user"]
    static let readOnlyScopes = ["read_api", "read_repository", "read_user"]
    static let summary = "gitlab: REST v4 under /api/v4 (per-minute limits), git smart HTTP at /FULL/PATH.git (user oauth2)"

    /// The registered OAuth application (code flow with PKCE, device grant, rotating refresh).
    public let application: GitLabApplication

    // Guarded by the world's lock.
    var origin = "http://127.0.0.1"
    var hookNumber = 7_000
    var oauth = GitLabOAuthState()

    init(options: SandboxOptions) {
        self.options = options
        (token, readOnlyToken) = Self.tokens(seed: options.seed)
        application = Self.application(seed: options.seed)
    }

    /// The tokens a seed's GitLab accepts.
    public static func tokens(seed: UInt64) -> (full: String, readOnly: String) {
        var r = SandboxRandom(seed: seed ^ 0x676C_7061_745F)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        func text(_ count: Int) -> String { String((0..<count).map { _ in alphabet[r.int(0...alphabet.count - 1)] }) }
        return ("glpat-" + text(20), "glpat-" + text(20))
    }

    func urls(origin: String) -> (api: String, web: String) { (origin + "/api/v4", origin) }

    func kind(of request: SandboxRequest) -> RequestKind {
        let s = request.segments
        if s.count >= 2, s[0] == "api", s[1] == "v4" { return .rest }
        if s.first == "oauth" { return .oauth }
        return .git
    }

    func world(_ state: WorldState) -> SandboxWorld { state.hosts[name]! }

    // MARK: Credentials

    struct Credential {
        /// The window's key: one user's tokens share its limit.
        var window: String
        var scopes: [String]
        /// A personal access token's name; nil for an OAuth token.
        var tokenName: String?
    }

    /// Why a presented credential is refused: GitLab's own words for an expired OAuth token.
    enum Refusal { case unknown, expired }

    /// `PRIVATE-TOKEN: …` or `Authorization: Bearer …` for the API; Basic (any user) for git.
    private func authenticate(_ request: SandboxRequest, git: Bool, user: SandboxUser, now: Date) -> Result<Credential, RefusalError> {
        var value: String?
        if !git, let header = request.headers["private-token"] { value = header.trimmingCharacters(in: .whitespaces) }
        if value == nil, let header = request.headers["authorization"], let space = header.firstIndex(of: " ") {
            let scheme = header[..<space].lowercased()
            let rest = header[header.index(after: space)...].trimmingCharacters(in: .whitespaces)
            if scheme == "basic", git, let decoded = Data(base64Encoded: rest).flatMap({ String(data: $0, encoding: .utf8) }),
               let colon = decoded.firstIndex(of: ":") {
                value = String(decoded[decoded.index(after: colon)...])
            } else if scheme == "bearer" {
                value = rest
            }
        }
        switch value {
        case token: return .success(Credential(window: "user:\(user.nickname)", scopes: Self.tokenScopes, tokenName: "slipway"))
        case readOnlyToken: return .success(Credential(window: "user:\(user.nickname)", scopes: Self.readOnlyScopes, tokenName: "slipway-read-only"))
        case let value?:
            if let grant = grant(for: value, now: now) { return .success(Credential(window: "user:\(user.nickname)", scopes: grant.scopes, tokenName: nil)) }
            return .failure(RefusalError(refusal: isExpiredOAuthToken(value, now: now) ? .expired : .unknown))
        case nil:
            return .failure(RefusalError(refusal: .unknown))
        }
    }

    struct RefusalError: Error { var refusal: Refusal }

    // MARK: Requests

    func respond(to request: SandboxRequest, in state: inout WorldState) -> SandboxReply {
        let kind = kind(of: request)
        if kind == .oauth { return oauthLocked(request, random: &state.random, now: state.now) }
        let user = world(state).user
        let credential: Credential
        switch authenticate(request, git: kind == .git, user: user, now: state.now) {
        case let .success(found):
            credential = found
        case let .failure(refused):
            state.stats.unauthorized += 1
            if kind == .git { return .text(401, "HTTP Basic: Access denied\n", headers: [("WWW-Authenticate", #"Basic realm="GitLab""#)]) }
            if refused.refusal == .expired {
                return .json(401, ["error": "invalid_token", "error_description": "Token is expired. You can either do re-authorization or token refresh."])
            }
            return .json(401, GitLabWireFormat.error("401 Unauthorized"))
        }
        state.stats.byCredential[credential.window, default: 0] += 1
        let admitted = state.admit(credential.window, kind: kind, on: name)
        var limitHeaders: [(String, String)] = []
        if admitted.limit > 0 && kind == .rest {
            let reset = state.resetsAt(credential.window, kind: kind, on: name)
            limitHeaders = [("RateLimit-Name", "throttle_authenticated_api"), ("RateLimit-Limit", String(admitted.limit)),
                            ("RateLimit-Observed", String(admitted.used)),
                            ("RateLimit-Remaining", String(admitted.allowed ? max(0, admitted.limit - admitted.used) : 0)),
                            ("RateLimit-Reset", String(Int(reset.timeIntervalSince1970.rounded(.up))))]
            if !admitted.allowed {
                let wait = max(1, Int(reset.timeIntervalSince(state.now).rounded(.up)))
                return .text(429, "Retry later\n", headers: limitHeaders + [("Retry-After", String(wait)), ("RateLimit-ResetTime", Self.httpDate(reset))])
            }
        }
        guard admitted.allowed else { return .text(429, "Retry later\n") }
        if kind == .git { return git(request, world: world(state)) }
        var reply = rest(request, credential: credential, in: &state)
        reply.headers += limitHeaders
        return reply
    }

    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }

    func faultReply(_ kind: FaultSpec.Kind, in state: inout WorldState) -> SandboxReply {
        switch kind {
        case .status(429), .rateLimitForbidden:
            state.stats.rateLimited += 1
            return .text(429, "Retry later\n", headers: [("Retry-After", String(options.retryAfterSeconds ?? 60))])
        case let .status(code) where code >= 500:
            return .json(code, GitLabWireFormat.error(code == 502 ? "502 Bad Gateway" : "\(code) Service Unavailable"))
        case let .status(code):
            return .json(code, GitLabWireFormat.error("\(code) Injected fault"))
        case .malformed:
            var reply = SandboxReply.json(200, [:])
            reply.body = Data(#"[{"name": "main", "commit": {"id": "#.utf8)
            return reply
        case .reset, .delay, .truncate:
            return .json(500, GitLabWireFormat.error("500 Internal Server Error"))
        }
    }

    // MARK: git

    /// `/FULL/PATH.git/info/refs?service=git-upload-pack`: the segment ending `.git` ends the path.
    private func git(_ request: SandboxRequest, world: SandboxWorld) -> SandboxReply {
        let s = request.segments
        var found: SandboxRepository?
        if s.count >= 4, s[s.count - 2] == "info", s[s.count - 1] == "refs", s[s.count - 3].hasSuffix(".git") {
            let path = (s.dropLast(3) + [String(s[s.count - 3].dropLast(4))]).joined(separator: "/")
            found = world.repositories[path]
        }
        return RefsAdvertisementWriter.reply(for: found, request: request, notFound: "The project you were looking for could not be found.\n")
    }

    /// `POST /demo/REPO.git/git-upload-pack` for the real repositories, after the refs' checks.
    func uploadPack(_ request: SandboxRequest, in state: inout WorldState) -> UploadPackDecision {
        let s = request.segments
        guard s.count == 3, s[0] == DemoRepositories.workspace, s[2] == "git-upload-pack", s[1].hasSuffix(".git"),
              let demo = state.demo[name], demo.contains(String(s[1].dropLast(4))) else { return .notHere }
        guard case let .success(credential) = authenticate(request, git: true, user: world(state).user, now: state.now) else {
            state.stats.unauthorized += 1
            return .refuse(.text(401, "HTTP Basic: Access denied\n", headers: [("WWW-Authenticate", #"Basic realm="GitLab""#)]))
        }
        state.stats.byCredential[credential.window, default: 0] += 1
        guard state.admit(credential.window, kind: .git, on: name).allowed else { return .refuse(.text(429, "Retry later\n")) }
        return .serve(bare: demo.bare(String(s[1].dropLast(4))))
    }

    // MARK: Stats, control, banner

    func template(_ s: [String]) -> String {
        guard s.count >= 2, s[0] == "api" else { return s.last == "refs" ? "/{path}.git/info/refs" : "/" + s.joined(separator: "/") }
        var out = s
        if s.count >= 4, s[2] == "projects" { out[3] = "{id}" }
        if s.count >= 7, s[2] == "projects", s[4] == "repository", s[5] == "branches" || s[5] == "commits" { out = Array(out.prefix(6)) + ["{ref}"] }
        if s.count >= 6, s[2] == "projects", s[4] == "hooks" { out[5] = "{hook_id}" }
        return "/" + out.joined(separator: "/")
    }

    func control(_ object: [String: Any], in state: inout WorldState) {}

    func statistics(in state: WorldState) -> [String: Any] { ["token_requests": oauth.tokenRequests] }

    func banner(api: String, web: String, options: SandboxOptions) -> [BannerLine] {
        [
            BannerLine(label: "API", value: api),
            BannerLine(label: "git", value: "\(web)/FULL/PATH.git  (user oauth2)"),
            BannerLine(label: "token", value: "\(token)  (\(Self.tokenScopes.joined(separator: " ")))"),
            BannerLine(label: "token", value: "\(readOnlyToken)  (\(Self.readOnlyScopes.joined(separator: " ")): no hooks)"),
            BannerLine(label: "link", value: "echo \(token) | \(linkCommand(api: api, web: web))"),
            BannerLine(label: "oauth", value: "application id \(application.id), secret \(application.secret)  (tokens live \(options.tokenLifetimeSeconds ?? 7200) s)"),
            BannerLine(label: "device", value: "slipway link gitlab --api-url \(api) --web-url \(web) --device --client-id \(application.id)"),
            BannerLine(label: "code", value: "enter it at \(web)/oauth/device, or: curl -d user_code=CODE \(web)/oauth/device"),
        ]
    }

    func linkCommand(api: String, web: String) -> String {
        "slipway link gitlab --api-url \(api) --web-url \(web) --token-file -"
    }
}
