import Foundation

/// GitHub as the sandbox speaks it, GitHub Enterprise-style on one origin: REST under `/api/v3`,
/// git smart HTTP at `/OWNER/REPO.git`, web pages at the root. Classic tokens (`ghp_…`, scopes in
/// `X-OAuth-Scopes`) and fine-grained ones (`github_pat_…`, no scope header) as Bearer or
/// `token`; git takes either as the Basic password under any user name (`x-access-token`). One
/// hourly window per user shared by its tokens, `x-ratelimit-*` on every answer, exhaustion as a
/// 403 with `x-ratelimit-remaining: 0`; ETags with free 304s; `Link` pagination; repository hooks
/// with signed `push` deliveries and a `ping` on creation.
public final class GitHubPersonality: SandboxPersonality, @unchecked Sendable {
    let name = SandboxPersonalityName.github
    let options: SandboxOptions
    /// A classic personal access token with every scope a dashboard needs.
    public let classicToken: String
    /// A fine-grained personal access token (contents, metadata, webhooks, e-mail addresses).
    public let fineGrainedToken: String
    /// A fine-grained token given only contents and metadata: no webhooks, no e-mail addresses.
    public let limitedFineGrainedToken: String
    static let classicScopes = ["admin:repo_hook", "read:org", "repo", "user:email"]
    /// The registered OAuth App (tokens that do not expire) and GitHub App (user tokens that do).
    public let oauthApp: GitHubOAuthState.Client
    public let githubApp: GitHubOAuthState.Client
    static let summary = "github: REST under /api/v3, GraphQL at /api/graphql, git smart HTTP at /OWNER/REPO.git (user x-access-token)"

    // Guarded by the world's lock.
    var origin = "http://127.0.0.1"
    var hookNumber = 400_000_000
    /// GraphQL answers refused for the limit so far (they alternate between GitHub's two shapes).
    var graphQLLimited = 0
    var oauth = GitHubOAuthState()

    init(options: SandboxOptions) {
        self.options = options
        (classicToken, fineGrainedToken) = Self.tokens(seed: options.seed)
        limitedFineGrainedToken = "github_pat_" + String(fineGrainedToken.dropFirst("github_pat_".count).reversed())
        (oauthApp, githubApp) = Self.clients(seed: options.seed)
    }

    /// The tokens a seed's GitHub accepts.
    public static func tokens(seed: UInt64) -> (classic: String, fineGrained: String) {
        var r = SandboxRandom(seed: seed ^ 0x6768_705F_746F_6B6E)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        func text(_ count: Int) -> String { String((0..<count).map { _ in alphabet[r.int(0...alphabet.count - 1)] }) }
        return ("ghp_" + text(36), "github_pat_" + text(22) + "_" + text(59))
    }

    func urls(origin: String) -> (api: String, web: String) { (origin + "/api/v3", origin) }

    func kind(of request: SandboxRequest) -> RequestKind {
        let s = request.segments
        if s.count >= 2, s[0] == "api", s[1] == "graphql" { return .graphql }
        if s.first == "api" { return .rest }
        if s.first == "login" { return .oauth }
        return .git
    }

    func world(_ state: WorldState) -> SandboxWorld { state.hosts[name]! }

    // MARK: Credentials

    struct Credential {
        /// The window's key: tokens of one user share its limit.
        var window: String
        var scopes: [String]?
        /// A fine-grained token's permissions that are withheld (`webhooks`, `emails`).
        var withheld: Set<String> = []
        /// `public_repo` without `repo`: private repositories do not exist for it.
        var publicOnly: Bool { scopes.map { $0.contains("public_repo") && !$0.contains("repo") } ?? false }
    }

    /// The world as a credential sees it.
    func world(_ state: WorldState, for credential: Credential) -> SandboxWorld {
        credential.publicOnly ? world(state).publicRepositoriesOnly() : world(state)
    }

    private func authenticate(_ header: String?, git: Bool, user: SandboxUser, now: Date) -> Credential? {
        guard let header, let space = header.firstIndex(of: " ") else { return nil }
        let scheme = header[..<space].lowercased()
        var value = header[header.index(after: space)...].trimmingCharacters(in: .whitespaces)
        if scheme == "basic" {
            guard git, let decoded = Data(base64Encoded: value).flatMap({ String(data: $0, encoding: .utf8) }),
                  let colon = decoded.firstIndex(of: ":") else { return nil }
            value = String(decoded[decoded.index(after: colon)...])
        } else if scheme != "bearer" && scheme != "token" {
            return nil
        }
        switch value {
        case classicToken: return Credential(window: "user:\(user.nickname)", scopes: Self.classicScopes)
        case fineGrainedToken: return Credential(window: "user:\(user.nickname)", scopes: nil)
        case limitedFineGrainedToken: return Credential(window: "user:\(user.nickname)", scopes: nil, withheld: ["webhooks", "emails"])
        default:
            // OAuth tokens of either app act for the same user, so they share its window.
            guard let grant = grant(for: value, now: now) else { return nil }
            return Credential(window: "user:\(user.nickname)", scopes: grant.scopes)
        }
    }

    // MARK: Requests

    func respond(to request: SandboxRequest, in state: inout WorldState) -> SandboxReply {
        let kind = kind(of: request)
        if kind == .oauth { return oauthLocked(request, random: &state.random, now: state.now) }
        let user = world(state).user
        guard let credential = authenticate(request.headers["authorization"], git: kind == .git, user: user, now: state.now) else {
            state.stats.unauthorized += 1
            if kind == .git {
                return .text(401, "", headers: [("WWW-Authenticate", #"Basic realm="GitHub""#)])
            }
            return .json(401, GitHubWireFormat.error("Bad credentials", status: 401))
        }
        state.stats.byCredential[credential.window, default: 0] += 1
        // GraphQL prices its query before it is admitted.
        if kind == .graphql { return graphQL(request, credential: credential, in: &state) }
        let admitted = state.admit(credential.window, kind: kind, on: name)
        let resetsAt = state.resetsAt(credential.window, kind: kind, on: name)
        var limitHeaders: [(String, String)] = []
        if admitted.limit > 0 && kind != .git {
            let remaining = admitted.allowed ? max(0, admitted.limit - admitted.used) : 0
            limitHeaders = [("x-ratelimit-limit", String(admitted.limit)), ("x-ratelimit-remaining", String(remaining)),
                            ("x-ratelimit-used", String(min(admitted.used, admitted.limit))),
                            ("x-ratelimit-reset", String(Int(resetsAt.timeIntervalSince1970.rounded(.up)))),
                            ("x-ratelimit-resource", kind == .graphql ? "graphql" : "core")]
        }
        guard admitted.allowed else {
            if kind == .git { return .text(429, "rate limited\n") }
            return .json(403, GitHubWireFormat.error("API rate limit exceeded for user ID \(user.accountID). If you reach out to GitHub Support for help, please include the request ID.",
                                                     status: 403), headers: limitHeaders)
        }
        var reply: SandboxReply
        switch kind {
        case .git:
            return git(request, world: world(state, for: credential))
        case .rest:
            guard request.method == "GET" || request.method == "HEAD" || hooksPath(request.segments) != nil else {
                return .json(404, GitHubWireFormat.error("Not Found", status: 404))
            }
            reply = rest(request, credential: credential, in: &state)
        case .graphql, .oauth:
            reply = .json(404, GitHubWireFormat.error("Not Found", status: 404))
        }
        reply.headers += limitHeaders
        reply.headers.append(("X-GitHub-Media-Type", "github.v3; format=json"))
        if let scopes = credential.scopes {
            reply.headers += [("X-OAuth-Scopes", scopes.joined(separator: ", ")), ("X-Accepted-OAuth-Scopes", "")]
        }
        return conditional(reply, request: request, credential: credential, kind: kind, in: &state)
    }

    /// An ETag on every 200; `If-None-Match` with the current one answers 304 and costs nothing.
    private func conditional(_ reply: SandboxReply, request: SandboxRequest, credential: Credential, kind: RequestKind,
                             in state: inout WorldState) -> SandboxReply {
        guard reply.status == 200, request.method == "GET" else { return reply }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in reply.body { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let etag = "W/\"\(String(format: "%016llx", hash))\""
        var tagged = reply
        tagged.headers.append(("ETag", etag))
        let asked = request.headers["if-none-match"]?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        guard asked.contains(etag) || asked.contains(String(etag.dropFirst(2))) else { return tagged }
        state.refund(credential.window, kind: kind, on: name)
        var unchanged = SandboxReply(status: 304, headers: tagged.headers.filter { $0.0.lowercased() != "content-type" })
        // A free answer: what is left is what was left before it.
        unchanged.headers = unchanged.headers.map { header in
            guard header.0 == "x-ratelimit-remaining", let left = Int(header.1) else { return header }
            return (header.0, String(left + 1))
        }
        return unchanged
    }

    func faultReply(_ kind: FaultSpec.Kind, in state: inout WorldState) -> SandboxReply {
        let reset = String(Int(state.now.addingTimeInterval(3600).timeIntervalSince1970))
        switch kind {
        case .status(429):
            state.stats.rateLimited += 1
            return .json(429, GitHubWireFormat.error("API rate limit exceeded for user ID \(world(state).user.accountID).", status: 429),
                         headers: [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", reset), ("x-ratelimit-resource", "core")])
        case let .status(code) where code >= 500:
            return .json(code, GitHubWireFormat.error(code == 502 ? "Server Error" : "Service Unavailable", status: code))
        case let .status(code):
            return .json(code, GitHubWireFormat.error("Injected fault \(code)", status: code))
        case .rateLimitForbidden:
            // A secondary limit: 403 with a message saying so, and Retry-After.
            state.stats.rateLimited += 1
            return .json(403, GitHubWireFormat.error("You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", status: 403),
                         headers: [("Retry-After", String(options.retryAfterSeconds ?? 60))])
        case .malformed:
            var reply = SandboxReply.json(200, [:])
            reply.body = Data(#"[{"name": "main", "commit": {"sha": "#.utf8)
            return reply
        case .reset, .delay, .truncate:
            return .json(500, GitHubWireFormat.error("Server Error", status: 500))
        }
    }

    // MARK: git

    /// `/OWNER/REPO.git/info/refs?service=git-upload-pack`.
    private func git(_ request: SandboxRequest, world: SandboxWorld) -> SandboxReply {
        let s = request.segments
        let found = s.count == 4 && s[2] == "info" && s[3] == "refs" && s[1].hasSuffix(".git") ? world.repository(s[0], String(s[1].dropLast(4))) : nil
        return RefsAdvertisementWriter.reply(for: found, request: request, notFound: "Repository not found.\n")
    }

    /// `POST /demo/REPO.git/git-upload-pack` for the real repositories, after the refs' checks.
    func uploadPack(_ request: SandboxRequest, in state: inout WorldState) -> UploadPackDecision {
        let s = request.segments
        guard s.count == 3, s[0] == DemoRepositories.workspace, s[2] == "git-upload-pack", s[1].hasSuffix(".git"),
              let demo = state.demo[name], demo.contains(String(s[1].dropLast(4))) else { return .notHere }
        guard let credential = authenticate(request.headers["authorization"], git: true, user: world(state).user, now: state.now) else {
            state.stats.unauthorized += 1
            return .refuse(.text(401, "", headers: [("WWW-Authenticate", #"Basic realm="GitHub""#)]))
        }
        state.stats.byCredential[credential.window, default: 0] += 1
        guard state.admit(credential.window, kind: .git, on: name).allowed else { return .refuse(.text(429, "rate limited\n")) }
        return .serve(bare: demo.bare(String(s[1].dropLast(4))))
    }

    // MARK: Stats, control, banner

    func template(_ s: [String]) -> String {
        guard s.first == "api" else { return s.count == 4 ? "/{owner}/{repo}.git/info/refs" : "/" + s.joined(separator: "/") }
        var out = s
        if s.count >= 5, s[2] == "repos" {
            out[3] = "{owner}"
            out[4] = "{repo}"
            if s.count >= 7, s[5] == "branches" || s[5] == "commits" || s[5] == "compare" || s[5] == "hooks" {
                out = Array(out.prefix(6)) + ["{\(s[5] == "hooks" ? "id" : "ref")}"]
            }
        } else if s.count >= 4, s[2] == "orgs" || s[2] == "users" {
            out[3] = "{owner}"
        }
        return "/" + out.joined(separator: "/")
    }

    func control(_ object: [String: Any], in state: inout WorldState) {}

    func statistics(in state: WorldState) -> [String: Any] { ["token_requests": oauth.tokenRequests] }

    func banner(api: String, web: String, options: SandboxOptions) -> [BannerLine] {
        [
            BannerLine(label: "API", value: api),
            BannerLine(label: "git", value: "\(web)/OWNER/REPO.git  (user x-access-token)"),
            BannerLine(label: "token", value: "\(classicToken)  (classic: \(Self.classicScopes.joined(separator: " ")))"),
            BannerLine(label: "token", value: "\(fineGrainedToken)  (fine-grained)"),
            BannerLine(label: "token", value: "\(limitedFineGrainedToken)  (fine-grained, contents and metadata only)"),
            BannerLine(label: "link", value: "echo \(classicToken) | \(linkCommand(api: api, web: web))"),
            BannerLine(label: "oauth", value: "OAuth App, client id \(oauthApp.id), secret \(oauthApp.secret)  (tokens do not expire)"),
            BannerLine(label: "app", value: "GitHub App, client id \(githubApp.id), secret \(githubApp.secret)  (user tokens live \(options.tokenLifetimeSeconds ?? 28800) s, refresh tokens rotate)"),
            BannerLine(label: "device", value: "slipway link github --api-url \(api) --web-url \(web) --device --client-id \(githubApp.id)"),
            BannerLine(label: "code", value: "enter it at \(web)/login/device, or: curl -d user_code=CODE \(web)/login/device"),
        ]
    }

    func linkCommand(api: String, web: String) -> String {
        "slipway link github --api-url \(api) --web-url \(web) --token-file -"
    }
}
