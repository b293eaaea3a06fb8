import Foundation
import SlipwayProviders

/// Bitbucket Cloud as the sandbox speaks it: REST 2.0 under `/2.0`, git smart HTTP under
/// `/git/WORKSPACE/REPO.git`, OAuth 2.0 under `/site/oauth2`; access tokens (Bearer, git user
/// `x-token-auth`), API tokens (Basic with the e-mail), OAuth consumers; hourly windows with
/// `X-RateLimit-*` on access tokens, 429s as text/plain; signed `repo:push` deliveries.
public final class BitbucketPersonality: SandboxPersonality, @unchecked Sendable {
    let name = SandboxPersonalityName.bitbucket
    let options: SandboxOptions
    /// The access token the sandbox accepts (Bearer, and git user `x-token-auth`).
    public let accessToken: String
    /// The Atlassian API token accepted with the user's e-mail (Basic).
    public let apiToken: String
    /// The OAuth consumer's key and secret.
    public let consumer: (key: String, secret: String)

    // Guarded by the world's lock.
    var origin = "http://127.0.0.1"
    var oauthState = OAuthState()

    static let summary = "bitbucket: REST API 2.0 under /2.0, git smart HTTP under /git/WORKSPACE/REPO.git, OAuth 2.0 under /site/oauth2"

    init(options: SandboxOptions) {
        self.options = options
        (accessToken, apiToken) = Self.tokens(seed: options.seed)
        consumer = Self.consumer(seed: options.seed)
    }

    /// The credentials a seed's sandbox accepts (`slipway sandbox --seed N --print-token`).
    public static func tokens(seed: UInt64) -> (access: String, api: String) {
        var r = SandboxRandom(seed: seed ^ 0xA11C_E5ED_70CE_4E11)
        let access = "sbx_" + (0..<2).map { _ in String(format: "%016llx", r.next()) }.joined()
        let api = "ATATTsbx" + (0..<2).map { _ in String(format: "%016llx", r.next()) }.joined().uppercased()
        return (access, api)
    }

    /// The OAuth consumer a seed's sandbox knows: key and secret.
    public static func consumer(seed: UInt64) -> (key: String, secret: String) {
        var r = SandboxRandom(seed: seed ^ 0xC0_45E3_0BEE_F000)
        return ("sbxkey" + String(format: "%012llx", r.next() & 0xFFFF_FFFF_FFFF), "sbxsecret" + String(format: "%016llx", r.next()))
    }

    func urls(origin: String) -> (api: String, web: String) { (origin + "/2.0", origin) }

    func kind(of request: SandboxRequest) -> RequestKind {
        switch request.segments.first {
        case "git": .git
        case "site" where request.segments.dropFirst().first == "oauth2": .oauth
        default: .rest
        }
    }

    // MARK: Requests

    func respond(to request: SandboxRequest, in state: inout WorldState) -> SandboxReply {
        let kind = kind(of: request)
        if kind == .oauth { return oauthLocked(request, state: &oauthState, random: &state.random, now: state.now) }
        let hooks = Self.hooksPath(request.segments)
        guard request.method == "GET" || request.method == "HEAD" || (hooks != nil && (request.method == "POST" || request.method == "DELETE")) else {
            return .json(405, WireFormat.error("Method \(request.method) is not allowed here"))
        }
        // Who is asking.
        let credential: Credential
        switch authenticate(request.headers["authorization"], git: kind == .git, user: world(state).user, now: state.now) {
        case let .success(c): credential = c
        case let .failure(box):
            state.stats.unauthorized += 1
            return box.reply
        }
        state.stats.byCredential[credential.name, default: 0] += 1

        // Within the limit?
        let admitted = state.admit(credential.name, kind: kind, on: name)
        guard admitted.allowed else { return rateLimitReply(accessToken: credential.isAccessToken, limit: state.limits.perHour(.rest, on: name)) }
        let granted = credential.scopes ?? (credential.isAccessToken ? options.tokenScopes : nil)
        if kind == .rest, request.segments.starts(with: ["2.0", "user", "emails"]), let granted, !granted.contains("email") {
            // As Bitbucket answers a token without the scope an endpoint declares.
            return .json(403, WireFormat.error("Your credentials lack one or more required privilege scopes.",
                                               detail: "granted: \(granted.joined(separator: ", ")); required: email"))
        }
        var reply: SandboxReply
        if kind == .git {
            reply = git(request, world: world(state))
        } else if let hooks {
            reply = self.hooks(request, path: hooks, in: &state)
        } else {
            reply = BitbucketREST(world: world(state), origin: origin).respond(to: request)
        }
        if credential.isAccessToken && kind == .rest && admitted.limit > 0 {
            reply.headers += [("X-RateLimit-Limit", String(admitted.limit)), ("X-RateLimit-Resource", "api"),
                              ("X-RateLimit-NearLimit", admitted.used * 5 >= admitted.limit * 4 ? "true" : "false")]
        }
        if kind == .rest, let granted {
            // What the token may do, as Bitbucket reports it.
            reply.headers.append(("X-OAuth-Scopes", granted.joined(separator: ", ")))
        }
        return reply
    }

    /// This personality's part of the world.
    /// (The service builds every personality's host before it serves any request.)
    func world(_ state: WorldState) -> SandboxWorld { state.hosts[name]! }

    func faultReply(_ kind: FaultSpec.Kind, in state: inout WorldState) -> SandboxReply {
        switch kind {
        case .status(429):
            state.stats.rateLimited += 1
            return rateLimitReply(accessToken: false, limit: 0)
        case let .status(code) where code >= 500 && code != 501:
            return .text(code, code == 503 ? "Service Unavailable" : "Internal Server Error")
        case let .status(code):
            return .json(code, WireFormat.error("Injected fault \(code)"))
        case .rateLimitForbidden:
            state.stats.rateLimited += 1
            return .json(403, WireFormat.error("API rate limit exceeded"), headers: [("Retry-After", String(options.retryAfterSeconds ?? 60))])
        case .malformed:
            var reply = SandboxReply.json(200, [:])
            reply.body = Data(#"{"pagelen": 10, "values": [{"name": "main", "target": {"hash": "#.utf8)
            return reply
        case .reset, .delay, .truncate:
            // Transport faults are the world's; they never ask for a reply.
            return .text(500, "Internal Server Error")
        }
    }

    /// A 429 as Bitbucket sends it: text/plain, `Retry-After` only when configured, and the
    /// `X-RateLimit-*` marks on access tokens.
    private func rateLimitReply(accessToken: Bool, limit: Int) -> SandboxReply {
        var headers: [(String, String)] = []
        if let seconds = options.retryAfterSeconds { headers.append(("Retry-After", String(seconds))) }
        if accessToken && limit > 0 {
            headers += [("X-RateLimit-Limit", String(limit)), ("X-RateLimit-Resource", "api"), ("X-RateLimit-NearLimit", "true")]
        }
        return .text(429, "Rate limit for this resource has been exceeded", headers: headers)
    }

    // MARK: Credentials

    struct Credential {
        var name: String
        /// Repository, project and workspace access tokens get X-RateLimit headers; OAuth tokens do not.
        var isAccessToken: Bool
        var scopes: [String]? = nil
    }

    private func authenticate(_ header: String?, git: Bool, user: SandboxUser, now: Date) -> Result<Credential, SandboxReplyBox> {
        let basicChallenge = [("WWW-Authenticate", #"Basic realm="Bitbucket.org HTTP""#)]
        guard let header, let space = header.firstIndex(of: " ") else {
            return .failure(SandboxReplyBox(.text(401, git ? "" : "Unauthorized", headers: basicChallenge)))
        }
        let scheme = header[..<space].lowercased()
        let value = header[header.index(after: space)...].trimmingCharacters(in: .whitespaces)
        if scheme == "bearer", !git, let issued = oauthState.accessTokens[value] {
            guard issued.expiresAt > now else {
                return .failure(SandboxReplyBox(.json(401, WireFormat.error("Access token expired."),
                                                      headers: [("WWW-Authenticate", #"Bearer realm="bitbucket.org", error="invalid_token""#)])))
            }
            // OAuth calls count against the consumer.
            return .success(Credential(name: "oauth:\(consumer.key)", isAccessToken: false, scopes: issued.scopes))
        }
        if scheme == "bearer", !git {
            guard value == accessToken else {
                return .failure(SandboxReplyBox(.json(401, WireFormat.error("Token is invalid, expired, or not supported for this endpoint."),
                                                      headers: [("WWW-Authenticate", #"Bearer realm="bitbucket.org""#)])))
            }
            return .success(Credential(name: "access_token", isAccessToken: true))
        }
        if scheme == "basic", let decoded = Data(base64Encoded: value).flatMap({ String(data: $0, encoding: .utf8) }),
           let colon = decoded.firstIndex(of: ":") {
            let name = String(decoded[..<colon])
            let secret = String(decoded[decoded.index(after: colon)...])
            if git && name == "x-token-auth" && secret == accessToken { return .success(Credential(name: "access_token", isAccessToken: true)) }
            if git && name == "x-token-auth", let issued = oauthState.accessTokens[secret], issued.expiresAt > now {
                return .success(Credential(name: "oauth:\(consumer.key)", isAccessToken: false))
            }
            if (name == user.email || (git && (name == "x-bitbucket-api-token-auth" || name == user.nickname))) && secret == apiToken {
                return .success(Credential(name: "api_token:\(user.email)", isAccessToken: false))
            }
        }
        return .failure(SandboxReplyBox(.text(401, git ? "" : "Unauthorized", headers: basicChallenge)))
    }

    // MARK: git

    /// `/git/WORKSPACE/REPO.git/info/refs?service=git-upload-pack`: the refs advertisement.
    private func git(_ request: SandboxRequest, world: SandboxWorld) -> SandboxReply {
        let s = request.segments
        let found = s.count == 5 && s[3] == "info" && s[4] == "refs" && s[2].hasSuffix(".git") ? world.repository(s[1], String(s[2].dropLast(4))) : nil
        return RefsAdvertisementWriter.reply(for: found, request: request, notFound: "Repository not found\n")
    }

    /// `POST /git/demo/REPO.git/git-upload-pack`, after the same credential and limit checks as the refs.
    func uploadPack(_ request: SandboxRequest, in state: inout WorldState) -> UploadPackDecision {
        let s = request.segments
        guard s.count == 4, s[0] == "git", s[3] == "git-upload-pack", s[2].hasSuffix(".git"), s[1] == DemoRepositories.workspace,
              let demo = state.demo[name], demo.contains(String(s[2].dropLast(4))) else { return .notHere }
        switch authenticate(request.headers["authorization"], git: true, user: world(state).user, now: state.now) {
        case let .failure(box):
            state.stats.unauthorized += 1
            return .refuse(box.reply)
        case let .success(credential):
            state.stats.byCredential[credential.name, default: 0] += 1
            guard state.admit(credential.name, kind: .git, on: name).allowed else {
                return .refuse(rateLimitReply(accessToken: credential.isAccessToken, limit: state.limits.perHour(.rest, on: name)))
            }
            return .serve(bare: demo.bare(String(s[2].dropLast(4))))
        }
    }

    // MARK: Stats, control, banner

    /// A path with its variable parts named, for the stats.
    func template(_ s: [String]) -> String {
        guard let first = s.first else { return "/" }
        switch first {
        case "git": return "/git/{workspace}/{repo}.git/" + s.dropFirst(3).joined(separator: "/")
        case "2.0" where s.count >= 2 && s[1] == "repositories":
            let names = ["2.0", "repositories", "{workspace}", "{repo}"]
            var out = s.enumerated().map { $0.offset < names.count ? names[$0.offset] : $0.element }
            if out.count > 5 && out[4] == "refs" { out = Array(out.prefix(6)) + (out.count > 6 ? ["{branch}"] : []) }
            if out.count > 5 && (out[4] == "commits" || out[4] == "commit") { out = Array(out.prefix(5)) + ["{revision}"] }
            return "/" + out.joined(separator: "/")
        case "2.0" where s.count == 3 && s[1] == "workspaces":
            return "/2.0/workspaces/{workspace}"
        default:
            return "/" + s.joined(separator: "/")
        }
    }

    func control(_ object: [String: Any], in state: inout WorldState) {
        if let scopes = object["oauth_scopes"] as? [String] { oauthState.grantScopes = scopes }
        // A revoked consumer: every refresh token and access token stops working.
        if object["revoke_tokens"] as? Bool == true {
            for key in oauthState.refreshTokens.keys { oauthState.refreshTokens[key] = false }
            oauthState.accessTokens.removeAll()
        }
    }

    func statistics(in state: WorldState) -> [String: Any] {
        ["token_requests": oauthState.tokenRequests]
    }

    func banner(api: String, web: String, options: SandboxOptions) -> [BannerLine] {
        [
            BannerLine(label: "API", value: api),
            BannerLine(label: "git", value: "\(web)/git/WORKSPACE/REPO.git  (user \(BitbucketProvider.descriptor.gitUsername(.bearer(accessToken))))"),
            BannerLine(label: "token", value: accessToken),
            BannerLine(label: "oauth", value: "consumer key \(consumer.key), secret \(consumer.secret) (tokens live \(options.tokenLifetimeSeconds ?? 7200) s)"),
            BannerLine(label: "link", value: "echo \(accessToken) | \(linkCommand(api: api, web: web))"),
        ]
    }

    func linkCommand(api: String, web: String) -> String {
        "slipway link bitbucket --api-url \(api) --web-url \(web) --token-file -"
    }
}

/// `Result` needs an `Error` failure type; a reply is carried in this box.
struct SandboxReplyBox: Error {
    var reply: SandboxReply
    init(_ reply: SandboxReply) { self.reply = reply }
}
