import Crypto
import Foundation

/// Bitbucket's webhook deliveries: `POST /webhooks/bitbucket`, `X-Event-Key: repo:push`, proved
/// by `X-Hub-Signature: sha256=<HMAC-SHA256 of the raw body>` under the hook's secret, and
/// `X-Request-UUID` on every delivery (kept across retries).
public struct BitbucketWebhookDialect: WebhookDialect {
    public init() {}

    public var provider: ProviderKind { .bitbucket }
    public var route: String { "/webhooks/bitbucket" }
    public var pushEvents: [String] { ["repo:push"] }
    /// Bitbucket sends it on every delivery, so a delivery without one is not Bitbucket's.
    public var deliveryIDHeader: String { "X-Request-UUID" }
    public var deliveryIDRequired: Bool { true }

    public func eventName(_ headers: [String: String]) -> String? { headers["x-event-key"] }

    public func isPush(_ event: String) -> Bool { event == "repo:push" }

    public func hasProof(_ headers: [String: String]) -> Bool { headers["x-hub-signature"] != nil }

    public func verifies(body: Data, headers: [String: String], secret: String) -> Bool {
        WebhookSignature.isValid(body: body, header: headers["x-hub-signature"], secret: secret)
    }

    public func repository(in body: Data) -> DeliveryRepository? {
        struct Named: Decodable {
            struct Repository: Decodable { var full_name: String; var uuid: String? }
            var repository: Repository
        }
        guard let named = try? JSONDecoder().decode(Named.self, from: body) else { return nil }
        return DeliveryRepository(fullName: named.repository.full_name, id: named.repository.uuid)
    }

    public func decodePush(_ body: Data) throws(PushEvent.DecodingError) -> PushEvent {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: body)
        } catch {
            throw .malformed(PushEvent.describe(error))
        }
        guard let fullName = wire.repository.fullName, !fullName.isEmpty else { throw .malformed("the repository has no full_name") }
        var changes: [PushEvent.Change] = []
        for change in wire.push.changes {
            // Tags move no branch.
            let ref = change.new ?? change.old
            guard ref?.type == nil || ref?.type == "branch", let name = ref?.name else { continue }
            let head = change.new?.target?.providerCommit
            changes.append(PushEvent.Change(branch: name, newHead: change.new == nil ? nil : head, oldHash: change.old?.target?.hash,
                                  created: change.created ?? (change.old == nil), closed: change.closed ?? (change.new == nil),
                                  forced: change.forced ?? false, truncated: change.truncated ?? false))
        }
        return PushEvent(repositoryFullName: fullName, repositoryID: wire.repository.uuid, changes: changes)
    }

    // The wire shape, lenient: everything optional that Bitbucket may leave out; the commit and
    // repository shapes are the REST API's.
    private struct Wire: Decodable {
        struct Ref: Decodable { var type: String?; var name: String?; var target: BitbucketWire.Commit? }
        struct Change: Decodable {
            var new: Ref?
            var old: Ref?
            var created: Bool?
            var closed: Bool?
            var forced: Bool?
            var truncated: Bool?
        }
        struct Push: Decodable { var changes: [Change] }
        var push: Push
        var repository: BitbucketWire.Repository
    }
}
