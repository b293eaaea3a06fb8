import Foundation
import Synchronization
import Testing
import SlipwayTestSupport
@testable import SlipwayHTTP

/// The real libcurl path against a real loopback server.
@Suite("libcurl over loopback")
struct CurlTransportTests {
    func client(_ transport: CurlTransport, clock: ImmediateClock = ImmediateClock(),
                configure: (inout HTTPClient.Configuration) -> Void = { _ in }) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configure(&configuration)
        return HTTPClient(transport: transport, clock: clock, random: SeededRandom(seed: 3), configuration: configuration)
    }

    func fastOptions() -> TransferOptions {
        var options = TransferOptions()
        options.connectTimeout = 2
        options.lowSpeedTime = 1
        options.lowSpeedLimit = 100
        return options
    }

    @Test("a GET returns status, headers and body; the User-Agent names slipway")
    func basicGet() async throws {
        let server = try LoopbackServer { request, connection in
            connection.respond(200, headers: ["Content-Type": "application/json", "X-Seen-UA": request.headers["user-agent"] ?? ""],
                               text: #"{"ok":true}"#)
        }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let response = try await client(transport).send(HTTPRequest(url: server.baseURL + "/2.0/user"))
        #expect(response.status == 200)
        #expect(response.text == #"{"ok":true}"#)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.headers["X-Seen-UA"]?.hasPrefix("slipway/") == true)
    }

    @Test("keep-alive: twenty requests reuse one connection")
    func keepAlive() async throws {
        let server = try LoopbackServer { _, connection in connection.respond(200, text: "{}") }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let http = client(transport)
        for _ in 0..<20 { _ = try await http.send(HTTPRequest(url: server.baseURL + "/x")) }
        #expect(server.acceptedConnections == 1)
        #expect(transport.openedConnections == 1)
    }

    @Test("a reused transfer handle carries nothing over: after a PUT with a body and a credential, a GET is a bare GET")
    func handleReuse() async throws {
        let seen = Mutex<[LoopbackServer.Request]>([])
        let server = try LoopbackServer { request, connection in
            seen.withLock { $0.append(request) }
            connection.respond(200, text: "{}")
        }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let http = client(transport)
        var put = HTTPRequest(method: .put, url: server.baseURL + "/first", body: Data("payload".utf8))
        put.headers.add("Authorization", "Bearer secret")
        put.headers.add("X-Only-Once", "1")
        _ = try await http.send(put)
        for index in 0..<3 { _ = try await http.send(HTTPRequest(url: server.baseURL + "/then/\(index)")) }
        let requests = seen.withLock { $0 }
        #expect(requests.map(\.method) == ["PUT", "GET", "GET", "GET"])
        #expect(requests[0].body == Data("payload".utf8) && requests[0].headers["authorization"] == "Bearer secret")
        for request in requests.dropFirst() {
            #expect(request.body.isEmpty)
            #expect(request.headers["authorization"] == nil && request.headers["x-only-once"] == nil)
        }
        #expect(transport.openedConnections == 1)
    }

    @Test("two hundred concurrent requests all complete, over a bounded number of connections")
    func concurrency() async throws {
        let server = try LoopbackServer { request, connection in connection.respond(200, text: request.path) }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let http = client(transport)
        let paths = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<200 { group.addTask { try await http.send(HTTPRequest(url: server.baseURL + "/n/\(i)")).text } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(paths.count == 200)
        // At most 16 at once; a few may be replaced as the connection cache turns over.
        #expect(server.acceptedConnections < 50)
    }

    @Test("gzip bodies are decoded")
    func gzip() async throws {
        let plain = String(repeating: #"{"name":"feature/login","target":{"hash":"abc"}},"#, count: 200)
        let compressed = try gzipData(Data(plain.utf8))
        let server = try LoopbackServer { request, connection in
            #expect(request.headers["accept-encoding"]?.contains("gzip") == true)
            connection.respond(200, headers: ["Content-Encoding": "gzip"], body: compressed)
        }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let response = try await client(transport).send(HTTPRequest(url: server.baseURL + "/gz"))
        #expect(response.text == plain)
        #expect(compressed.count < plain.utf8.count / 10)
    }

    @Test("a 503 burst is retried with backoff until it clears")
    func serviceUnavailableBurst() async throws {
        let counter = Counter()
        let server = try LoopbackServer { _, connection in
            if counter.next() <= 2 { connection.respond(503, text: "Service Unavailable") } else { connection.respond(200, text: "ok") }
        }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let clock = ImmediateClock()
        let response = try await client(transport, clock: clock).send(HTTPRequest(url: server.baseURL + "/flaky"))
        #expect(response.text == "ok")
        #expect(server.receivedRequests.count == 3)
        let sleeps = clock.sleeps
        #expect(sleeps.count == 2)
        #expect(sleeps[0] < 0.5 && sleeps[1] < 1.0)
    }

    @Test("a 503 that never clears gives up after the bounded attempts with the server's message")
    func persistentFailure() async throws {
        let server = try LoopbackServer { _, connection in connection.respond(503, headers: ["Content-Type": "text/plain"], text: "down for maintenance") }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        await #expect(throws: HTTPError.status(503, url: server.baseURL + "/x", message: "down for maintenance")) {
            _ = try await client(transport).send(HTTPRequest(url: server.baseURL + "/x"))
        }
        #expect(server.receivedRequests.count == Backoff().maxAttempts)
    }

    @Test("a POST is not retried")
    func postNotRetried() async throws {
        let server = try LoopbackServer { _, connection in connection.respond(503, text: "busy") }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        await #expect(throws: HTTPError.self) {
            _ = try await client(transport).send(HTTPRequest(method: .post, url: server.baseURL + "/hooks", body: Data("{}".utf8)))
        }
        #expect(server.receivedRequests.count == 1)
        #expect(server.receivedRequests.first?.body == Data("{}".utf8))
    }

    @Test("a connection reset mid-body is a network error, retried for GET")
    func resetMidBody() async throws {
        let counter = Counter()
        let server = try LoopbackServer { _, connection in
            if counter.next() == 1 {
                connection.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + String(repeating: "x", count: 100))
                usleep(50_000)
                connection.reset()
            } else {
                connection.respond(200, text: "whole")
            }
        }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let response = try await client(transport).send(HTTPRequest(url: server.baseURL + "/r"))
        #expect(response.text == "whole")

        let alwaysReset = try LoopbackServer { _, connection in
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nxx")
            usleep(20_000)
            connection.reset()
        }
        defer { alwaysReset.stop() }
        do {
            _ = try await transport.perform(HTTPRequest(url: alwaysReset.baseURL + "/r"))
            Issue.record("expected a reset")
        } catch let error as HTTPError {
            guard case let .network(kind, host, _) = error else { Issue.record("got \(error)"); return }
            #expect(kind == .reset)
            #expect(host == "127.0.0.1")
        }
    }

    @Test("a server that accepts and never answers is a timeout, not a hang")
    func silentServer() async throws {
        let server = try LoopbackServer { _, connection in
            while !connection.closed { usleep(20_000) }
        }
        defer { server.stop() }
        let transport = CurlTransport(options: fastOptions())
        defer { transport.shutdown() }
        do {
            _ = try await transport.perform(HTTPRequest(url: server.baseURL + "/silent"))
            Issue.record("expected a timeout")
        } catch let error as HTTPError {
            guard case .timeout = error else { Issue.record("got \(error)"); return }
            #expect(error.description.contains("timed out"))
        }
    }

    @Test("a trickle below the low-speed limit is aborted")
    func trickle() async throws {
        let server = try LoopbackServer { _, connection in
            connection.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            for _ in 0..<100 where !connection.closed {
                connection.write("x")
                usleep(100_000)
            }
        }
        defer { server.stop() }
        let transport = CurlTransport(options: fastOptions())
        defer { transport.shutdown() }
        await #expect(throws: HTTPError.self) { _ = try await transport.perform(HTTPRequest(url: server.baseURL + "/slow")) }
    }

    @Test("an oversize body is refused, with or without Content-Length")
    func oversize() async throws {
        let big = Data(repeating: 0x61, count: 50_000)
        let server = try LoopbackServer { request, connection in
            if request.path == "/sized" {
                connection.respond(200, body: big)
            } else {
                connection.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                connection.write(big)
                connection.close()
            }
        }
        defer { server.stop() }
        var options = TransferOptions()
        options.maxBodyBytes = 10_000
        let transport = CurlTransport(options: options)
        defer { transport.shutdown() }
        for path in ["/sized", "/unsized"] {
            await #expect(throws: HTTPError.bodyTooLarge(url: server.baseURL + path, limit: 10_000)) {
                _ = try await transport.perform(HTTPRequest(url: server.baseURL + path))
            }
        }
    }

    @Test("https only: plain http to a remote host and redirects that leave https are refused")
    func insecure() async throws {
        let server = try LoopbackServer { request, connection in
            if request.path == "/to-plain" {
                connection.respond(302, headers: ["Location": "http://example.com/stolen"], text: "")
            } else if request.path == "/to-loopback" {
                connection.respond(301, headers: ["Location": "/final"], text: "")
            } else {
                connection.respond(200, headers: ["X-Auth": request.headers["authorization"] ?? "none"], text: "final")
            }
        }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let http = client(transport)
        await #expect(throws: HTTPError.insecureURL("http://example.com/x")) { _ = try await http.send(HTTPRequest(url: "http://example.com/x")) }
        await #expect(throws: HTTPError.redirectRefused(from: server.baseURL + "/to-plain", to: "http://example.com/stolen")) {
            _ = try await http.send(HTTPRequest(url: server.baseURL + "/to-plain"))
        }
        #expect(server.receivedRequests.count == 1)
        var headers = HTTPHeaders()
        headers.add("Authorization", "Bearer t")
        let followed = try await http.send(HTTPRequest(url: server.baseURL + "/to-loopback", headers: headers))
        #expect(followed.text == "final")
        #expect(followed.headers["X-Auth"] == "Bearer t")
    }

    @Test("cancelling the task removes its transfer at once")
    func cancellation() async throws {
        let server = try LoopbackServer { _, connection in
            while !connection.closed { usleep(10_000) }
        }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let task = Task { try await transport.perform(HTTPRequest(url: server.baseURL + "/hang")) }
        #expect(await eventually { !server.receivedRequests.isEmpty })
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test("errors carry the provider's message: 401 text/plain, 404 envelope, DNS and connect failures")
    func typedErrors() async throws {
        let server = try LoopbackServer { request, connection in
            switch request.path {
            case "/401": connection.respond(401, headers: ["WWW-Authenticate": #"Bearer realm="bitbucket.org""#, "Content-Type": "text/plain"], text: "")
            case "/expired": connection.respond(401, headers: ["Content-Type": "application/json"],
                                                text: #"{"type":"error","error":{"message":"Access token expired."}}"#)
            default: connection.respond(404, headers: ["Content-Type": "application/json"],
                                        text: #"{"type":"error","error":{"message":"Repository acme/nope not found"}}"#)
            }
        }
        defer { server.stop() }
        let transport = CurlTransport(options: fastOptions())
        defer { transport.shutdown() }
        let http = client(transport)
        await #expect(throws: HTTPError.unauthorized(host: "127.0.0.1", message: #"Bearer realm="bitbucket.org""#)) {
            _ = try await http.send(HTTPRequest(url: server.baseURL + "/401"))
        }
        await #expect(throws: HTTPError.unauthorized(host: "127.0.0.1", message: "Access token expired.")) {
            _ = try await http.send(HTTPRequest(url: server.baseURL + "/expired"))
        }
        await #expect(throws: HTTPError.notFound(url: server.baseURL + "/2.0/repositories/acme/nope", message: "Repository acme/nope not found")) {
            _ = try await http.send(HTTPRequest(url: server.baseURL + "/2.0/repositories/acme/nope"))
        }
        do {
            _ = try await transport.perform(HTTPRequest(url: "https://no-such-host.invalid/x"))
            Issue.record("expected a DNS failure")
        } catch let error as HTTPError {
            guard case .network(.dns, "no-such-host.invalid", _) = error else { Issue.record("got \(error)"); return }
        }
        let closedPort = try LoopbackServer { _, _ in }
        let deadURL = closedPort.baseURL + "/x"
        closedPort.stop()
        do {
            _ = try await transport.perform(HTTPRequest(url: deadURL))
            Issue.record("expected a connect failure")
        } catch let error as HTTPError {
            guard case .network(.connect, _, let detail) = error else { Issue.record("got \(error)"); return }
            #expect(!detail.isEmpty)
        }
    }

    @Test("decode failures show what was expected and an excerpt")
    func decodeFailure() async throws {
        let server = try LoopbackServer { _, connection in connection.respond(200, text: #"{"values": [trunc"#) }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let response = try await client(transport).send(HTTPRequest(url: server.baseURL + "/page"))
        struct Page: Decodable { var values: [String] }
        #expect(throws: HTTPError.decoding(url: server.baseURL + "/page", expected: "Page", excerpt: #"'{"values": [trunc'"#)) {
            _ = try response.decode(Page.self)
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int { lock.withLock { value += 1; return value } }
}

func gzipData(_ data: Data) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-c"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(data)
    try input.fileHandleForWriting.close()
    let result = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return result
}

@Suite("Pagination over loopback")
struct PaginationTests {
    @Test("Bitbucket pages are followed by their next link exactly as given, until there is none")
    func bitbucketPages() async throws {
        let server = try LoopbackServer { request, connection in
            let base = "http://127.0.0.1:\(request.headers["host"]!.split(separator: ":").last!)"
            switch request.path {
            case "/2.0/repositories/acme?pagelen=100":
                connection.respond(200, text: #"{"values":[1,2],"next":"\#(base)/2.0/repositories/acme?pagelen=100&page=2&fields=values.slug%2Cnext"}"#)
            case "/2.0/repositories/acme?pagelen=100&page=2&fields=values.slug%2Cnext":
                connection.respond(200, text: #"{"values":[3],"next":"\#(base)/opaque/cursor/xyz"}"#)
            case "/opaque/cursor/xyz":
                connection.respond(200, text: #"{"values":[4]}"#)
            default:
                connection.respond(404, text: "unexpected \(request.path)")
            }
        }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let http = HTTPClient(transport: transport)
        struct Page: Decodable { var values: [Int] }
        var values: [Int] = []
        for try await page in http.pages(HTTPRequest(url: server.baseURL + "/2.0/repositories/acme?pagelen=100"), next: NextPage.bodyMember("next")) {
            values += try page.decode(Page.self).values
        }
        #expect(values == [1, 2, 3, 4])
        #expect(server.receivedRequests.count == 3)
    }

    @Test("Link headers are followed for GitHub-style listings")
    func linkPages() async throws {
        let server = try LoopbackServer { request, connection in
            let base = "http://127.0.0.1:\(request.headers["host"]!.split(separator: ":").last!)"
            if request.path == "/branches" {
                connection.respond(200, headers: ["Link": "<\(base)/branches?page=2>; rel=\"next\", <\(base)/branches?page=2>; rel=\"last\""], text: "[1]")
            } else {
                connection.respond(200, headers: ["Link": "<\(base)/branches>; rel=\"first\""], text: "[2]")
            }
        }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let http = HTTPClient(transport: transport)
        var bodies: [String] = []
        for try await page in http.pages(HTTPRequest(url: server.baseURL + "/branches"), next: NextPage.linkHeader) { bodies.append(page.text) }
        #expect(bodies == ["[1]", "[2]"])
    }
}
