import Crypto
import Foundation
import Testing
@testable import SlipwaySandbox

/// The GitHub personality's OAuth side on a clock the test moves: the device flow for both kinds
/// of client, refresh with rotation, the code flow with PKCE — answered as GitHub does (status 200
/// for errors, JSON only when asked for).
@Suite("Sandbox GitHub OAuth: device flow, refresh, code flow")
struct GitHubOAuthTests {
    struct Harness {
        let clock = ManualClock()
        let service: SandboxService
        let web = "http://127.0.0.1:7000"

        init(lifetime: Int? = nil) throws {
            var options = SandboxOptions()
            options.seed = 9
            options.workspaces = 2
            options.reposPerWorkspace = 2
            options.branchesPerRepo = 2
            options.personalities = [.github]
            options.tokenLifetimeSeconds = lifetime
            let clock = self.clock
            service = try SandboxService(options: options, now: { clock.now })
        }

        var github: GitHubPersonality { service.github }

        func post(_ path: String, _ form: [String: String], json: Bool = true) -> (status: Int, fields: [String: Any], text: String, type: String) {
            var components = URLComponents()
            components.queryItems = form.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
            var headers = ["Content-Type": "application/x-www-form-urlencoded"]
            if json { headers["Accept"] = "application/json" }
            let reply = service.respond(method: "POST", url: web + path, headers: headers, body: Data((components.percentEncodedQuery ?? "").utf8), as: .github)
            let text = String(decoding: reply.body, as: UTF8.self)
            let type = reply.headers.first { $0.0.lowercased() == "content-type" }?.1 ?? ""
            return (reply.status, (try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any]) ?? [:], text, type)
        }

        func user(_ token: String) -> (status: Int, scopes: String?) {
            let reply = service.respond(method: "GET", url: web + "/api/v3/user", headers: ["Authorization": "Bearer \(token)"], body: Data(), as: .github)
            return (reply.status, reply.headers.first { $0.0 == "X-OAuth-Scopes" }?.1)
        }

        func poll(_ client: String, _ device: String) -> [String: Any] {
            post("/login/oauth/access_token", ["client_id": client, "device_code": device, "grant_type": "urn:ietf:params:oauth:grant-type:device_code"]).fields
        }
    }

    @Test("a GitHub App's device flow: pending, slow_down when polled too fast, approval, an 8-hour token that refreshes and rotates")
    func githubAppDevice() throws {
        let h = try Harness()
        let app = h.github.githubApp
        let code = h.post("/login/device/code", ["client_id": app.id, "scope": "repo read:org"])
        #expect(code.status == 200)
        let device = try #require(code.fields["device_code"] as? String)
        let userCode = try #require(code.fields["user_code"] as? String)
        #expect(device.count == 40 && userCode.count == 9 && userCode.dropFirst(4).first == "-")
        #expect(code.fields["verification_uri"] as? String == "http://127.0.0.1/login/device" || (code.fields["verification_uri"] as? String)?.hasSuffix("/login/device") == true)
        #expect(code.fields["expires_in"] as? Int == 900 && code.fields["interval"] as? Int == 5)

        h.clock.advance(5)
        #expect(h.poll(app.id, device)["error"] as? String == "authorization_pending")
        h.clock.advance(1)
        let slow = h.poll(app.id, device)
        #expect(slow["error"] as? String == "slow_down" && slow["interval"] as? Int == 10)

        // The person at a browser enters the code.
        let page = h.post("/login/device", ["user_code": userCode, "authorize": "approve"], json: false)
        #expect(page.status == 200 && page.text.contains("all set"))
        h.clock.advance(10)
        let token = h.poll(app.id, device)
        let access = try #require(token["access_token"] as? String)
        let refresh = try #require(token["refresh_token"] as? String)
        #expect(access.hasPrefix("ghu_") && refresh.hasPrefix("ghr_") && token["expires_in"] as? Int == 28800 && token["scope"] as? String == "")
        #expect(token["refresh_token_expires_in"] as? Int == 15_811_200)
        // A device code is good for one token.
        #expect(h.poll(app.id, device)["error"] as? String == "incorrect_device_code")

        // Permissions are the app's: no scope header.
        let me = h.user(access)
        #expect(me.status == 200 && me.scopes == nil)
        h.clock.advance(28800)
        #expect(h.user(access).status == 401)

        // A device flow's token refreshes without the client secret; the old pair is spent.
        let renewed = h.post("/login/oauth/access_token", ["client_id": app.id, "grant_type": "refresh_token", "refresh_token": refresh]).fields
        let next = try #require(renewed["access_token"] as? String)
        #expect(next != access && (renewed["refresh_token"] as? String)?.hasPrefix("ghr_") == true)
        #expect(h.user(next).status == 200)
        let reused = h.post("/login/oauth/access_token", ["client_id": app.id, "grant_type": "refresh_token", "refresh_token": refresh])
        #expect(reused.status == 200 && reused.fields["error"] as? String == "bad_refresh_token")
        #expect(h.github.oauth.tokenRequests["refresh_token"] == 2)
    }

    @Test("an OAuth App's device token does not expire and carries the scopes asked for; without Accept: JSON the answer is a form")
    func oauthAppDevice() throws {
        let h = try Harness()
        let app = h.github.oauthApp
        let code = h.post("/login/device/code", ["client_id": app.id, "scope": "repo read:org admin:repo_hook user:email"], json: false)
        #expect(code.type.hasPrefix("application/x-www-form-urlencoded"))
        let fields = Dictionary(uniqueKeysWithValues: (URLComponents(string: "?" + code.text)?.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        let device = try #require(fields["device_code"])
        let userCode = try #require(fields["user_code"])
        _ = h.post("/login/device", ["user_code": userCode.lowercased().replacingOccurrences(of: "-", with: "")], json: false)
        h.clock.advance(5)
        let token = h.poll(app.id, device)
        let access = try #require(token["access_token"] as? String)
        #expect(access.hasPrefix("gho_") && token["expires_in"] == nil && token["refresh_token"] == nil)
        #expect(token["scope"] as? String == "admin:repo_hook,read:org,repo,user:email")
        h.clock.advance(86400 * 30)
        let me = h.user(access)
        #expect(me.status == 200 && me.scopes == "admin:repo_hook, read:org, repo, user:email")
    }

    @Test("cancelled and expired codes end the flow; unknown clients and codes are refused")
    func deniedExpired() throws {
        let h = try Harness()
        let app = h.github.githubApp
        let first = h.post("/login/device/code", ["client_id": app.id]).fields
        _ = h.post("/login/device", ["user_code": first["user_code"] as! String, "authorize": "cancel"], json: false)
        h.clock.advance(5)
        #expect(h.poll(app.id, first["device_code"] as! String)["error"] as? String == "access_denied")

        let second = h.post("/login/device/code", ["client_id": app.id]).fields
        h.clock.advance(901)
        #expect(h.poll(app.id, second["device_code"] as! String)["error"] as? String == "expired_token")
        #expect(h.post("/login/device", ["user_code": second["user_code"] as! String], json: false).status == 404)

        #expect(h.post("/login/device/code", ["client_id": "Iv23liNobody"]).fields["error"] as? String == "incorrect_client_credentials")
        #expect(h.poll(app.id, "0000")["error"] as? String == "incorrect_device_code")
    }

    @Test("the code flow approves at once and checks the secret, the redirect and the PKCE verifier")
    func codeFlow() throws {
        let h = try Harness()
        let app = h.github.oauthApp
        let verifier = "ks02i3jdikdo2k0dkfodf3m39rjfjsdk0wk349rj3jrhf"
        let challenge = Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        func authorize() throws -> String {
            let url = "\(h.web)/login/oauth/authorize?client_id=\(app.id)&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&state=st&scope=repo&code_challenge=\(challenge)&code_challenge_method=S256"
            let reply = h.service.respond(method: "GET", url: url, headers: [:], body: Data(), as: .github)
            #expect(reply.status == 302)
            let location = try #require(reply.headers.first { $0.0 == "Location" }?.1)
            let items = URLComponents(string: location)?.queryItems ?? []
            #expect(items.first { $0.name == "state" }?.value == "st")
            return try #require(items.first { $0.name == "code" }?.value)
        }
        let exchange = ["client_id": app.id, "redirect_uri": "http://127.0.0.1:9/callback", "code_verifier": verifier]
        var noSecret = exchange
        noSecret["code"] = try authorize()
        #expect(h.post("/login/oauth/access_token", noSecret).fields["error"] as? String == "incorrect_client_credentials")
        var wrongVerifier = exchange
        wrongVerifier["code"] = try authorize()
        wrongVerifier["client_secret"] = app.secret
        wrongVerifier["code_verifier"] = String(verifier.reversed())
        #expect(h.post("/login/oauth/access_token", wrongVerifier).fields["error"] as? String == "bad_verification_code")
        var good = exchange
        good["code"] = try authorize()
        good["client_secret"] = app.secret
        let token = h.post("/login/oauth/access_token", good).fields
        #expect((token["access_token"] as? String)?.hasPrefix("gho_") == true && token["scope"] as? String == "repo")
        // A code is spent by its exchange.
        #expect(h.post("/login/oauth/access_token", good).fields["error"] as? String == "bad_verification_code")
    }

    /// GitHub's documented answers (its docs' examples), as the project's own fixtures.
    static let documentedDeviceCode = #"{"device_code":"3584d83530557fdd1f46af8289938c8ef79f9dc5","user_code":"WDJB-MJHT","verification_uri":"https://github.com/login/device","expires_in":900,"interval":5}"#
    static let documentedOAuthAppToken = #"{"access_token":"gho_16C7e42F292c6912E7710c838347Ae178B4a","token_type":"bearer","scope":"repo,gist"}"#
    static let documentedAppUserToken = #"{"access_token":"ghu_16C7e42F292c6912E7710c838347Ae178B4a","expires_in":28800,"refresh_token":"ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498","refresh_token_expires_in":15811200,"scope":"","token_type":"bearer"}"#

    /// Field names and JSON types, the shape a client depends on.
    static func shape(_ object: [String: Any]) -> [String: String] {
        object.mapValues { value in value is String ? "string" : value is NSNumber ? "number" : "other" }
    }

    static func shape(_ json: String) -> [String: String] {
        shape((try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]) ?? [:])
    }

    @Test("answers in the shapes of GitHub's documented examples: device code, an OAuth App's token, a GitHub App's user token")
    func documentedShapes() throws {
        let h = try Harness()
        let code = h.post("/login/device/code", ["client_id": h.github.githubApp.id]).fields
        #expect(Self.shape(code) == Self.shape(Self.documentedDeviceCode))
        let userCode = try #require(code["user_code"] as? String)
        #expect(userCode.range(of: #"^[A-Z]{4}-[A-Z]{4}$"#, options: .regularExpression) != nil)
        _ = h.post("/login/device", ["user_code": userCode], json: false)
        h.clock.advance(5)
        let appToken = h.poll(h.github.githubApp.id, try #require(code["device_code"] as? String))
        #expect(Self.shape(appToken) == Self.shape(Self.documentedAppUserToken))

        let other = h.post("/login/device/code", ["client_id": h.github.oauthApp.id, "scope": "repo gist"]).fields
        _ = h.post("/login/device", ["user_code": try #require(other["user_code"] as? String)], json: false)
        h.clock.advance(5)
        let oauthToken = h.poll(h.github.oauthApp.id, try #require(other["device_code"] as? String))
        #expect(Self.shape(oauthToken) == Self.shape(Self.documentedOAuthAppToken))
        #expect(oauthToken["scope"] as? String == "gist,repo")
    }
}
