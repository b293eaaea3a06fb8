import Foundation

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

    /// The repository by `full_name` and its numeric `id` (a ping names it too).
    public func repository(in body: Data) -> DeliveryRepository? {
        guard let named = try? JSONDecoder().decode(Named.self, from: body) else { return nil }
        return DeliveryRepository(fullName: named.repository.full_name, id: named.repository.id.map(String.init))
    }

    public func decodePush(_ body: Data) throws(PushEvent.DecodingError) -> PushEvent {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: body)
        } catch {
            throw .malformed(PushEvent.describe(error))
        }
        let fullName = wire.repository.full_name
        guard !fullName.isEmpty else { throw .malformed("the repository has no full_name") }
        let repositoryID = wire.repository.id.map(String.init)
        // Tags move no branch: a tag push is a push with nothing to apply.
        guard wire.ref.hasPrefix("refs/heads/") else { return PushEvent(repositoryFullName: fullName, repositoryID: repositoryID, changes: []) }
        let branch = String(wire.ref.dropFirst("refs/heads/".count))
        let old = wire.before == Self.zeroHash ? nil : wire.before
        let deleted = wire.deleted ?? (wire.after == Self.zeroHash)
        let created = wire.created ?? (old == nil)
        var head: ProviderCommit?
        if !deleted, let after = wire.after, after != Self.zeroHash {
            let commit = wire.head_commit.flatMap { $0.id == after ? $0 : nil }
            head = ProviderCommit(hash: after.lowercased(), date: commit?.timestamp.flatMap(ProviderDate.parse),
                                  author: commit?.author.map(\.raw), message: commit?.message)
        }
        guard deleted || head != nil else { throw .malformed("a push to \(branch) without its new head") }
        // GitHub sends no truncation mark; the confirming fetch that follows every push fills in
        // what the payload leaves out.
        let change = PushEvent.Change(branch: branch, newHead: head, oldHash: old?.lowercased(), created: created, closed: deleted,
                                      forced: wire.forced ?? false, truncated: false)
        return PushEvent(repositoryFullName: fullName, repositoryID: repositoryID, changes: [change])
    }

    private struct Named: Decodable {
        struct Repository: Decodable { var full_name: String; var id: Int64? }
        var repository: Repository
    }

    // The wire shape, lenient where GitHub may leave a field out.
    private struct Wire: Decodable {
        struct Person: Decodable {
            var name: String?
            var email: String?
            var raw: String { [name, email.map { "<\($0)>" }].compactMap { $0 }.joined(separator: " ") }
        }
        struct Commit: Decodable {
            var id: String
            var message: String?
            var timestamp: String?
            var author: Person?
        }
        var ref: String
        var before: String?
        var after: String?
        var created: Bool?
        var deleted: Bool?
        var forced: Bool?
        var head_commit: Commit?
        var repository: Named.Repository
    }
}
