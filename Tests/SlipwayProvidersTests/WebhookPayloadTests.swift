import Foundation
import Testing
@testable import SlipwayProviders

/// Bitbucket's signed `repo:push` deliveries, checked against a real captured one.
@Suite("Webhook signatures and push payloads")
struct WebhookPayloadTests {
    static let secret = "Gkvl$k$wyNpQAF42"
    static let signature = "sha256=f205c729821c6954aff2afe72b965c34015b4baf96ea8ddc2cc44999c014a035"

    @Test("the real delivery verifies with its secret; one changed character — of body, signature or secret — does not")
    func realDelivery() throws {
        let body = try fixture("webhook_repo_push_signed_raw.json")
        #expect(body.count == 14_515)
        #expect(WebhookSignature.header(body: body, secret: Self.secret) == Self.signature)
        #expect(WebhookSignature.isValid(body: body, header: Self.signature, secret: Self.secret))
        #expect(WebhookSignature.isValid(body: body, header: Self.signature.uppercased().replacingOccurrences(of: "SHA256=", with: "sha256="), secret: Self.secret))
        #expect(!WebhookSignature.isValid(body: body, header: String(Self.signature.dropLast()) + "6", secret: Self.secret))
        var tampered = body
        tampered[100] ^= 0x01
        #expect(!WebhookSignature.isValid(body: tampered, header: Self.signature, secret: Self.secret))
        #expect(!WebhookSignature.isValid(body: body, header: Self.signature, secret: "Gkvl$k$wyNpQAF43"))
        for bad in [nil, "", "sha1=abc", "sha256=", "sha256=zz", Self.signature + "00"] as [String?] {
            #expect(!WebhookSignature.isValid(body: body, header: bad, secret: Self.secret), "\(bad ?? "nil")")
        }
    }

    @Test("a created branch: its new head with author, date and message; the repository by full name and uuid")
    func created() throws {
        let event = try BitbucketWebhookDialect().decodePush(try fixture("webhook_repo_push_signed_raw.json"))
        #expect(event.repositoryFullName == "nfalco79/test-repos")
        #expect(event.repositoryID == "{3deb8c29-778a-450c-8f69-3e50a18079df}")
        let change = try #require(event.changes.first)
        #expect(change.branch == "feature/webhook")
        #expect(change.created && !change.closed)
        #expect(change.newHead?.hash == "d7f300a32270053bdfd97a6d64113f58202c33e7")
        #expect(change.newHead?.author == "Nikolas Falco <nfalco79@hotmail.com>")
        #expect(change.newHead?.date != nil)
        #expect(change.oldHash == nil)
    }

    @Test("deleted, forced and truncated branches; tags are left out")
    func kinds() throws {
        let deleted = try BitbucketWebhookDialect().decodePush(try fixture("webhook_repo_push_branch_deleted.json"))
        #expect(deleted.changes.map(\.branch) == ["feature/test"])
        #expect(deleted.changes.first?.closed == true && deleted.changes.first?.newHead == nil)
        let forced = try BitbucketWebhookDialect().decodePush(try fixture("webhook_repo_push_update_truncated.json"))
        #expect(forced.changes.first?.forced == true && forced.changes.first?.truncated == true)
        #expect(forced.changes.first?.newHead?.hash == "5ecffa3874e96920f24a2b3c0d0038e47d5cd1a4")
        #expect(try BitbucketWebhookDialect().decodePush(try fixture("webhook_repo_push_tag_created.json")).changes.isEmpty)
        let branchCreated = try BitbucketWebhookDialect().decodePush(try fixture("webhook_repo_push_branch_created.json"))
        #expect(branchCreated.changes.first?.branch == "feature/test")
    }

    @Test("malformed bodies are a clear error", arguments: ["", "{", "[]", #"{"push":{}}"#, #"{"push":{"changes":[]},"repository":{}}"#])
    func malformed(body: String) {
        #expect(throws: PushEvent.DecodingError.self) { try BitbucketWebhookDialect().decodePush(Data(body.utf8)) }
    }
}
