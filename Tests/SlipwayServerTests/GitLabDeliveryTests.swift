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
        var seen: Set<String> = []
        var applied: [PushEvent] = []
        var ignoredEvents: [String] = []

        func repository(provider: ProviderKind, _ repository: DeliveryRepository) async throws -> WebhookRepositoryLookup {
            guard provider == .gitlab, repository.fullName == "mike/diaspora" else { return .unknown }
            return .found(repositoryID: 15, hooks: [HookSecret(hookID: 4, secret: GitLabDeliveryTests.token)])
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
}
