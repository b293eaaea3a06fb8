import Foundation
import SlipwayHTTP

/// GitHub's webhook deliveries: `POST /webhooks/github`, `X-GitHub-Event: push` (a hook's
/// creation sends `ping` first), proved by `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw
/// body>` under the hook's secret, and `X-GitHub-Delivery` — a GUID per event, kept across
/// redeliveries — on every delivery.
public struct GitHubWebhookDialect: WebhookDialect {
    public init() {}

    public var provider: ProviderKind { .github }
    public var route: String { "/webhooks/github" }
    public var pushEvents: [String] { ["push"] }
    public var deliveryIDHeader: String { "X-GitHub-Delivery" }
    public var deliveryIDRequired: Bool { true }
    static let signatureHeader = "x-hub-signature-256"
    /// `before` of a created branch, `after` of a deleted one.
    static let zeroHash = String(repeating: "0", count: 40)

    public func eventName(_ headers: [String: String]) -> String? { headers["x-github-event"] }

    public func isPush(_ event: String) -> Bool { event == "push" }

    public func hasProof(_ headers: [String: String]) -> Bool { headers[Self.signatureHeader] != nil }

    public func verifies(body: Data, headers: [String: String], secret: String) -> Bool {
        WebhookSignature.isValid(body: body, header: headers[Self.signatureHeader], secret: secret)
    }

    /// The repository by `full_name` and its numeric `id` (a ping names it too). Read before the
    /// signature is checked, so only those two fields are made values.
    public func repository(in body: Data) -> DeliveryRepository? {
        guard let named = try? JSONReader.read(body, { reader -> Named? in
            var named: Named?
            try reader.object { reader, key in
                if key == "repository" { named = try Self.readRepository(&reader) }
            }
            return named
        }), let fullName = named.fullName else { return nil }
        return DeliveryRepository(fullName: fullName, id: named.id.map(String.init))
    }

    /// Read with `JSONReader` (a daemon takes deliveries by the thousand a second): `ref` and the
    /// repository's `full_name` are required, the rest may be left out.
    public func decodePush(_ body: Data) throws(PushEvent.DecodingError) -> PushEvent {
        var wire = Wire()
        try PushEvent.reading(body) { reader in
            try reader.object { reader, key in
                if key == "ref" {
                    wire.ref = try reader.string()
                } else if key == "before" {
                    wire.before = try reader.string()
                } else if key == "after" {
                    wire.after = try reader.string()
                } else if key == "created" {
                    wire.created = try reader.bool()
                } else if key == "deleted" {
                    wire.deleted = try reader.bool()
                } else if key == "forced" {
                    wire.forced = try reader.bool()
                } else if key == "head_commit" {
                    if reader.peekKind() != .null { wire.headCommit = try PushCommit.read(&reader, what: "a head_commit") }
                } else if key == "repository" {
                    wire.repository = try Self.readRepository(&reader)
                }
            }
        }
        guard let ref = wire.ref else { throw .malformed("missing ref") }
        guard let fullName = wire.repository?.fullName else { throw .malformed("missing repository.full_name") }
        guard !fullName.isEmpty else { throw .malformed("the repository has no full_name") }
        let repositoryID = wire.repository?.id.map(String.init)
        // Tags move no branch: a tag push is a push with nothing to apply.
        guard ref.hasPrefix("refs/heads/") else { return PushEvent(repositoryFullName: fullName, repositoryID: repositoryID, changes: []) }
        let branch = String(ref.dropFirst("refs/heads/".count))
        let old = wire.before == Self.zeroHash ? nil : wire.before
        let deleted = wire.deleted ?? (wire.after == Self.zeroHash)
        let created = wire.created ?? (old == nil)
        var head: ProviderCommit?
        if !deleted, let after = wire.after, after != Self.zeroHash {
            let commit = wire.headCommit.flatMap { $0.id == after ? $0 : nil }
            head = ProviderCommit(hash: after.lowercased(), date: commit?.timestamp.flatMap(ProviderDate.parse),
                                  author: commit?.author, message: commit?.message)
        }
        guard deleted || head != nil else { throw .malformed("a push to \(branch) without its new head") }
        // GitHub sends no truncation mark; the confirming fetch that follows every push fills in
        // what the payload leaves out.
        let change = PushEvent.Change(branch: branch, newHead: head, oldHash: old?.lowercased(), created: created, closed: deleted,
                                      forced: wire.forced ?? false, truncated: false)
        return PushEvent(repositoryFullName: fullName, repositoryID: repositoryID, changes: [change])
    }

    struct Named { var fullName: String?; var id: Int64? }

    static func readRepository(_ reader: inout JSONReader) throws -> Named {
        var named = Named()
        try reader.object { reader, key in
            if key == "full_name" {
                named.fullName = try reader.string()
            } else if key == "id" {
                named.id = try reader.int().map(Int64.init)
            }
        }
        return named
    }

    // What a push payload says, as read; lenient where GitHub may leave a field out.
    private struct Wire {
        var ref: String?
        var before: String?
        var after: String?
        var created: Bool?
        var deleted: Bool?
        var forced: Bool?
        var headCommit: PushCommit?
        var repository: Named?
    }
}
