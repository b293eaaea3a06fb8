import Foundation
import Testing
import SlipwayProviders
@testable import SlipwayServer

/// GitLab's deliveries through the receiver's rules: `X-Gitlab-Token` against that project's hook
/// (constant time), `Idempotency-Key` deduplicating retries where GitLab sends one and not required
/// where it does not, `Push Hook` applied, other events answered 202 and applied nowhere.
@Suite("GitLab webhook dialect")
struct GitLabDeliveryTests {
    static let token = "gitlab-hook-token"
    let dialect = GitLabWebhookDialect()

    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/gitlab/\(name)"))
    }

    actor Handler: WebhookHandling {
        /// Whether the project's hook was confirmed as signing its deliveries.
        let signed: Bool
        init(signed: Bool = false) { self.signed = signed }
        var seen: Set<String> = []
        var applied: [PushEvent] = []
        var ignoredEvents: [String] = []

        func repository(provider: ProviderKind, _ repository: DeliveryRepository) async throws -> WebhookRepositoryLookup {
            guard provider == .gitlab, repository.fullName == "mike/diaspora" else { return .unknown }
            return .found(repositoryID: 15, hooks: [HookSecret(hookID: 4, secret: GitLabDeliveryTests.token, signed: signed)])
        }
        func isDuplicate(provider: ProviderKind, deliveryID: String) async throws -> Bool { seen.contains(deliveryID) }
        func ignored(provider: ProviderKind, deliveryID: String, event: String, repositoryID: Int64, hookID: Int64) async throws {
            seen.insert(deliveryID)
            ignoredEvents.append(event)
        }
        func apply(_ event: PushEvent, name: String, repositoryID: Int64, hookID: Int64, deliveryID: String?) async throws -> WebhookApplyOutcome {
            if let deliveryID, !seen.insert(deliveryID).inserted { return .duplicate }
            applied.append(event)
            return .applied(changes: event.changes.count)
        }
        func rejected(_ reason: String, status: Int) async {}
    }

    func headers(event: String = "Push Hook", key: String? = UUID().uuidString, token: String? = GitLabDeliveryTests.token) -> [String: String] {
        var headers = ["x-gitlab-event": event, "user-agent": "GitLab/17.9.0", "x-gitlab-instance": "https://gitlab.example.com"]
        headers["idempotency-key"] = key
        headers["x-gitlab-token"] = token
        return headers
    }

    @Test("the documented push is applied once per Idempotency-Key; without one it is applied, as older GitLab sends none")
    func pushAndRetries() async throws {
        let body = try Self.fixture("push.json")
        let handler = Handler()
        let key = UUID().uuidString
        #expect(await WebhookReceiver.handle(dialect: dialect, headers: headers(key: key), body: body, handler: handler) == .init(status: 200, text: "applied 1 change"))
        #expect(await WebhookReceiver.handle(dialect: dialect, headers: headers(key: key.lowercased()), body: body, handler: handler)
                == .init(status: 200, text: "already received"))
        #expect(await WebhookReceiver.handle(dialect: dialect, headers: headers(key: nil), body: body, handler: handler).status == 200)
        #expect(await handler.applied.count == 2)
        #expect(await handler.applied.first?.changes.first?.newHead?.hash == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7")
    }

    @Test("a wrong or missing token is 401 and applies nothing; other events are 202 and applied nowhere")
    func proofAndOtherEvents() async throws {
        let body = try Self.fixture("push.json")
        let handler = Handler()
        #expect(await WebhookReceiver.handle(dialect: dialect, headers: headers(token: "guess"), body: body, handler: handler).status == 401)
        #expect(await WebhookReceiver.handle(dialect: dialect, headers: headers(token: nil), body: body, handler: handler).status == 401)
        #expect(await WebhookReceiver.handle(dialect: dialect, headers: headers(token: Self.token + " "), body: body, handler: handler).status == 401)
        #expect(await handler.applied.isEmpty)
        let tag = await WebhookReceiver.handle(dialect: dialect, headers: headers(event: "Tag Push Hook"), body: body, handler: handler)
        #expect(tag == .init(status: 202, text: "ignored: Tag Push Hook"))
        #expect(await handler.ignoredEvents == ["Tag Push Hook"])
        #expect(await handler.applied.isEmpty)
    }

    /// The Standard Webhooks headers GitLab 19.0+ adds for a hook with a signing token.
    func signed(_ headers: [String: String], body: Data, key: String = GitLabWebhookDialect.signingToken(for: GitLabDeliveryTests.token),
                id: String = "ef2d1d12-4a4e-4e36-9d58-7c0e3a1a3f10", at time: Date) -> [String: String] {
        var headers = headers
        let timestamp = Int(time.timeIntervalSince1970)
        headers["webhook-id"] = id
        headers["webhook-timestamp"] = String(timestamp)
        headers["webhook-signature"] = StandardWebhookSignature.sign(id: id, timestamp: timestamp, body: body,
                                                                     key: StandardWebhookSignature.key(fromSecret: key)!)
        return headers
    }

    @Test("a hook with a signing token is proved only by a webhook-signature within 5 minutes; the token alone no longer does")
    func signingToken() async throws {
        let body = try Self.fixture("push.json")
        let handler = Handler(signed: true)
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        func status(_ headers: [String: String], body: Data = body, at time: Date = now) async -> Int {
            await WebhookReceiver.handle(dialect: dialect, headers: headers, body: body, handler: handler, now: time).status
        }
        // The right token without a signature, and a signature without the token, each alone.
        #expect(await status(headers()) == 401)
        var signatureAlone = signed(headers(token: nil), body: body, at: now)
        #expect(await status(signatureAlone) == 200)
        // Stale or early by more than five minutes: a replay, refused.
        #expect(await status(signed(headers(), body: body, at: now.addingTimeInterval(-301))) == 401)
        #expect(await status(signed(headers(), body: body, at: now.addingTimeInterval(301))) == 401)
        #expect(await status(signed(headers(), body: body, at: now.addingTimeInterval(-299))) == 200)
        // Another key, another body, another id than the one signed, a broken header.
        #expect(await status(signed(headers(), body: body, key: "whsec_" + Data(repeating: 7, count: 32).base64EncodedString(), at: now)) == 401)
        var tampered = body
        tampered.append(contentsOf: Array(" ".utf8))
        #expect(await status(signed(headers(), body: body, at: now), body: tampered) == 401)
        var otherID = signed(headers(), body: body, at: now)
        otherID["webhook-id"] = "another"
        #expect(await status(otherID) == 401)
        signatureAlone["webhook-signature"] = "v1,not base64"
        #expect(await status(signatureAlone) == 401)
        #expect(await handler.applied.count == 2)
    }

    @Test("several signatures may come (a key being rotated): one valid v1 among them is enough")
    func rotatedSignatures() async throws {
        let body = try Self.fixture("push.json")
        let handler = Handler(signed: true)
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        var headers = signed(headers(), body: body, at: now)
        headers["webhook-signature"] = "v1,bm9wZQ== v2,abc " + headers["webhook-signature"]!
        #expect(await WebhookReceiver.handle(dialect: dialect, headers: headers, body: body, handler: handler, now: now).status == 200)
    }

    @Test("the signing token is a whsec_ 32-byte key derived from the hook's secret, not the secret itself")
    func derivedSigningToken() throws {
        let token = GitLabWebhookDialect.signingToken(for: Self.token)
        #expect(token.hasPrefix("whsec_") && !token.contains(Self.token))
        #expect(Data(base64Encoded: String(token.dropFirst(6)))?.count == 32)
        #expect(token == GitLabWebhookDialect.signingToken(for: Self.token) && token != GitLabWebhookDialect.signingToken(for: Self.token + "x"))
    }
}
