import Foundation
import Testing
import SlipwayHTTP
import SlipwayProviders
@testable import SlipwayServer

/// Every rule of the receiver, with the real captured delivery.
@Suite("Webhook receiver")
struct WebhookReceiverTests {
    static let secret = "Gkvl$k$wyNpQAF42"
    static let signature = "sha256=f205c729821c6954aff2afe72b965c34015b4baf96ea8ddc2cc44999c014a035"

    actor Handler: WebhookHandling {
        var known: [String: [String]] = ["nfalco79/test-repos": ["other-secret", WebhookReceiverTests.secret]]
        var seen: Set<String> = []
        var applied: [BitbucketPushEvent] = []
        var rejections: [(String, Int)] = []
        /// The repositories whose hook health a refusal marks.
        var marked: [String?] = []

        func secrets(repositoryFullName: String, uuid: String?) async -> [String] { known[repositoryFullName] ?? [] }
        func firstDelivery(requestUUID: String, eventKey: String) async -> Bool { seen.insert(requestUUID).inserted }
        func apply(_ event: BitbucketPushEvent, requestUUID: String?) async { applied.append(event) }
        func rejected(_ reason: String, status: Int, repository: (fullName: String, uuid: String?)?) async {
            rejections.append((reason, status))
            marked.append(repository?.fullName)
        }
        var rejectionReasons: [String] { rejections.map(\.0) }
    }

    let body = try! Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/webhook_repo_push_signed_raw.json"))

    func headers(signature: String? = WebhookReceiverTests.signature, event: String = "repo:push", request: String = UUID().uuidString) -> [String: String] {
        var headers = ["x-event-key": event, "x-request-uuid": request, "x-hook-uuid": "{hook}", "x-attempt-number": "1"]
        headers["x-hub-signature"] = signature
        return headers
    }

    @Test("a signed push is applied; its head reaches the handler")
    func accepted() async {
        let handler = Handler()
        let outcome = await WebhookReceiver.handle(headers: headers(), body: body, handler: handler)
        #expect(outcome == .init(status: 200, text: "applied 1 change"))
        #expect(await handler.applied.first?.changes.first?.newHead?.hash == "d7f300a32270053bdfd97a6d64113f58202c33e7")
    }

    @Test("missing, wrong or unknown signatures are 401 and change nothing; the reason is logged, never the secret")
    func refused() async {
        let handler = Handler()
        #expect(await WebhookReceiver.handle(headers: headers(signature: nil), body: body, handler: handler).status == 401)
        #expect(await WebhookReceiver.handle(headers: headers(signature: String(Self.signature.dropLast()) + "6"), body: body, handler: handler).status == 401)
        // A changed letter inside a string: still JSON, no longer what was signed.
        var tampered = body
        let at = body.firstRange(of: Data("feature/webhook".utf8))!.lowerBound
        tampered[at] = UInt8(ascii: "F")
        #expect(await WebhookReceiver.handle(headers: headers(), body: tampered, handler: handler).status == 401)
        await handler.forget("nfalco79/test-repos")
        #expect(await WebhookReceiver.handle(headers: headers(), body: body, handler: handler).status == 401)
        #expect(await handler.applied.isEmpty)
        let reasons = await handler.rejectionReasons
        #expect(reasons == ["unsigned delivery for nfalco79/test-repos", "bad signature for nfalco79/test-repos",
                            "bad signature for nfalco79/test-repos", "no Slipway hook on nfalco79/test-repos"])
        #expect(!reasons.joined().contains(Self.secret))
        // Refusals for a repository with a hook of ours mark its health; an unknown one has none.
        #expect(await handler.marked == ["nfalco79/test-repos", "nfalco79/test-repos", "nfalco79/test-repos", nil])
    }

    @Test("a repeated X-Request-UUID is answered 200 and ignored; other events 202; malformed JSON 400")
    func otherCases() async {
        let handler = Handler()
        let first = headers(request: "req-1")
        #expect(await WebhookReceiver.handle(headers: first, body: body, handler: handler).status == 200)
        #expect(await WebhookReceiver.handle(headers: first, body: body, handler: handler) == .init(status: 200, text: "already received"))
        #expect(await handler.applied.count == 1)
        #expect(await WebhookReceiver.handle(headers: headers(event: "repo:fork"), body: body, handler: handler) == .init(status: 202, text: "ignored: repo:fork"))
        #expect(await WebhookReceiver.handle(headers: headers(), body: Data("{not json".utf8), handler: handler).status == 400)
        #expect(await handler.applied.count == 1)
    }

    @Test("over real HTTP: the delivery is applied, a body over 1 MiB is 413")
    func overHTTP() async throws {
        let handler = Handler()
        let receiver = try await WebhookReceiver.start(host: "127.0.0.1", port: 0, handler: handler)
        defer { Task { await receiver.stop() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let url = "http://127.0.0.1:\(receiver.port)\(ServerRoutes.bitbucketWebhook)"
        var request = HTTPRequest(method: .post, url: url, body: body)
        for (name, value) in headers() { request.headers.add(name, value) }
        request.headers.add("Content-Type", "application/json")
        let answer = try await transport.perform(request)
        #expect(answer.status == 200)
        #expect(await handler.applied.count == 1)
        let huge = try await transport.perform(HTTPRequest(method: .post, url: url, body: Data(repeating: 32, count: WebhookReceiver.maxBody + 10)))
        #expect(huge.status == 413)
    }
}

extension WebhookReceiverTests.Handler {
    func forget(_ repository: String) { known[repository] = nil }
}
