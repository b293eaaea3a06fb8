import Foundation

/// GitHub's OAuth endpoints under the web origin, for its two kinds of client: an OAuth App
/// (tokens `gho_…` that do not expire, scopes as asked, in `X-OAuth-Scopes`) and a GitHub App
/// (user tokens `ghu_…` that expire — 8 h unless `--token-lifetime` — with a rotating refresh
/// token `ghr_…`; permissions are the app's, so no scope header). `POST /login/device/code` and
/// the token endpoint `POST /login/oauth/access_token` answer JSON when asked by `Accept`, else a
/// form, and their errors come with status 200 as GitHub's do. The sandbox's user is always signed
/// in: `/login/oauth/authorize` approves at once; a device code is approved (or cancelled) by
/// submitting its user code at `/login/device`, the page a person would open.
public struct GitHubOAuthState: Sendable {
    /// A registered app: its client ID and secret.
    public struct Client: Sendable {
        public var id: String
        public var secret: String
        /// A GitHub App's user tokens expire and come with refresh tokens.
        public var expiring: Bool
    }

    struct DeviceCode: Sendable {
        enum Decision: Sendable { case pending, approved, denied }
        var clientID: String
        var userCode: String
        var scopes: [String]
        var expiresAt: Date
        var interval: Int
        var lastPoll: Date?
        var decision = Decision.pending
    }

    struct PendingCode: Sendable {
        var clientID: String
        var redirectURI: String?
        var challenge: String?
        var scopes: [String]
        var expiresAt: Date
    }

    struct Grant: Sendable {
        var clientID: String
        /// Nil for a GitHub App's token: its permissions, not scopes.
        var scopes: [String]?
        var expiresAt: Date?
        /// Refreshing a device flow's token needs no client secret.
        var viaDevice: Bool
        /// One authorization's tokens, old and new: a refresh retires the family's access tokens.
        var family: UInt64
    }

    var deviceCodes: [String: DeviceCode] = [:]
    var codes: [String: PendingCode] = [:]
    var accessTokens: [String: Grant] = [:]
    /// Refresh token → its grant while unused (a used one is gone: rotation).
    var refreshTokens: [String: Grant] = [:]
    var tokenRequests: [String: Int] = [:]
    var counter: UInt64 = 0

    mutating func mint(_ prefix: String, length: Int, random: inout SandboxRandom) -> String {
        counter += 1
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return prefix + String((0..<length).map { _ in alphabet[random.int(0...alphabet.count - 1)] })
    }
}

extension GitHubPersonality {
    /// The sandbox's two registered clients, from the seed.
    static func clients(seed: UInt64) -> (oauthApp: GitHubOAuthState.Client, githubApp: GitHubOAuthState.Client) {
        var r = SandboxRandom(seed: seed ^ 0x6768_6170_7073)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        func text(_ count: Int) -> String { String((0..<count).map { _ in alphabet[r.int(0...alphabet.count - 1)] }) }
        let hex = Array("0123456789abcdef")
        func secret() -> String { String((0..<40).map { _ in hex[r.int(0...15)] }) }
        return (GitHubOAuthState.Client(id: "Ov23li" + text(14), secret: secret(), expiring: false),
                GitHubOAuthState.Client(id: "Iv23li" + text(14), secret: secret(), expiring: true))
    }

    func client(_ id: String?) -> GitHubOAuthState.Client? {
        [oauthApp, githubApp].first { $0.id == id }
    }

    /// The grant behind an OAuth token, while it lives.
    func grant(for token: String, now: Date) -> GitHubOAuthState.Grant? {
        guard let grant = oauth.accessTokens[token] else { return nil }
        if let expires = grant.expiresAt, expires <= now { return nil }
        return grant
    }

    /// Called with the world's lock held.
    func oauthLocked(_ request: SandboxRequest, random: inout SandboxRandom, now: Date) -> SandboxReply {
        let path = request.segments.dropFirst().joined(separator: "/")
        switch (request.method, path) {
        case ("POST", "device/code"): return deviceCode(request, random: &random, now: now)
        case ("GET", "device"): return devicePage(request)
        case ("POST", "device"): return deviceDecision(request, now: now)
        case ("GET", "oauth/authorize"): return authorize(request, random: &random, now: now)
        case ("POST", "oauth/access_token"): return token(request, random: &random, now: now)
        default: return .text(404, "Not Found")
        }
    }

    // MARK: Device flow

    private func deviceCode(_ request: SandboxRequest, random: inout SandboxRandom, now: Date) -> SandboxReply {
        let form = request.formFields
        guard let client = client(form["client_id"]) else {
            return answer(request, ["error": "incorrect_client_credentials", "error_description": "The client_id is not valid."])
        }
        let device = oauth.mint("", length: 40, random: &random).lowercased()
        let letters = Array("BCDFGHJKLMNPQRSTVWXZ")
        let user = String((0..<8).map { _ in letters[random.int(0...letters.count - 1)] })
        let userCode = user.prefix(4) + "-" + user.suffix(4)
        oauth.deviceCodes[device] = GitHubOAuthState.DeviceCode(
            clientID: client.id, userCode: String(userCode), scopes: Self.scopes(form["scope"]),
            expiresAt: now.addingTimeInterval(TimeInterval((options.deviceCodeLifetimeSeconds ?? 900))), interval: options.deviceIntervalSeconds)
        return answer(request, ["device_code": device, "user_code": String(userCode), "verification_uri": origin + "/login/device",
                                "expires_in": (options.deviceCodeLifetimeSeconds ?? 900), "interval": options.deviceIntervalSeconds])
    }

    private func devicePage(_ request: SandboxRequest) -> SandboxReply {
        let html = """
            <!doctype html><title>Device activation</title>
            <form method="post" action="/login/device">
            <label>Enter the code displayed on your device <input name="user_code" placeholder="XXXX-XXXX"></label>
            <button name="authorize" value="approve">Authorize</button> <button name="authorize" value="cancel">Cancel</button>
            </form>
            """
        return SandboxReply(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: Data(html.utf8))
    }

    /// What a person's browser posts from the activation page.
    private func deviceDecision(_ request: SandboxRequest, now: Date) -> SandboxReply {
        let form = request.formFields
        let code = (form["user_code"] ?? "").uppercased().replacingOccurrences(of: " ", with: "")
        guard let (device, pending) = oauth.deviceCodes.first(where: { $0.value.userCode == code || $0.value.userCode.replacingOccurrences(of: "-", with: "") == code }),
              pending.expiresAt > now, pending.decision == .pending else {
            return .text(404, "That code is not valid or has expired.\n")
        }
        let approve = form["authorize"] != "cancel"
        oauth.deviceCodes[device]?.decision = approve ? .approved : .denied
        return .text(200, approve ? "Congratulations, you're all set! Your device is now connected.\n" : "Authorization cancelled.\n")
    }

    // MARK: Code flow

    private func authorize(_ request: SandboxRequest, random: inout SandboxRandom, now: Date) -> SandboxReply {
        guard let client = client(request.query["client_id"]?.first) else { return .text(404, "Not Found") }
        let redirect = request.query["redirect_uri"]?.first ?? "http://127.0.0.1/callback"
        // The sandbox's apps register loopback callbacks (GitHub allows any port on loopback).
        guard redirect.hasPrefix("http://127.0.0.1") || redirect.hasPrefix("http://localhost") else {
            return .text(400, "The redirect_uri MUST match the registered callback URL for this application.")
        }
        if let method = request.query["code_challenge_method"]?.first, method != "S256" {
            return .text(400, "code_challenge_method must be S256")
        }
        let code = oauth.mint("", length: 20, random: &random).lowercased()
        oauth.codes[code] = GitHubOAuthState.PendingCode(clientID: client.id, redirectURI: request.query["redirect_uri"]?.first,
                                                         challenge: request.query["code_challenge"]?.first,
                                                         scopes: Self.scopes(request.query["scope"]?.first), expiresAt: now.addingTimeInterval(600))
        return OAuthServer.approvalRedirect(to: redirect, code: code, state: request.query["state"]?.first)
    }

    // MARK: The token endpoint

    private func token(_ request: SandboxRequest, random: inout SandboxRandom, now: Date) -> SandboxReply {
        let form = request.formFields
        let grantType = form["grant_type"] ?? (form["code"] != nil ? "authorization_code" : "none")
        oauth.tokenRequests[grantType, default: 0] += 1
        func error(_ code: String, _ description: String, _ extra: [String: Any] = [:]) -> SandboxReply {
            var body: [String: Any] = ["error": code, "error_description": description,
                                       "error_uri": "https://docs.github.com/developers/apps/authorizing-oauth-apps"]
            for (k, v) in extra { body[k] = v }
            return answer(request, body)
        }
        guard let client = client(form["client_id"]) else { return error("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.") }
        switch grantType {
        case "urn:ietf:params:oauth:grant-type:device_code":
            guard let device = form["device_code"], var pending = oauth.deviceCodes[device], pending.clientID == client.id else {
                return error("incorrect_device_code", "The device_code provided is not valid.")
            }
            guard pending.expiresAt > now else {
                oauth.deviceCodes[device] = nil
                return error("expired_token", "The device_code has expired.")
            }
            // Polling faster than the interval earns 5 s more, for this and every later poll.
            if let last = pending.lastPoll, now.timeIntervalSince(last) < TimeInterval(pending.interval) - 0.25 {
                pending.interval += 5
                pending.lastPoll = now
                oauth.deviceCodes[device] = pending
                return error("slow_down", "Too many requests have been made in the same timeframe.", ["interval": pending.interval])
            }
            pending.lastPoll = now
            oauth.deviceCodes[device] = pending
            switch pending.decision {
            case .pending:
                return error("authorization_pending", "The authorization request is still pending.")
            case .denied:
                oauth.deviceCodes[device] = nil
                return error("access_denied", "The authorization request was denied.")
            case .approved:
                oauth.deviceCodes[device] = nil
                return issue(request, client: client, scopes: pending.scopes, viaDevice: true, random: &random, now: now)
            }
        case "authorization_code":
            guard form["client_secret"] == client.secret else {
                return error("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
            }
            guard let code = form["code"], let pending = oauth.codes.removeValue(forKey: code), pending.clientID == client.id, pending.expiresAt > now else {
                return error("bad_verification_code", "The code passed is incorrect or expired.")
            }
            if let registered = pending.redirectURI, form["redirect_uri"] != registered {
                return error("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.")
            }
            if let challenge = pending.challenge {
                guard OAuthServer.verifierMatches(form["code_verifier"], challenge: challenge) else { return error("bad_verification_code", "The code_verifier does not match the code_challenge.") }
            }
            return issue(request, client: client, scopes: pending.scopes, viaDevice: false, random: &random, now: now)
        case "refresh_token":
            guard let old = form["refresh_token"], let grant = oauth.refreshTokens[old], grant.clientID == client.id else {
                return error("bad_refresh_token", "The refresh token passed is incorrect or expired.")
            }
            // The secret is required unless the token came from the device flow.
            if !grant.viaDevice || form["client_secret"] != nil {
                guard form["client_secret"] == client.secret else {
                    return error("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
                }
            }
            // Rotation: the refresh token and the access token it belonged to are spent.
            oauth.refreshTokens[old] = nil
            for (token, issued) in oauth.accessTokens where issued.family == grant.family { oauth.accessTokens[token] = nil }
            return issue(request, client: client, scopes: grant.scopes ?? [], viaDevice: grant.viaDevice, family: grant.family, random: &random, now: now)
        default:
            return error("unsupported_grant_type", "The grant type is not supported.")
        }
    }

    private func issue(_ request: SandboxRequest, client: GitHubOAuthState.Client, scopes: [String], viaDevice: Bool, family: UInt64? = nil,
                       random: inout SandboxRandom, now: Date) -> SandboxReply {
        let family = family ?? oauth.counter + 1
        if client.expiring {
            let lifetime = options.tokenLifetimeSeconds ?? 28800
            let access = oauth.mint("ghu_", length: 36, random: &random)
            let refresh = oauth.mint("ghr_", length: 76, random: &random)
            let grant = GitHubOAuthState.Grant(clientID: client.id, scopes: nil, expiresAt: now.addingTimeInterval(TimeInterval(lifetime)), viaDevice: viaDevice, family: family)
            oauth.accessTokens[access] = grant
            oauth.refreshTokens[refresh] = grant
            return answer(request, ["access_token": access, "expires_in": lifetime, "refresh_token": refresh,
                                    "refresh_token_expires_in": 15_811_200, "scope": "", "token_type": "bearer"])
        }
        let access = oauth.mint("gho_", length: 36, random: &random)
        oauth.accessTokens[access] = GitHubOAuthState.Grant(clientID: client.id, scopes: scopes, expiresAt: nil, viaDevice: viaDevice, family: family)
        return answer(request, ["access_token": access, "token_type": "bearer", "scope": scopes.joined(separator: ",")])
    }

    /// JSON when the client asks for it, else GitHub's default form encoding; status 200 either way.
    private func answer(_ request: SandboxRequest, _ fields: [String: Any]) -> SandboxReply {
        if request.headers["accept"]?.contains("json") == true { return .json(200, fields) }
        var components = URLComponents()
        components.queryItems = fields.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: "\($0.value)") }
        return SandboxReply(status: 200, headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                            body: Data((components.percentEncodedQuery ?? "").utf8))
    }

    /// Scopes as asked (space- or comma-separated), in GitHub's normalized order.
    static func scopes(_ text: String?) -> [String] {
        Array(Set((text ?? "").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init))).sorted()
    }
}
