import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import SlipwayHTTP
import SlipwayProviders
@testable import SlipwayServer

/// Every rule of the receiver, with the real captured delivery.
@Suite("Webhook receiver", .timeLimit(.minutes(3)))
struct WebhookReceiverTests {
    static let secret = "Gkvl$k$wyNpQAF42"
    static let signature = "sha256=f205c729821c6954aff2afe72b965c34015b4baf96ea8ddc2cc44999c014a035"

    actor Handler: WebhookHandling {
        var known: [String: [String]] = ["nfalco79/test-repos": ["other-secret", WebhookReceiverTests.secret]]
        var seen: Set<String> = []
        var applied: [PushEvent] = []
        var provedBy: [Int64] = []
        var rejections: [(String, Int)] = []
        var failStoring = false

        var providers: [ProviderKind] = []

        func repository(provider: ProviderKind, _ named: DeliveryRepository) async throws -> WebhookRepositoryLookup {
            providers.append(provider)
            guard let secrets = known[named.fullName] else { return .unknown }
            return .found(repositoryID: 7, hooks: secrets.enumerated().map { HookSecret(hookID: Int64($0.offset + 1), secret: $0.element) })
        }
        func isDuplicate(provider: ProviderKind, deliveryID: String) async throws -> Bool { seen.contains(deliveryID) }
        func ignored(provider: ProviderKind, deliveryID: String, event: String, repositoryID: Int64, hookID: Int64) async throws { seen.insert(deliveryID) }
        func apply(_ event: PushEvent, name: String, repositoryID: Int64, hookID: Int64, deliveryID: String?) async throws -> WebhookApplyOutcome {
            struct DiskFull: Error {}
            if failStoring { throw DiskFull() }
            if let deliveryID, !seen.insert(deliveryID).inserted { return .duplicate }
            applied.append(event)
            provedBy.append(hookID)
            return .applied(changes: event.changes.count)
        }
        func rejected(_ reason: String, status: Int) async {
            rejections.append((reason, status))
        }
        var rejectionReasons: [String] { rejections.map(\.0) }
        func failing(_ on: Bool) { failStoring = on }
    }

    let body = try! Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/webhook_repo_push_signed_raw.json"))

    func headers(signature: String? = WebhookReceiverTests.signature, event: String = "repo:push", request: String = UUID().uuidString) -> [String: String] {
        var headers = ["x-event-key": event, "x-request-uuid": request, "x-hook-uuid": "{hook}", "x-attempt-number": "1"]
        headers["x-hub-signature"] = signature
        return headers
    }

    @Test("a signed push is applied; its head reaches the handler")
    func accepted() async {
        let handler = Handler()
        let outcome = await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: headers(), body: body, handler: handler)
        #expect(outcome == .init(status: 200, text: "applied 1 change"))
        #expect(await handler.applied.first?.changes.first?.newHead?.hash == "d7f300a32270053bdfd97a6d64113f58202c33e7")
        // The hook whose secret verified it is the one the push is credited to.
        #expect(await handler.provedBy == [2])
    }

    @Test("missing, wrong or unknown signatures are 401 and change nothing; the reason is logged, never the secret")
    func refused() async {
        let handler = Handler()
        #expect(await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: headers(signature: nil), body: body, handler: handler).status == 401)
        #expect(await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: headers(signature: String(Self.signature.dropLast()) + "6"), body: body, handler: handler).status == 401)
        // A changed letter inside a string: still JSON, no longer what was signed.
        var tampered = body
        let at = body.firstRange(of: Data("feature/webhook".utf8))!.lowerBound
        tampered[at] = UInt8(ascii: "F")
        #expect(await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: headers(), body: tampered, handler: handler).status == 401)
        await handler.forget("nfalco79/test-repos")
        #expect(await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: headers(), body: body, handler: handler).status == 401)
        #expect(await handler.applied.isEmpty)
        let reasons = await handler.rejectionReasons
        #expect(reasons == ["unsigned delivery for nfalco79/test-repos", "bad signature for nfalco79/test-repos",
                            "bad signature for nfalco79/test-repos", "no Slipway hook on nfalco79/test-repos"])
        #expect(!reasons.joined().contains(Self.secret))
    }

    @Test("Bitbucket's X-Request-UUID is required and compared in any case; a push that cannot be stored is 503 and counts as not received")
    func deliveryIDs() async {
        let handler = Handler()
        var missing = headers()
        missing["x-request-uuid"] = nil
        #expect(await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: missing, body: body, handler: handler) == .init(status: 400, text: "no X-Request-UUID header"))
        #expect(await handler.applied.isEmpty)

        await handler.failing(true)
        let id = "6A8E4C1B-52F0-4E8B-9D1C-0F8C2E3A7B11"
        #expect(await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: headers(request: id), body: body, handler: handler).status == 503)
        await handler.failing(false)
        // The provider's retry is applied; the same id in lower case is the same delivery.
        #expect(await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: headers(request: id), body: body, handler: handler).status == 200)
        #expect(await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: headers(request: id.lowercased()), body: body, handler: handler)
                == .init(status: 200, text: "already received"))
        #expect(await handler.applied.count == 1)
    }

    @Test("a repeated X-Request-UUID is answered 200 and ignored; other events 202; malformed JSON 400")
    func otherCases() async {
        let handler = Handler()
        let first = headers(request: "req-1")
        #expect(await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: first, body: body, handler: handler).status == 200)
        #expect(await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: first, body: body, handler: handler) == .init(status: 200, text: "already received"))
        #expect(await handler.applied.count == 1)
        #expect(await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: headers(event: "repo:fork"), body: body, handler: handler) == .init(status: 202, text: "ignored: repo:fork"))
        #expect(await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: headers(), body: Data("{not json".utf8), handler: handler).status == 400)
        #expect(await handler.applied.count == 1)
    }

    @Test("over real HTTP: the delivery is applied, a body over 1 MiB is 413")
    func overHTTP() async throws {
        let handler = Handler()
        let receiver = try await WebhookReceiver.start(host: "127.0.0.1", port: 0, dialects: [BitbucketWebhookDialect()], handler: handler)
        defer { Task { await receiver.stop() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let url = "http://127.0.0.1:\(receiver.port)\(BitbucketWebhookDialect().route)"
        var request = HTTPRequest(method: .post, url: url, body: body)
        for (name, value) in headers() { request.headers.add(name, value) }
        request.headers.add("Content-Type", "application/json")
        let answer = try await transport.perform(request)
        #expect(answer.status == 200)
        #expect(await handler.applied.count == 1)
        let huge = try await transport.perform(HTTPRequest(method: .post, url: url, body: Data(repeating: 32, count: WebhookReceiver.maxBody + 10)))
        #expect(huge.status == 413)
    }

    /// A dialect of another shape: a shared token proves a delivery, and its id is optional.
    struct TokenDialect: WebhookDialect {
        var provider: ProviderKind { .gitlab }
        var route: String { "/webhooks/token-test" }
        var pushEvents: [String] { ["push"] }
        var deliveryIDHeader: String { "x-delivery" }
        var deliveryIDRequired: Bool { false }
        func deliveryID(_ headers: [String: String]) -> String? { headers["x-delivery"] }
        func eventName(_ headers: [String: String]) -> String? { headers["x-event"] }
        func isPush(_ event: String) -> Bool { event == "push" }
        func hasProof(_ headers: [String: String]) -> Bool { headers["x-token"] != nil }
        func verifies(body: Data, headers: [String: String], secret: String) -> Bool { headers["x-token"] == secret }
        func repository(in body: Data) -> DeliveryRepository? { BitbucketWebhookDialect().repository(in: body) }
        func decodePush(_ body: Data) throws(PushEvent.DecodingError) -> PushEvent { try BitbucketWebhookDialect().decodePush(body) }
    }

    @Test("each dialect gets its own route and rules: a token-proved delivery without an id is applied every time, a wrong token is 401")
    func dialectRoutes() async throws {
        let handler = Handler()
        let receiver = try await WebhookReceiver.start(host: "127.0.0.1", port: 0, dialects: [BitbucketWebhookDialect(), TokenDialect()], handler: handler)
        defer { Task { await receiver.stop() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        func post(_ route: String, _ headers: [String: String]) async throws -> Int {
            var request = HTTPRequest(method: .post, url: "http://127.0.0.1:\(receiver.port)\(route)", body: body)
            for (name, value) in headers { request.headers.add(name, value) }
            return try await transport.perform(request).status
        }
        let token = ["x-event": "push", "x-token": Self.secret]
        #expect(try await post("/webhooks/token-test", token) == 200)
        #expect(try await post("/webhooks/token-test", token) == 200)
        #expect(await handler.applied.count == 2, "no id: nothing to tell a retry by, so each is applied")
        #expect(try await post("/webhooks/token-test", ["x-event": "push", "x-token": "wrong"]) == 401)
        #expect(try await post("/webhooks/token-test", ["x-event": "push"]) == 401)
        // A Bitbucket signature means nothing on the other route, and the Bitbucket route keeps its rules.
        #expect(try await post("/webhooks/token-test", headers()) == 401)
        #expect(try await post(BitbucketWebhookDialect().route, headers()) == 200)
        #expect(await handler.applied.count == 3)
        let providers = await handler.providers
        #expect(providers.contains(.gitlab) && providers.contains(.bitbucket))
    }

    @Test("a Content-Length over the limit is answered 413 before any of the body is sent")
    func declaredTooLarge() async throws {
        let receiver = try await WebhookReceiver.start(host: "127.0.0.1", port: 0, dialects: [BitbucketWebhookDialect()], handler: Handler())
        defer { Task { await receiver.stop() } }
        let socket = try RawClient(port: receiver.port)
        defer { socket.close() }
        socket.send("POST \(BitbucketWebhookDialect().route) HTTP/1.1\r\nHost: x\r\nContent-Length: \(WebhookReceiver.maxBody * 50)\r\n\r\n")
        let answer = await socket.receiveOffPool(timeout: 5)
        #expect(answer.hasPrefix("HTTP/1.1 413"), "got: \(answer.prefix(80))")
    }

    @Test("a half-sent header is closed after the header deadline; a flood of idle connections stays under the cap and a real delivery still gets through")
    func hostileClients() async throws {
        var limits = WebhookReceiver.Limits()
        limits.headerTimeout = 0.5
        limits.maxConnections = 4
        let handler = Handler()
        let receiver = try await WebhookReceiver.start(host: "127.0.0.1", port: 0, dialects: [BitbucketWebhookDialect()], handler: handler, limits: limits)
        defer { Task { await receiver.stop() } }

        let slow = try RawClient(port: receiver.port)
        slow.send("POST \(BitbucketWebhookDialect().route) HTTP/1.1\r\nHost: x\r\nX-Half: ")
        let started = Date()
        #expect(await slow.receiveOffPool(timeout: 10).isEmpty, "the server answered a request that never ended")
        // Closed by the server before the client's own 10 s wait ends (a loaded CI machine may
        // take seconds past the 0.5 s deadline; a receiver without one never closes it).
        #expect(slow.isClosedByPeer && Date().timeIntervalSince(started) < 9.5, "a half-sent header stayed open")
        slow.close()

        // Twenty idle connections: the receiver holds at most four at a time.
        let idle = try (0..<20).map { _ in try RawClient(port: receiver.port) }
        defer { idle.forEach { $0.close() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        var request = HTTPRequest(method: .post, url: "http://127.0.0.1:\(receiver.port)\(BitbucketWebhookDialect().route)", body: body)
        for (name, value) in headers() { request.headers.add(name, value) }
        let answer = try await transport.perform(request)
        #expect(answer.status == 200)
        // The accept loop stops reading at the cap; one read may take up to four more (NIO's
        // messages per read) before it notices — never the twenty offered.
        #expect(receiver.connections.peak <= 8, "peak \(receiver.connections.peak)")
        #expect(await handler.applied.count == 1)
    }
}

/// A blocking TCP client that sends exactly the bytes it is given.
final class RawClient: @unchecked Sendable {
    let fd: Int32
    private(set) var isClosedByPeer = false

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        struct ConnectFailed: Error {}
        guard connected == 0 else { Glibc.close(fd); throw ConnectFailed() }
    }

    func send(_ text: String) {
        _ = text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    /// What arrives within `timeout` seconds, up to the peer closing.
    func receive(timeout: TimeInterval) -> String {
        var received = Data()
        let end = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < end {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { if !received.isEmpty { break }; continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { isClosedByPeer = true; break }
            received.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// The same wait on a thread of its own: blocking one of the concurrency pool's threads (two on
    /// this machine) could starve the receiver's own async work and make it look silent.
    func receiveOffPool(timeout: TimeInterval) async -> String {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.receive(timeout: timeout)) }.start()
        }
    }

    func close() { Glibc.close(fd) }
}

extension WebhookReceiverTests.Handler {
    func forget(_ repository: String) { known[repository] = nil }
}
