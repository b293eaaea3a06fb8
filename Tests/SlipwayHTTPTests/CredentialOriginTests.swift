import Foundation
import Testing
import SlipwayTestSupport
@testable import SlipwayHTTP

/// Issue 16 §2–3: plain http only to loopback *addresses*, and a credential only to the
/// origins it was linked for — redirects included.
@Suite("URL policy and credential origins")
struct CredentialOriginTests {
    @Test("loopback is an address, not a prefix: names that start with 127. need https")
    func loopbackLiterals() throws {
        for host in ["127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "[::1]", "::ffff:127.0.0.1", "[::ffff:127.9.8.7]", "localhost", "LOCALHOST"] {
            #expect(URLPolicy.isLoopback(host: host), "\(host) is loopback")
        }
        for host in ["127.evil.test", "127.0.0.1.nip.io", "127.0.0.1.", "localhost.evil.test", "128.0.0.1", "::2", "::ffff:10.0.0.1",
                     "0x7f.0.0.1", "2130706433", "example.com", ""] {
            #expect(!URLPolicy.isLoopback(host: host), "\(host) is not loopback")
        }
        #expect(throws: HTTPError.insecureURL("http://127.evil.test/2.0")) { try URLPolicy.check("http://127.evil.test/2.0") }
        #expect(throws: HTTPError.insecureURL("http://127.0.0.1.nip.io:8080/x")) { try URLPolicy.check("http://127.0.0.1.nip.io:8080/x") }
        #expect(try URLPolicy.check("http://127.0.0.1:7990/2.0").scheme == "http")
        #expect(try URLPolicy.check("http://[::1]:7990/2.0").scheme == "http")
        #expect(try URLPolicy.check("https://127.evil.test/2.0").scheme == "https")
    }

    @Test("an origin is scheme, host and port; default ports are implied")
    func origins() {
        #expect(Origin(url: "https://api.bitbucket.org/2.0") == Origin(url: "https://API.bitbucket.org:443/other"))
        #expect(Origin(url: "http://127.0.0.1:80/") == Origin(url: "http://127.0.0.1/x"))
        #expect(Origin(url: "http://127.0.0.1:7990/") != Origin(url: "http://127.0.0.1:7991/"))
        #expect(Origin(url: "https://host/") != Origin(url: "http://host:443/"))
        #expect(Origin(url: "https://host:8443/x")?.description == "https://host:8443")
        #expect(Origin(url: "not a url") == nil)
    }

    @Test("a redirect to the same host on another port loses the credential; one within the linked origins keeps it")
    func redirectAcrossPorts() async throws {
        let other = try LoopbackServer { request, connection in
            connection.respond(200, headers: ["X-Auth": request.headers["authorization"] ?? "none"], text: "other port")
        }
        defer { other.stop() }
        let server = try LoopbackServer { request, connection in
            switch request.path {
            case "/to-other-port": connection.respond(302, headers: ["Location": other.baseURL + "/landing"], text: "")
            case "/to-same-origin": connection.respond(307, headers: ["Location": "/landing"], text: "")
            default: connection.respond(200, headers: ["X-Auth": request.headers["authorization"] ?? "none"], text: "same origin")
            }
        }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let http = HTTPClient(transport: transport)
        func request(_ path: String, origins: Set<Origin>?) -> HTTPRequest {
            var headers = HTTPHeaders()
            headers.add("Authorization", "Bearer secret-token")
            headers.add("Cookie", "session=secret")
            var request = HTTPRequest(url: server.baseURL + path, headers: headers)
            request.credentialOrigins = origins
            return request
        }
        let linked: Set<Origin> = [Origin(url: server.baseURL)!]
        let moved = try await http.send(request("/to-other-port", origins: linked))
        #expect(moved.text == "other port")
        #expect(moved.headers["X-Auth"] == "none")
        #expect(other.receivedRequests.allSatisfy { $0.headers["authorization"] == nil && $0.headers["cookie"] == nil })
        // Without stated origins the request's own origin is the only one.
        let unstated = try await http.send(request("/to-other-port", origins: nil))
        #expect(unstated.headers["X-Auth"] == "none")
        let kept = try await http.send(request("/to-same-origin", origins: linked))
        #expect(kept.text == "same origin" && kept.headers["X-Auth"] == "Bearer secret-token")
        // Both servers linked (an API and a web origin): the credential follows.
        let both = try await http.send(request("/to-other-port", origins: linked.union([Origin(url: other.baseURL)!])))
        #expect(both.headers["X-Auth"] == "Bearer secret-token")
    }

    @Test("a credential is never sent to an origin it was not linked for, not even once")
    func refusedUpfront() async throws {
        let server = try LoopbackServer { _, connection in connection.respond(200, text: "should not be asked") }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let http = HTTPClient(transport: transport)
        var headers = HTTPHeaders()
        headers.add("Authorization", "Bearer secret-token")
        var request = HTTPRequest(url: server.baseURL + "/next-page", headers: headers)
        request.credentialOrigins = [Origin(url: "https://api.bitbucket.org/2.0")!]
        await #expect(throws: HTTPError.credentialOriginRefused(url: server.baseURL + "/next-page")) { _ = try await http.send(request) }
        #expect(server.receivedRequests.isEmpty)
        // Without a credential header the same request is fine.
        request.headers.remove("Authorization")
        #expect(try await http.send(request).text == "should not be asked")
    }
}
