import Crypto
import Foundation

/// GitLab's webhook deliveries: `POST /webhooks/gitlab`, `X-Gitlab-Event: Push Hook`, proved by
/// `X-Gitlab-Token` — the hook's token sent verbatim, compared in constant time — and named by
/// `Idempotency-Key` across retries (older GitLab versions send none, so it is not required).
/// A push lists at most its newest 20 commits, oldest first (`total_commits_count` says how many).
/// From GitLab 19.0 a hook may also have a `signing_token`: Slipway sets one derived from the
/// hook's secret, and a hook GitLab confirms as signed (`signing_token_present`) is proved only by
/// a fresh Standard Webhooks `webhook-signature` — the token alone no longer suffices.
public struct GitLabWebhookDialect: WebhookDialect {
    public init() {}

    public var provider: ProviderKind { .gitlab }
    public var route: String { "/webhooks/gitlab" }
    public var pushEvents: [String] { ["push_events"] }
    public var deliveryIDHeader: String { "Idempotency-Key" }
    public var deliveryIDRequired: Bool { false }
    public var secretProof: WebhookProof { .token }
    static let tokenHeader = "x-gitlab-token"
    static let signatureHeader = "webhook-signature"
    static let zeroHash = String(repeating: "0", count: 40)

    public func eventName(_ headers: [String: String]) -> String? { headers["x-gitlab-event"] }

    public func isPush(_ event: String) -> Bool { event == "Push Hook" }

    public func hasProof(_ headers: [String: String]) -> Bool { headers[Self.tokenHeader] != nil || headers[Self.signatureHeader] != nil }

    public func verifies(body: Data, headers: [String: String], secret: String) -> Bool {
        WebhookSignature.tokensMatch(headers[Self.tokenHeader], secret)
    }

    public func verifies(body: Data, headers: [String: String], secret: String, signed: Bool, now: Date) -> Bool {
        guard signed else { return verifies(body: body, headers: headers, secret: secret) }
        guard let key = StandardWebhookSignature.key(fromSecret: Self.signingToken(for: secret)) else { return false }
        return StandardWebhookSignature.verify(id: headers["webhook-id"], timestamp: headers["webhook-timestamp"],
                                               signatures: headers[Self.signatureHeader], body: body, key: key, now: now) == .valid
    }

    /// The hook's signing token, derived from its secret (so one sealed secret serves both proofs,
    /// and the token sent in the clear in `X-Gitlab-Token` says nothing about the key):
    /// `whsec_` + base64 of HMAC-SHA256(secret, a fixed label) — the 32 bytes GitLab requires.
    public static func signingToken(for secret: String) -> String {
        let key = HMAC<SHA256>.authenticationCode(for: Data("slipway gitlab webhook signing key".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return StandardWebhookSignature.secretPrefix + Data(key).base64EncodedString()
    }

    /// The project by `path_with_namespace` and its numeric id.
    public func repository(in body: Data) -> DeliveryRepository? {
        guard let named = try? JSONDecoder().decode(Named.self, from: body), let project = named.project else { return nil }
        return DeliveryRepository(fullName: project.path_with_namespace, id: (project.id ?? named.project_id).map(String.init))
    }

    public func decodePush(_ body: Data) throws(PushEvent.DecodingError) -> PushEvent {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: body)
        } catch {
            throw .malformed(PushEvent.describe(error))
        }
        let fullName = wire.project.path_with_namespace
        guard !fullName.isEmpty else { throw .malformed("the project has no path_with_namespace") }
        let projectID = (wire.project.id ?? wire.project_id).map(String.init)
        guard wire.ref.hasPrefix("refs/heads/") else { return PushEvent(repositoryFullName: fullName, repositoryID: projectID, changes: []) }
        let branch = String(wire.ref.dropFirst("refs/heads/".count))
        let old = wire.before == Self.zeroHash ? nil : wire.before?.lowercased()
        let deleted = wire.after == nil || wire.after == Self.zeroHash
        var head: ProviderCommit?
        if !deleted, let after = wire.after?.lowercased() {
            // Oldest first: the head is the last commit listed, when the list reaches it.
            let commit = wire.commits?.last { $0.id.lowercased() == after }
            head = ProviderCommit(hash: after, date: commit?.timestamp.flatMap(ProviderDate.parse), author: commit?.author?.raw, message: commit?.message)
        }
        let listed = wire.commits?.count ?? 0
        let change = PushEvent.Change(branch: branch, newHead: head, oldHash: old, created: old == nil && !deleted, closed: deleted,
                                      forced: false, truncated: (wire.total_commits_count ?? listed) > listed)
        return PushEvent(repositoryFullName: fullName, repositoryID: projectID, changes: [change])
    }

    private struct Named: Decodable {
        struct Project: Decodable { var id: Int64?; var path_with_namespace: String }
        var project_id: Int64?
        var project: Project?
    }

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
        var project_id: Int64?
        var project: Named.Project
        var commits: [Commit]?
        var total_commits_count: Int?
    }
}
