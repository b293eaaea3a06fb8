import Foundation
import Testing
import SlipwayProviders
@testable import SlipwayServer

/// GitHub's deliveries through the receiver's rules: `X-Hub-Signature-256` against that
/// repository's hook, `X-GitHub-Delivery` required and deduplicated, `ping` answered 2xx and
/// applied nowhere, branch creation and deletion (zero SHAs), forced pushes, tags ignored.
@Suite("GitHub webhook dialect")
struct GitHubDeliveryTests {
    static let secret = "It's a Secret to Everybody"
    let dialect = GitHubWebhookDialect()

    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/github/\(name)"))
    }

    actor Handler: WebhookHandling {
        var hooks: [String: String] = ["Codertocat/Hello-World": GitHubDeliveryTests.secret, "Octocoders/Hello-World": GitHubDeliveryTests.secret]
        var seen: Set<String> = []
        var applied: [PushEvent] = []
        var ignoredEvents: [String] = []
        var named: [DeliveryRepository] = []

        func repository(provider: ProviderKind, _ repository: DeliveryRepository) async throws -> WebhookRepositoryLookup {
            named.append(repository)
            guard provider == .github, let secret = hooks[repository.fullName] else { return .unknown }
            return .found(repositoryID: 3, hooks: [HookSecret(hookID: 9, secret: secret)])
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

    func headers(_ body: Data, event: String = "push", delivery: String? = UUID().uuidString, secret: String = GitHubDeliveryTests.secret) -> [String: String] {
        var headers = ["x-github-event": event, "x-github-hook-id": "9", "user-agent": "GitHub-Hookshot/abc",
                       "x-hub-signature-256": WebhookSignature.header(body: body, secret: secret)]
        headers["x-github-delivery"] = delivery
        return headers
    }

    @Test("GitHub's published test vector verifies; one changed byte of body or secret does not")
    func testVector() {
        let body = Data("Hello, World!".utf8)
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        #expect(WebhookSignature.header(body: body, secret: Self.secret) == header)
        #expect(dialect.verifies(body: body, headers: ["x-hub-signature-256": header], secret: Self.secret))
        #expect(!dialect.verifies(body: Data("Hello, World?".utf8), headers: ["x-hub-signature-256": header], secret: Self.secret))
        #expect(!dialect.verifies(body: body, headers: ["x-hub-signature-256": header], secret: Self.secret + " "))
        // The legacy SHA-1 header proves nothing.
        #expect(!dialect.hasProof(["x-hub-signature": "sha1=0123"]))
    }

    @Test("a created branch: its head with author, date and message from head_commit; the repository by full name and id")
    func createdBranch() async throws {
        let body = try Self.fixture("push-new-branch.json")
        let push = try dialect.decodePush(body)
        #expect(push.repositoryFullName == "Codertocat/Hello-World" && push.repositoryID == "186853002")
        let change = try #require(push.changes.first)
        #expect(push.changes.count == 1 && change.branch == "master" && change.created && !change.closed && !change.forced)
        #expect(change.oldHash == nil)
        #expect(change.newHead?.hash == "6113728f27ae82c7b1a177c8d03f9e96e0adf246")
        #expect(change.newHead?.author == "Codertocat <21031067+Codertocat@users.noreply.github.com>")
        #expect(change.newHead?.message == "Initial commit")
        #expect(change.newHead?.date == ProviderDate.parse("2019-05-15T15:19:25Z"))

        let handler = Handler()
        let delivery = UUID().uuidString
        let outcome = await WebhookReceiver.handle(dialect: dialect, headers: headers(body, delivery: delivery), body: body, handler: handler)
        #expect(outcome == .init(status: 200, text: "applied 1 change"))
        // A redelivery carries the same id: applied once.
        let again = await WebhookReceiver.handle(dialect: dialect, headers: headers(body, delivery: delivery.lowercased()), body: body, handler: handler)
        #expect(again == .init(status: 200, text: "already received"))
        #expect(await handler.applied.count == 1)
    }

    @Test("a deleted branch, a forced push and a tag: zero SHAs mean gone, tags move nothing")
    func deletedForcedAndTags() throws {
        var object = try #require(try JSONSerialization.jsonObject(with: Self.fixture("push-new-branch.json")) as? [String: Any])
        object["ref"] = "refs/heads/feature/x"
        object["before"] = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
        object["after"] = String(repeating: "0", count: 40)
        object["created"] = false
        object["deleted"] = true
        object["head_commit"] = NSNull()
        object["commits"] = []
        let deleted = try dialect.decodePush(try JSONSerialization.data(withJSONObject: object))
        #expect(deleted.changes == [PushEvent.Change(branch: "feature/x", newHead: nil, oldHash: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
                                                     created: false, closed: true, forced: false, truncated: false)])

        object["after"] = "a10867b14bb761a232cd80139fbd4c0d33264240"
        object["deleted"] = false
        object["forced"] = true
        object["head_commit"] = ["id": "a10867b14bb761a232cd80139fbd4c0d33264240", "message": "Rewrite \u{1B}[2J history",
                                 "timestamp": "2026-11-30T09:08:07-05:00", "author": ["name": "Ada", "email": "ada@example.com"]]
        let forced = try #require(try dialect.decodePush(try JSONSerialization.data(withJSONObject: object)).changes.first)
        #expect(forced.forced && !forced.created && !forced.closed && forced.newHead?.hash == "a10867b14bb761a232cd80139fbd4c0d33264240")
        #expect(forced.newHead?.date == ProviderDate.parse("2026-11-30T14:08:07Z"))
        #expect(forced.newHead?.message == "Rewrite \u{1B}[2J history")   // raw here; sanitized only for the terminal

        let tag = try dialect.decodePush(try Self.fixture("push-tag-deleted.json"))
        #expect(tag.changes.isEmpty && tag.repositoryFullName == "Codertocat/Hello-World")

        object["after"] = "b10867b14bb761a232cd80139fbd4c0d33264240"
        object["head_commit"] = NSNull()
        let headless = try #require(try dialect.decodePush(try JSONSerialization.data(withJSONObject: object)).changes.first)
        #expect(headless.newHead == ProviderCommit(hash: "b10867b14bb761a232cd80139fbd4c0d33264240"))
        #expect(throws: PushEvent.DecodingError.self) { try dialect.decodePush(Data(#"{"ref": 5}"#.utf8)) }
    }

    @Test("ping is answered 2xx and applies nothing; unsigned, wrongly signed and id-less deliveries are refused")
    func pingAndRefusals() async throws {
        let handler = Handler()
        let ping = try Self.fixture("ping.json")
        let pinged = await WebhookReceiver.handle(dialect: dialect, headers: headers(ping, event: "ping"), body: ping, handler: handler)
        #expect(pinged.status == 202 && pinged.text == "ignored: ping")
        let ignored = await handler.ignoredEvents
        let appliedAfterPing = await handler.applied
        #expect(ignored == ["ping"] && appliedAfterPing.isEmpty)

        let body = try Self.fixture("push-new-branch.json")
        var unsigned = headers(body)
        unsigned["x-hub-signature-256"] = nil
        #expect(await WebhookReceiver.handle(dialect: dialect, headers: unsigned, body: body, handler: handler).status == 401)
        #expect(await WebhookReceiver.handle(dialect: dialect, headers: headers(body, secret: "guess"), body: body, handler: handler).status == 401)
        let noID = await WebhookReceiver.handle(dialect: dialect, headers: headers(body, delivery: nil), body: body, handler: handler)
        #expect(noID == .init(status: 400, text: "no X-GitHub-Delivery header"))
        let applied = await handler.applied
        #expect(applied.isEmpty)
        #expect(await handler.named.last == DeliveryRepository(fullName: "Codertocat/Hello-World", id: "186853002"))
    }

    @Test("the dialect's route, events and delivery header are GitHub's")
    func vocabulary() {
        #expect(dialect.route == "/webhooks/github" && dialect.pushEvents == ["push"] && dialect.provider == .github)
        #expect(dialect.deliveryID(["x-github-delivery": " 72D3162E-CC78-11E3-81AB-4C9367DC0958 "]) == "72d3162e-cc78-11e3-81ab-4c9367dc0958")
        #expect(dialect.eventName(["x-github-event": "push"]) == "push" && dialect.isPush("push") && !dialect.isPush("ping"))
    }
}
