import Foundation

/// Bitbucket's OAuth 2.0 endpoints under the web URL: `/site/oauth2/authorize` (the user always
/// approves) and `/site/oauth2/access_token` (form-encoded, client as Basic credentials, RFC 6749
/// errors; authorization_code, refresh_token with rotation, client_credentials).
extension BitbucketPersonality {
    /// Called with the world's lock held.
    func oauthLocked(_ request: SandboxRequest, state: inout OAuthState, random: inout SandboxRandom, now: Date) -> SandboxReply {
        switch (request.method, request.segments.dropFirst(2).first) {
        case ("GET", "authorize"):
            return authorize(request, state: &state, random: &random, now: now)
        case ("POST", "access_token"):
            return token(request, state: &state, random: &random, now: now)
        default:
            return .text(404, "Not Found")
        }
    }

    private func authorize(_ request: SandboxRequest, state: inout OAuthState, random: inout SandboxRandom, now: Date) -> SandboxReply {
        guard request.query["client_id"]?.first == consumer.key else {
            return .text(400, "Invalid client_id")
        }
        guard request.query["response_type"]?.first == "code" else {
            return .text(400, "unsupported_response_type")
        }
        // Bitbucket matches the registered callback as a prefix; the sandbox registers http://127.0.0.1 and http://localhost.
        let redirect = request.query["redirect_uri"]?.first ?? "http://127.0.0.1/callback"
        guard redirect.hasPrefix("http://127.0.0.1") || redirect.hasPrefix("http://localhost") else {
            return .text(400, "redirect_uri does not match the consumer's callback URL")
        }
        let code = state.mint("sbxcode", random: &random)
        state.codes[code] = OAuthState.PendingCode(redirectURI: request.query["redirect_uri"]?.first, expiresAt: now.addingTimeInterval(600),
                                                   challenge: request.query["code_challenge"]?.first)
        return OAuthServer.approvalRedirect(to: redirect, code: code, state: request.query["state"]?.first)
    }

    private func token(_ request: SandboxRequest, state: inout OAuthState, random: inout SandboxRandom, now: Date) -> SandboxReply {
        func oauthError(_ status: Int, _ error: String, _ description: String) -> SandboxReply {
            .json(status, ["error": error, "error_description": description])
        }
        // The client authenticates with Basic credentials.
        guard let header = request.headers["authorization"], header.lowercased().hasPrefix("basic "),
              let decoded = Data(base64Encoded: String(header.dropFirst(6))).flatMap({ String(data: $0, encoding: .utf8) }),
              decoded == "\(consumer.key):\(consumer.secret)" else {
            return oauthError(401, "invalid_client", "Invalid OAuth client credentials")
        }
        // Form-encoded only: a JSON body reads as no grant at all, as on Bitbucket.
        var form: [String: String] = [:]
        if request.headers["content-type"]?.hasPrefix("application/x-www-form-urlencoded") == true {
            var components = URLComponents()
            components.percentEncodedQuery = String(decoding: request.body, as: UTF8.self).replacingOccurrences(of: "+", with: "%20")
            for item in components.queryItems ?? [] { form[item.name] = item.value ?? "" }
        }
        let grant = form["grant_type"]
        state.tokenRequests[grant ?? "none", default: 0] += 1
        switch grant {
        case "authorization_code":
            guard let code = form["code"], let pending = state.codes.removeValue(forKey: code), pending.expiresAt > now else {
                return oauthError(400, "invalid_grant", "The authorization code is invalid or has expired")
            }
            if let registered = pending.redirectURI, form["redirect_uri"] != registered {
                return oauthError(400, "invalid_grant", "redirect_uri does not match the authorization request")
            }
            return issue(state: &state, random: &random, refresh: true, now: now)
        case "refresh_token":
            guard let old = form["refresh_token"], state.refreshTokens[old] == true else {
                return oauthError(400, "invalid_grant", "Invalid refresh_token")
            }
            state.refreshTokens[old] = false
            return issue(state: &state, random: &random, refresh: true, now: now)
        case "client_credentials":
            return issue(state: &state, random: &random, refresh: true, now: now)
        case nil:
            return oauthError(400, "invalid_grant", "Unsupported grant type: None")
        case let other?:
            return oauthError(400, "unsupported_grant_type", "Unsupported grant type: \(other)")
        }
    }

    private func issue(state: inout OAuthState, random: inout SandboxRandom, refresh: Bool, now: Date) -> SandboxReply {
        let lifetime = options.tokenLifetimeSeconds ?? 7200
        let access = state.mint("sbxoauth", random: &random)
        let scopes = state.grantScopes ?? options.tokenScopes
        state.accessTokens[access] = OAuthState.IssuedToken(expiresAt: now.addingTimeInterval(TimeInterval(lifetime)), scopes: scopes)
        var body: [String: Any] = ["access_token": access, "scopes": scopes.joined(separator: " "),
                                   "expires_in": lifetime, "token_type": "bearer"]
        if refresh {
            let token = state.mint("sbxrefresh", random: &random)
            state.refreshTokens[token] = true
            body["refresh_token"] = token
        }
        return .json(200, body)
    }
}
