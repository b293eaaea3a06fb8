import Foundation
import Testing
import SlipwayHTTP
import SlipwayProviders
@testable import SlipwayServer

@Suite("OAuth loopback callback", .timeLimit(.minutes(3)))
struct OAuthCallbackServerTests {
    func get(_ url: String) async throws -> HTTPResponse {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        return try await transport.perform(HTTPRequest(url: url))
    }

    @Test("a forged or missing state gets a 400 and the listener keeps waiting; the right one delivers the code")
    func stateChecked() async throws {
        let server = try await OAuthCallbackServer.start(expectedState: "s3cret-state")
        defer { Task { await server.stop() } }
        #expect(server.redirectURI.hasPrefix("http://127.0.0.1:"))
        #expect(server.redirectURI.hasSuffix("/callback"))
        let waiting = Task { try await server.code() }
        #expect(try await get(server.redirectURI + "?state=forged&code=evil").status == 400)
        #expect(try await get(server.redirectURI + "?code=evil").status == 400)
        let good = try await get(server.redirectURI + "?state=s3cret-state&code=the-code")
        #expect(good.status == 200)
        #expect(good.text.contains("authorized"))
        #expect(try await waiting.value == "the-code")
    }

    @Test("a declined authorization ends the wait with the provider's reason")
    func denied() async throws {
        let server = try await OAuthCallbackServer.start(expectedState: "st")
        defer { Task { await server.stop() } }
        _ = try await get(server.redirectURI + "?state=st&error=access_denied&error_description=The+user+said+no")
        await #expect(throws: OAuthError.denied("The user said no")) { _ = try await server.code() }
    }

    @Test("a pasted URL can finish first")
    func pasted() async throws {
        let server = try await OAuthCallbackServer.start(expectedState: "st")
        defer { Task { await server.stop() } }
        server.deliver(.success("pasted-code"))
        #expect(try await server.code() == "pasted-code")
    }
}
