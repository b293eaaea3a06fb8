import Crypto
import Foundation
import SlipwayHTTP

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

    /// Read before the signature is checked, so only the two fields it needs are made strings.
    public func repository(in body: Data) -> DeliveryRepository? {
        guard let named = try? JSONReader.read(body, { reader -> BitbucketWire.NamedRepository? in
            var named: BitbucketWire.NamedRepository?
            try reader.object { reader, key in
                if key == "repository" { named = try BitbucketWire.readNamedRepository(&reader) }
            }
            return named
        }), let fullName = named.fullName else { return nil }
        return DeliveryRepository(fullName: fullName, id: named.uuid)
    }

    /// Read with `JSONReader` (a daemon takes deliveries by the thousand a second): the fields
    /// used, the rest skipped; `push.changes` and the repository are required, every field of a
    /// change may be left out, and a ref's `target` is a commit as the REST API gives one.
    public func decodePush(_ body: Data) throws(PushEvent.DecodingError) -> PushEvent {
        var changes: [PushEvent.Change]?
        var repository: BitbucketWire.NamedRepository?
        try PushEvent.reading(body) { reader in
            try reader.object { reader, key in
                if key == "push" {
                    try reader.object { reader, key in
                        guard key == "changes" else { return }
                        var list: [PushEvent.Change] = []
                        try reader.array { reader in
                            if let change = try Self.readChange(&reader) { list.append(change) }
                        }
                        changes = list
                    }
                } else if key == "repository" {
                    repository = try BitbucketWire.readNamedRepository(&reader)
                }
            }
        }
        guard let changes else { throw .malformed("missing push.changes") }
        guard let repository else { throw .malformed("missing repository") }
        guard let fullName = repository.fullName, !fullName.isEmpty else { throw .malformed("the repository has no full_name") }
        return PushEvent(repositoryFullName: fullName, repositoryID: repository.uuid, changes: changes)
    }

    /// One entry of `push.changes`; nil for a tag's (tags move no branch).
    static func readChange(_ reader: inout JSONReader) throws -> PushEvent.Change? {
        var new: Ref?
        var old: Ref?
        var created: Bool?
        var closed: Bool?
        var forced: Bool?
        var truncated: Bool?
        try reader.object { reader, key in
            if key == "new" {
                new = try readRef(&reader)
            } else if key == "old" {
                old = try readRef(&reader)
            } else if key == "created" {
                created = try reader.bool()
            } else if key == "closed" {
                closed = try reader.bool()
            } else if key == "forced" {
                forced = try reader.bool()
            } else if key == "truncated" {
                truncated = try reader.bool()
            }
        }
        let ref = new ?? old
        guard ref?.type == nil || ref?.type == "branch", let name = ref?.name else { return nil }
        return PushEvent.Change(branch: name, newHead: new?.target, oldHash: old?.target?.hash,
                                created: created ?? (old == nil), closed: closed ?? (new == nil),
                                forced: forced ?? false, truncated: truncated ?? false)
    }

    struct Ref { var type: String?; var name: String?; var target: ProviderCommit? }

    /// A change's `new` or `old`; nil when it is null (the branch did not exist before, or no longer does).
    static func readRef(_ reader: inout JSONReader) throws -> Ref? {
        if reader.peekKind() == .null {
            try reader.skip()
            return nil
        }
        var ref = Ref()
        try reader.object { reader, key in
            if key == "type" {
                ref.type = try reader.string()
            } else if key == "name" {
                ref.name = try reader.string()
            } else if key == "target" {
                guard reader.peekKind() != .null else { return }
                do {
                    ref.target = try BitbucketWire.readCommit(&reader)
                } catch let BitbucketWire.ReadingError.missing(field) {
                    throw PushEvent.DecodingError.malformed("a commit without its \(field)")
                }
            }
        }
        return ref
    }
}

extension BitbucketWire {
    struct NamedRepository { var fullName: String?; var uuid: String? }

    /// A payload's `repository`: its full name and uuid, nothing else.
    static func readNamedRepository(_ reader: inout JSONReader) throws -> NamedRepository {
        var named = NamedRepository()
        try reader.object { reader, key in
            if key == "full_name" {
                named.fullName = try reader.string()
            } else if key == "uuid" {
                named.uuid = try reader.string()
            }
        }
        return named
    }
}
