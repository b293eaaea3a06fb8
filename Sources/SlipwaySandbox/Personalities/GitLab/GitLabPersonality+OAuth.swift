import Foundation

/// GitLab's OAuth 2.0 (Doorkeeper) under the web origin, for one registered application:
/// `GET /oauth/authorize` (the signed-in user approves at once; PKCE S256 checked at the
/// exchange), `POST /oauth/authorize_device` and the activation page `/oauth/device`, and
/// `POST /oauth/token` for the code, device and refresh grants. Access tokens last 2 h (or
/// `--token-lifetime`) and come with a refresh token; a refresh spends the old pair. Errors are
/// RFC 6749 JSON with 400 (401 for a wrong client). The client secret is optional: an
/// application may be public (PKCE, the device grant), but a secret that is sent must match.
struct GitLabOAuthState: Sendable {
    struct DeviceCode: Sendable {
        enum Decision: Sendable { case pending, approved, denied }
        var userCode: String
        var scopes: [String]
        var expiresAt: Date
        var lastPoll: Date?
        var interval: Int
        var decision = Decision.pending
    }

    struct PendingCode: Sendable {
        var redirectURI: String?
        var challenge: String?
        var scopes: [String]
        var expiresAt: Date
    }

    struct Grant: Sendable {
        var scopes: [String]
        var expiresAt: Date
        var family: UInt64
    }

    var deviceCodes: [String: DeviceCode] = [:]
    var codes: [String: PendingCode] = [:]
    var accessTokens: [String: Grant] = [:]
    /// Refresh token → its grant while unused.
    var refreshTokens: [String: Grant] = [:]
    var tokenRequests: [String: Int] = [:]
    var counter: UInt64 = 0

    mutating func hex(_ count: Int, random: inout SandboxRandom) -> String {
        counter += 1
        var text = ""
        while text.count < count { text += String(format: "%016llx", random.next()) }
        return String(text.prefix(count))
    }
}

/// The registered application.
public struct GitLabApplication: Sendable {
    public var id: String
    public var secret: String
}

extension GitLabPersonality {
    static func application(seed: UInt64) -> GitLabApplication {
        var r = SandboxRandom(seed: seed ^ 0x676C_6F61_7574)
        let hex = Array("0123456789abcdef")
        return GitLabApplication(id: String((0..<64).map { _ in hex[r.int(0...15)] }),
                                 secret: "gloas-" + String((0..<64).map { _ in hex[r.int(0...15)] }))
    }

    /// The grant behind an OAuth access token, while it lives.
    func grant(for token: String, now: Date) -> GitLabOAuthState.Grant? {
        guard let grant = oauth.accessTokens[token], grant.expiresAt > now else { return nil }
        return grant
    }

    /// Whether a token was issued here and has expired (GitLab says so in its 401).
    func isExpiredOAuthToken(_ token: String, now: Date) -> Bool {
        oauth.accessTokens[token].map { $0.expiresAt <= now } ?? false
    }

    /// Called with the world's lock held.
    func oauthLocked(_ request: SandboxRequest, random: inout SandboxRandom, now: Date) -> SandboxReply {
        switch (request.method, request.segments.dropFirst().joined(separator: "/")) {
        case ("GET", "authorize"): return authorize(request, random: &random, now: now)
        case ("POST", "authorize_device"): return authorizeDevice(request, random: &random, now: now)
        case ("GET", "device"):
            let html = #"<!doctype html><title>Device authorization</title><form method="post" action="/oauth/device"><input name="user_code"><button name="action" value="approve">Authorize</button><button name="action" value="deny">Deny</button></form>"#
            return SandboxReply(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: Data(html.utf8))
        case ("POST", "device"): return deviceDecision(request, now: now)
        case ("POST", "token"): return token(request, random: &random, now: now)
        default: return .text(404, "Not Found")
        }
    }

    private func error(_ status: Int, _ code: String, _ description: String) -> SandboxReply {
        .json(status, ["error": code, "error_description": description])
    }

    /// The client is this application; a secret, when sent, must be its secret.
    private func clientChecks(_ form: [String: String]) -> SandboxReply? {
        guard form["client_id"] == application.id, form["client_secret"].map({ $0 == application.secret }) ?? true else {
            return error(401, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
        }
        return nil
    }

    private func authorize(_ request: SandboxRequest, random: inout SandboxRandom, now: Date) -> SandboxReply {
        guard request.query["client_id"]?.first == application.id else { return .text(401, "Client authentication failed due to unknown client.") }
        let redirect = request.query["redirect_uri"]?.first ?? "http://127.0.0.1/callback"
        guard redirect.hasPrefix("http://127.0.0.1") || redirect.hasPrefix("http://localhost") else {
            return .text(400, "The redirect uri included is not valid.")
        }
        let code = oauth.hex(64, random: &random)
        oauth.codes[code] = GitLabOAuthState.PendingCode(redirectURI: request.query["redirect_uri"]?.first, challenge: request.query["code_challenge"]?.first,
                                                         scopes: Self.scopes(request.query["scope"]?.first), expiresAt: now.addingTimeInterval(600))
        return OAuthServer.approvalRedirect(to: redirect, code: code, state: request.query["state"]?.first)
    }

    private func authorizeDevice(_ request: SandboxRequest, random: inout SandboxRandom, now: Date) -> SandboxReply {
        let form = request.formFields
        if let refused = clientChecks(form) { return refused }
        let device = oauth.hex(43, random: &random)
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
        let userCode = String((0..<8).map { _ in alphabet[random.int(0...alphabet.count - 1)] })
        let lifetime = options.deviceCodeLifetimeSeconds ?? 300
        oauth.deviceCodes[device] = GitLabOAuthState.DeviceCode(userCode: userCode, scopes: Self.scopes(form["scope"]),
                                                                expiresAt: now.addingTimeInterval(TimeInterval(lifetime)), interval: options.deviceIntervalSeconds)
        return .json(200, ["device_code": device, "user_code": userCode, "verification_uri": origin + "/oauth/device",
                           "verification_uri_complete": origin + "/oauth/device?user_code=\(userCode)", "expires_in": lifetime,
                           "interval": options.deviceIntervalSeconds])
    }

    private func deviceDecision(_ request: SandboxRequest, now: Date) -> SandboxReply {
        let form = request.formFields
        let code = (form["user_code"] ?? "").uppercased()
        guard let (device, pending) = oauth.deviceCodes.first(where: { $0.value.userCode == code }), pending.expiresAt > now, pending.decision == .pending else {
            return .text(404, "The user code is invalid or has expired.\n")
        }
        let approve = form["action"] != "deny"
        oauth.deviceCodes[device]?.decision = approve ? .approved : .denied
        return .text(200, approve ? "The device is now authorized.\n" : "The authorization was denied.\n")
    }

    private func token(_ request: SandboxRequest, random: inout SandboxRandom, now: Date) -> SandboxReply {
        let form = request.formFields
        let grantType = form["grant_type"] ?? "none"
        oauth.tokenRequests[grantType, default: 0] += 1
        if let refused = clientChecks(form) { return refused }
        switch grantType {
        case "authorization_code":
            guard let code = form["code"], let pending = oauth.codes.removeValue(forKey: code), pending.expiresAt > now else {
                return error(400, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
            }
            if let registered = pending.redirectURI, form["redirect_uri"] != registered {
                return error(400, "invalid_grant", "The redirect URI does not match the authorization request.")
            }
            if let challenge = pending.challenge {
                guard OAuthServer.verifierMatches(form["code_verifier"], challenge: challenge) else { return error(400, "invalid_grant", "The code verifier does not match the code challenge.") }
            } else if form["client_secret"] == nil {
                // Without PKCE, the client must prove itself with its secret.
                return error(401, "invalid_client", "Client authentication failed.")
            }
            return issue(scopes: pending.scopes, family: nil, random: &random, now: now)
        case "urn:ietf:params:oauth:grant-type:device_code":
            guard let device = form["device_code"], var pending = oauth.deviceCodes[device] else {
                return error(400, "invalid_grant", "The device code is invalid.")
            }
            guard pending.expiresAt > now else {
                oauth.deviceCodes[device] = nil
                return error(400, "expired_token", "The device_code has expired, and the device authorization session has concluded.")
            }
            if let last = pending.lastPoll, now.timeIntervalSince(last) < TimeInterval(pending.interval) - 0.25 {
                pending.lastPoll = now
                oauth.deviceCodes[device] = pending
                return error(400, "slow_down", "A variant of authorization_pending, the authorization request is still pending and polling should continue, but the interval MUST be increased by 5 seconds for this and all subsequent requests.")
            }
            pending.lastPoll = now
            oauth.deviceCodes[device] = pending
            switch pending.decision {
            case .pending:
                return error(400, "authorization_pending", "The authorization request is still pending as the end user hasn't yet completed the user-interaction steps.")
            case .denied:
                oauth.deviceCodes[device] = nil
                return error(400, "access_denied", "The resource owner or authorization server denied the request.")
            case .approved:
                oauth.deviceCodes[device] = nil
                return issue(scopes: pending.scopes, family: nil, random: &random, now: now)
            }
        case "refresh_token":
            guard let old = form["refresh_token"], let grant = oauth.refreshTokens.removeValue(forKey: old) else {
                return error(400, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
            }
            // The old access token goes with its refresh token.
            for (token, issued) in oauth.accessTokens where issued.family == grant.family { oauth.accessTokens[token] = nil }
            return issue(scopes: grant.scopes, family: grant.family, random: &random, now: now)
        default:
            return error(400, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
        }
    }

    private func issue(scopes: [String], family: UInt64?, random: inout SandboxRandom, now: Date) -> SandboxReply {
        let lifetime = options.tokenLifetimeSeconds ?? 7200
        let family = family ?? oauth.counter + 1
        let access = oauth.hex(64, random: &random)
        let refresh = oauth.hex(64, random: &random)
        let grant = GitLabOAuthState.Grant(scopes: scopes, expiresAt: now.addingTimeInterval(TimeInterval(lifetime)), family: family)
        oauth.accessTokens[access] = grant
        oauth.refreshTokens[refresh] = grant
        return .json(200, ["access_token": access, "token_type": "Bearer", "expires_in": lifetime, "refresh_token": refresh,
                           "scope": scopes.joined(separator: " "), "created_at": Int(now.timeIntervalSince1970)])
    }

    /// Space-separated, as asked (GitLab keeps the order).
    static func scopes(_ text: String?) -> [String] {
        (text ?? "").split(separator: " ").map(String.init)
    }
}
