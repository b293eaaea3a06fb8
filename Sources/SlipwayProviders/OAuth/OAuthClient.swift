import Crypto
import Foundation
import SlipwayHTTP

/// A token response (RFC 6749 §5.1; Bitbucket sends `scopes`, plural, space-separated).
public struct OAuthToken: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String?
    public var expiresIn: TimeInterval?
    public var scopes: [String]

    public init(accessToken: String, refreshToken: String?, expiresIn: TimeInterval?, scopes: [String]) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresIn = expiresIn
        self.scopes = scopes
    }
}

public enum OAuthError: Error, Equatable, CustomStringConvertible {
    /// The grant is dead (a used or revoked refresh token, a revoked consumer): relink.
    case rejected(code: String, description: String)
    /// A callback with a different `state` than the one Slipway sent.
    case stateMismatch
    /// The user or the provider declined in the browser.
    case denied(String)
    case malformedRedirect(String)
    case timedOut
    /// The device flow's "not yet" (`authorization_pending`, `slow_down`).
    case pending(slowDown: Bool, interval: TimeInterval?)
    /// The device code expired before anyone approved it.
    case expired

    public var description: String {
        switch self {
        case let .rejected(code, description): "the provider refused the OAuth grant (\(code)\(description.isEmpty ? "" : ": \(description)"))"
        case .stateMismatch: "the OAuth callback's state does not match this request; ignored"
        case let .denied(reason): "authorization was declined: \(reason)"
        case let .malformedRedirect(text): "'\(text.prefix(80))' is neither the redirected URL nor a code"
        case .timedOut: "no authorization arrived in time; run the command again"
        case .pending: "the authorization is still pending"
        case .expired: "the code expired before it was approved; run the command again for a new one"
        }
    }

    /// Grants that cannot recover without the user linking again.
    public var needsRelink: Bool {
        if case .rejected = self { return true }
        return false
    }
}

/// An OAuth 2.0 client for a provider's endpoints (from its descriptor): form-encoded token
/// requests with the client as Basic credentials or in the form, as the provider wants;
/// authorization-code with PKCE, the device grant (RFC 8628), refresh and client credentials.
public struct OAuthClient: Sendable {
    public var webURL: String
    public var endpoints: OAuthEndpoints
    public var clientID: String
    /// Nil for a public client (the device flow needs no secret, nor does refreshing its tokens on GitHub).
    public var clientSecret: String?
    public var http: HTTPClient

    public init(webURL: String, endpoints: OAuthEndpoints, clientID: String, clientSecret: String?, http: HTTPClient) {
        self.webURL = webURL.hasSuffix("/") ? String(webURL.dropLast()) : webURL
        self.endpoints = endpoints
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.http = http
    }

    public var tokenURL: String { webURL + endpoints.tokenPath }

    /// The page the user opens to approve Slipway.
    public func authorizeURL(state: String, redirectURI: String?, pkce: PKCE, scopes: [String] = []) -> String {
        var components = URLComponents(string: webURL + endpoints.authorizePath)!
        var items = [URLQueryItem(name: "client_id", value: clientID), URLQueryItem(name: "response_type", value: "code"),
                     URLQueryItem(name: "state", value: state)]
        if let redirectURI { items.append(URLQueryItem(name: "redirect_uri", value: redirectURI)) }
        if !scopes.isEmpty { items.append(URLQueryItem(name: "scope", value: scopes.joined(separator: " "))) }
        // Bitbucket ignores PKCE; GitHub and GitLab use it. Sent either way.
        items += [URLQueryItem(name: "code_challenge", value: pkce.challenge), URLQueryItem(name: "code_challenge_method", value: "S256")]
        components.queryItems = items
        return components.string!
    }

    public func exchange(code: String, redirectURI: String?, pkce: PKCE) async throws -> OAuthToken {
        var form = [("grant_type", "authorization_code"), ("code", code), ("code_verifier", pkce.verifier)]
        if let redirectURI { form.append(("redirect_uri", redirectURI)) }
        return try await token(form)
    }

    public func refresh(_ refreshToken: String) async throws -> OAuthToken {
        try await token([("grant_type", "refresh_token"), ("refresh_token", refreshToken)])
    }

    public func clientCredentials() async throws -> OAuthToken {
        try await token([("grant_type", "client_credentials")])
    }

    // MARK: Device authorization grant (RFC 8628)

    /// Step one: a device code for Slipway and a user code for the person at a browser.
    public func deviceAuthorization(scopes: [String]) async throws -> DeviceAuthorization {
        guard let path = endpoints.deviceAuthorizationPath else {
            throw OAuthError.rejected(code: "unsupported_grant_type", description: "this provider has no device flow")
        }
        var form = [("client_id", clientID)]
        if !scopes.isEmpty { form.append(("scope", scopes.joined(separator: " "))) }
        let url = webURL + path
        let response = try await send(form, to: url, authenticate: false)
        let fields = try Self.fields(of: response, url: url)
        if let error = fields["error"] as? String { throw Self.error(code: error, description: fields["error_description"] as? String, status: response.status, url: url) }
        guard let deviceCode = fields["device_code"] as? String, let userCode = fields["user_code"] as? String,
              let verification = fields["verification_uri"] as? String ?? fields["verification_url"] as? String else {
            throw HTTPError.decoding(url: url, expected: "device_code, user_code and verification_uri", excerpt: HTTPError.clean(String(decoding: response.body.prefix(120), as: UTF8.self)))
        }
        return DeviceAuthorization(deviceCode: deviceCode, userCode: userCode, verificationURI: verification,
                                   verificationURIComplete: fields["verification_uri_complete"] as? String,
                                   expiresIn: Self.number(fields["expires_in"]) ?? 900, interval: Self.number(fields["interval"]) ?? 5)
    }

    /// One poll of the token endpoint for a device code.
    public func pollDevice(_ deviceCode: String) async throws -> DevicePoll {
        do {
            return .token(try await token([("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", deviceCode)],
                                          authenticate: false))
        } catch let OAuthError.pending(slowDown, interval) {
            return slowDown ? .slowDown(interval: interval) : .pending
        }
    }

    // MARK: The token endpoint

    private func token(_ form: [(String, String)], authenticate: Bool = true) async throws -> OAuthToken {
        let response = try await send(form, to: tokenURL, authenticate: authenticate)
        let fields = try Self.fields(of: response, url: tokenURL)
        // GitHub answers its errors with 200: the body decides, whatever the status.
        if let error = fields["error"] as? String {
            throw Self.error(code: error, description: fields["error_description"] as? String, status: response.status, url: tokenURL,
                             interval: Self.number(fields["interval"]))
        }
        if response.status >= 400 { throw Self.error(status: response.status, body: response.body, url: tokenURL) }
        guard let access = fields["access_token"] as? String, !access.isEmpty else {
            throw HTTPError.decoding(url: tokenURL, expected: "an access_token", excerpt: HTTPError.clean(String(decoding: response.body.prefix(120), as: UTF8.self)))
        }
        let scopeText = fields["scopes"] as? String ?? fields["scope"] as? String ?? ""
        let scopes = scopeText.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        return OAuthToken(accessToken: access, refreshToken: (fields["refresh_token"] as? String).flatMap { $0.isEmpty ? nil : $0 },
                          expiresIn: Self.number(fields["expires_in"]), scopes: scopes)
    }

    private func send(_ form: [(String, String)], to url: String, authenticate: Bool) async throws -> HTTPResponse {
        var form = form
        var headers = HTTPHeaders()
        switch endpoints.clientAuthentication {
        case .basic where authenticate && clientSecret != nil:
            headers.add("Authorization", "Basic " + Data("\(clientID):\(clientSecret!)".utf8).base64EncodedString())
        case .basic:
            // A public client names itself in the form (RFC 6749 §2.3.1, RFC 8628 §3.1).
            form.append(("client_id", clientID))
        case .form:
            if !form.contains(where: { $0.0 == "client_id" }) { form.append(("client_id", clientID)) }
            if authenticate, let clientSecret { form.append(("client_secret", clientSecret)) }
        }
        var components = URLComponents()
        components.queryItems = form.map { URLQueryItem(name: $0.0, value: $0.1) }
        let body = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        headers.add("Content-Type", "application/x-www-form-urlencoded")
        headers.add("Accept", "application/json")
        // Token requests are not idempotent (a refresh token is spent by its first use): never
        // retried, sent once straight through the transport; the RFC 6749 error body is what
        // tells a dead grant from a passing failure.
        let request = HTTPRequest(method: .post, url: url, headers: headers, body: Data(body.utf8), lane: .interactive, retryable: false)
        return try await http.transport.perform(request)
    }

    /// The answer's fields: JSON, or form-encoded (GitHub's default when `Accept` is not heeded).
    static func fields(of response: HTTPResponse, url: String) throws -> [String: Any] {
        if let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any] { return object }
        let text = String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let type = response.headers["Content-Type"]?.lowercased() ?? ""
        if type.contains("x-www-form-urlencoded") || (text.contains("=") && !text.contains(" ") && !text.hasPrefix("<")) {
            var components = URLComponents()
            components.percentEncodedQuery = text.replacingOccurrences(of: "+", with: "%20")
            var fields: [String: Any] = [:]
            for item in components.queryItems ?? [] { fields[item.name] = item.value ?? "" }
            if !fields.isEmpty { return fields }
        }
        if response.status >= 400 { throw error(status: response.status, body: response.body, url: url) }
        throw HTTPError.decoding(url: url, expected: "JSON or a form", excerpt: HTTPError.clean(String(decoding: response.body.prefix(120), as: UTF8.self)))
    }

    static func number(_ value: Any?) -> TimeInterval? {
        switch value {
        case let n as NSNumber: n.doubleValue
        case let s as String: TimeInterval(s)
        default: nil
        }
    }

    /// An RFC 6749 §5.2 / RFC 8628 §3.5 error code, whatever status carried it. Codes that mean
    /// "not yet" keep a device flow polling; the user's refusal and an expired code end it; every
    /// other code — `invalid_grant`, `bad_refresh_token`, `incorrect_client_credentials`,
    /// `device_flow_disabled`, ones not known yet — means the grant is dead.
    static func error(code: String, description: String?, status: Int, url: String, interval: TimeInterval? = nil) -> any Error {
        let description = HTTPError.clean(description ?? "")
        switch code {
        case "authorization_pending": return OAuthError.pending(slowDown: false, interval: nil)
        case "slow_down": return OAuthError.pending(slowDown: true, interval: interval)
        case "expired_token": return OAuthError.expired
        case "access_denied": return OAuthError.denied(description.isEmpty ? "access_denied" : description)
        default:
            if status == 429 { return HTTPError.rateLimited(host: URLPolicy.authority(of: url) ?? url, resumeAt: Date().addingTimeInterval(60)) }
            if status >= 500 { return HTTPError.status(status, url: url, message: description) }
            return OAuthError.rejected(code: code, description: description)
        }
    }

    /// An error answer: by its `error` code when it has one, else by its status.
    static func error(status: Int, body: Data, url: String) -> any Error {
        struct Wire: Decodable { var error: String?; var error_description: String? }
        if let wire = try? JSONDecoder().decode(Wire.self, from: body), let code = wire.error {
            return error(code: code, description: wire.error_description, status: status, url: url)
        }
        if status == 401 { return OAuthError.rejected(code: "invalid_client", description: HTTPError.providerMessage(body)) }
        if status == 429 { return HTTPError.rateLimited(host: URLPolicy.authority(of: url) ?? url, resumeAt: Date().addingTimeInterval(60)) }
        return HTTPError.status(status, url: url, message: HTTPError.providerMessage(body))
    }
}

/// What the device authorization endpoint gives: the code Slipway polls with, and what the
/// person at a browser enters where.
public struct DeviceAuthorization: Sendable, Equatable {
    public var deviceCode: String
    public var userCode: String
    public var verificationURI: String
    public var verificationURIComplete: String?
    public var expiresIn: TimeInterval
    /// The least wait between polls.
    public var interval: TimeInterval

    public init(deviceCode: String, userCode: String, verificationURI: String, verificationURIComplete: String? = nil,
                expiresIn: TimeInterval, interval: TimeInterval) {
        self.deviceCode = deviceCode
        self.userCode = userCode
        self.verificationURI = verificationURI
        self.verificationURIComplete = verificationURIComplete
        self.expiresIn = expiresIn
        self.interval = interval
    }
}

public enum DevicePoll: Sendable, Equatable {
    case token(OAuthToken)
    case pending
    /// Poll less often: at the interval given, else 5 s more than before (RFC 8628 §3.5).
    case slowDown(interval: TimeInterval?)
}

/// RFC 7636 proof key: a random verifier and its S256 challenge.
public struct PKCE: Sendable, Equatable {
    public var verifier: String
    public var challenge: String

    public init(verifier: String) {
        self.verifier = verifier
        challenge = Self.base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    public static func random() -> PKCE {
        PKCE(verifier: randomToken(bytes: 48))
    }

    /// URL-safe random text (for verifiers and `state`).
    public static func randomToken(bytes: Int = 24) -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL(Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// What a user pastes after approving in a browser elsewhere: the whole redirected URL, or the bare code.
public enum AuthorizationRedirect {
    public static func code(from pasted: String, expectedState: String) throws(OAuthError) -> String {
        let text = pasted.trimmingCharacters(in: .whitespacesAndNewlines)
        if let components = URLComponents(string: text), components.scheme != nil {
            let items = components.queryItems ?? []
            if let error = items.first(where: { $0.name == "error" })?.value {
                throw .denied(items.first { $0.name == "error_description" }?.value ?? error)
            }
            guard items.first(where: { $0.name == "state" })?.value == expectedState else { throw .stateMismatch }
            guard let code = items.first(where: { $0.name == "code" })?.value, !code.isEmpty else { throw .malformedRedirect(text) }
            return code
        }
        guard !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || "-._~".contains($0) }) else { throw .malformedRedirect(text) }
        return text
    }
}
