import Foundation
import Testing
import SlipwayHTTP
import SlipwayProviders

/// Answers token requests from a script and notes when each came (on the virtual clock).
private final class TokenEndpointScript: HTTPTransport, @unchecked Sendable {
    enum Step {
        case answer(Int, String, contentType: String = "application/json")
        case fail(HTTPError)
    }

    private let lock = NSLock()
    private var steps: [Step]
    private let clock: VirtualClock
    private(set) var times: [Date] = []
    private(set) var bodies: [String] = []

    init(clock: VirtualClock, _ steps: [Step]) {
        self.clock = clock
        self.steps = steps
    }

    var sentTimes: [Date] { lock.withLock { times } }
    var sentBodies: [String] { lock.withLock { bodies } }

    func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        let step: Step = try lock.withLock {
            times.append(clock.now)
            bodies.append(String(decoding: request.body ?? Data(), as: UTF8.self))
            guard !steps.isEmpty else { throw HTTPError.network(.other, host: "script", detail: "script exhausted") }
            return steps.removeFirst()
        }
        switch step {
        case let .answer(status, body, type):
            return HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", type)]), body: Data(body.utf8), url: request.url)
        case let .fail(error):
            throw error
        }
    }
}

@Suite("OAuth device flow: polling at the interval, slow_down, denial, expiry")
struct DeviceFlowTests {
    static let github = GitHubProvider.descriptor.oauth!
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func client(_ transport: any HTTPTransport) -> OAuthClient {
        OAuthClient(webURL: "https://github.com", endpoints: Self.github, clientID: "Iv23liClient", clientSecret: nil, http: HTTPClient(transport: transport))
    }

    /// Runs the flow, advancing the virtual clock each time it parks, until it ends.
    func run(_ flow: DeviceFlow, clock: VirtualClock, _ authorization: DeviceAuthorization) async -> Result<OAuthToken, any Error> {
        let outcome = Outcome()
        Task {
            do { outcome.set(.success(try await flow.token(for: authorization))) } catch { outcome.set(.failure(error)) }
        }
        while true {
            if let result = outcome.value { return result }
            if clock.sleepers > 0 { _ = clock.advanceToNextDeadline() } else { try? await Task.sleep(nanoseconds: 1_000_000) }
        }
    }

    final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var result: Result<OAuthToken, any Error>?
        var value: Result<OAuthToken, any Error>? { lock.withLock { result } }
        func set(_ value: Result<OAuthToken, any Error>) { lock.withLock { result = value } }
    }

    let code = DeviceAuthorization(deviceCode: "3584d83530557fdd1f46af8289938c8ef79f9dc5", userCode: "WDJB-MJHT",
                                   verificationURI: "https://github.com/login/device", expiresIn: 900, interval: 5)

    @Test("pending, slow_down with its new interval, then GitHub's token: polls at 5 s, then 10 s")
    func slowDown() async throws {
        let clock = VirtualClock(start: start)
        let script = TokenEndpointScript(clock: clock, [
            .answer(200, #"{"error":"authorization_pending","error_description":"The authorization request is still pending."}"#),
            .answer(200, #"{"error":"slow_down","error_description":"Too many requests.","interval":10}"#),
            .answer(200, #"{"error":"authorization_pending"}"#),
            .answer(200, #"{"access_token":"ghu_16C7e42F292c6912E7710c838347Ae178B4a","expires_in":28800,"refresh_token":"ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498","refresh_token_expires_in":15811200,"scope":"","token_type":"bearer"}"#),
        ])
        let result = await run(DeviceFlow(client: client(script), clock: clock), clock: clock, code)
        let token = try result.get()
        #expect(token.accessToken.hasPrefix("ghu_") && token.expiresIn == 28800 && token.refreshToken?.hasPrefix("ghr_") == true)
        let offsets = script.sentTimes.map { Int($0.timeIntervalSince(start)) }
        #expect(offsets == [5, 10, 20, 30])
        // The device grant names the client and no secret.
        #expect(script.sentBodies.allSatisfy { $0.contains("client_id=Iv23liClient") && $0.contains("device_code=3584") && !$0.contains("client_secret") })
        #expect(script.sentBodies.first?.contains("grant_type=urn:ietf:params:oauth:grant-type:device_code") == true)
    }

    @Test("slow_down without an interval adds 5 s; RFC 8628's 400 answers read like GitHub's 200s; a form answer is read too")
    func rfcShapes() async throws {
        let clock = VirtualClock(start: start)
        let script = TokenEndpointScript(clock: clock, [
            .answer(400, #"{"error":"authorization_pending"}"#),
            .answer(400, #"{"error":"slow_down"}"#),
            .answer(200, "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist&token_type=bearer",
                    contentType: "application/x-www-form-urlencoded"),
        ])
        let token = try await run(DeviceFlow(client: client(script), clock: clock), clock: clock, code).get()
        #expect(token.accessToken == "gho_16C7e42F292c6912E7710c838347Ae178B4a" && token.expiresIn == nil && token.scopes == ["repo", "gist"])
        #expect(script.sentTimes.map { Int($0.timeIntervalSince(start)) } == [5, 10, 20])
    }

    @Test("the user's refusal and the code's expiry end the flow with one line each")
    func deniedAndExpired() async throws {
        let clock = VirtualClock(start: start)
        let denied = TokenEndpointScript(clock: clock, [.answer(200, #"{"error":"authorization_pending"}"#),
                                                        .answer(200, #"{"error":"access_denied","error_description":"The authorization request was denied."}"#)])
        let refusal = await run(DeviceFlow(client: client(denied), clock: clock), clock: clock, code)
        #expect(throws: OAuthError.denied("The authorization request was denied.")) { try refusal.get() }

        let expired = TokenEndpointScript(clock: clock, [.answer(200, #"{"error":"expired_token","error_description":"The device_code has expired."}"#)])
        let expiry = await run(DeviceFlow(client: client(expired), clock: clock), clock: clock, code)
        #expect(throws: OAuthError.expired) { try expiry.get() }

        // A code that outlives its own expires_in is over without asking again.
        var short = code
        short.expiresIn = 12
        let pending = TokenEndpointScript(clock: clock, Array(repeating: .answer(200, #"{"error":"authorization_pending"}"#), count: 5))
        let outlived = await run(DeviceFlow(client: client(pending), clock: clock), clock: clock, short)
        #expect(throws: OAuthError.expired) { try outlived.get() }
        #expect(pending.sentTimes.count == 2)
        #expect(OAuthError.expired.description.contains("run the command again"))
    }

    @Test("a lost answer backs off and polls again; a dead client is a rejection")
    func transientAndRejected() async throws {
        let clock = VirtualClock(start: start)
        let script = TokenEndpointScript(clock: clock, [
            .fail(.network(.other, host: "github.com", detail: "connection reset")),
            .answer(503, "unavailable", contentType: "text/plain"),
            .answer(200, #"{"access_token":"gho_x","scope":"repo","token_type":"bearer"}"#),
        ])
        let token = try await run(DeviceFlow(client: client(script), clock: clock), clock: clock, code).get()
        #expect(token.accessToken == "gho_x")
        let offsets = script.sentTimes.map { Int($0.timeIntervalSince(start)) }
        #expect(offsets.count == 3 && offsets[0] == 5 && offsets[1] - offsets[0] > 5 && offsets[2] - offsets[1] > offsets[1] - offsets[0])

        let disabled = TokenEndpointScript(clock: clock, [.answer(200, #"{"error":"device_flow_disabled","error_description":"Device Flow must be explicitly enabled for this App"}"#)])
        let result = await run(DeviceFlow(client: client(disabled), clock: clock), clock: clock, code)
        #expect(throws: OAuthError.rejected(code: "device_flow_disabled", description: "Device Flow must be explicitly enabled for this App")) { try result.get() }
    }

    @Test("the device authorization request: client and scopes in the form, GitHub's documented answer read")
    func authorization() async throws {
        let clock = VirtualClock(start: start)
        let script = TokenEndpointScript(clock: clock, [.answer(200, #"""
            {"device_code":"3584d83530557fdd1f46af8289938c8ef79f9dc5","user_code":"WDJB-MJHT","verification_uri":"https://github.com/login/device","expires_in":900,"interval":5}
            """#)])
        let answer = try await client(script).deviceAuthorization(scopes: ["repo", "read:org"])
        #expect(answer == code)
        #expect(script.sentBodies == ["client_id=Iv23liClient&scope=repo%20read:org"])
    }
}
