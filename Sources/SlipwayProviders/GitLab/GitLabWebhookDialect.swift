import Crypto
import Foundation
import SlipwayHTTP

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

    /// The project by `path_with_namespace` and its numeric id. Read before the token is
    /// checked, so only those fields are made values.
    public func repository(in body: Data) -> DeliveryRepository? {
        guard let named = try? JSONReader.read(body, { reader -> (project: Project?, projectID: Int64?) in
            var project: Project?
            var projectID: Int64?
            try reader.object { reader, key in
                if key == "project" {
                    if reader.peekKind() != .null { project = try Self.readProject(&reader) }
                } else if key == "project_id" {
                    projectID = try reader.int().map(Int64.init)
                }
            }
            return (project, projectID)
        }), let project = named.project, let path = project.path else { return nil }
        return DeliveryRepository(fullName: path, id: (project.id ?? named.projectID).map(String.init))
    }

    /// Read with `JSONReader` (a daemon takes deliveries by the thousand a second): `ref` and the
    /// project's `path_with_namespace` are required, the rest may be left out.
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
                } else if key == "project_id" {
                    wire.projectID = try reader.int().map(Int64.init)
                } else if key == "project" {
                    if reader.peekKind() != .null { wire.project = try Self.readProject(&reader) }
                } else if key == "total_commits_count" {
                    wire.totalCommits = try reader.int()
                } else if key == "commits" {
                    if reader.peekKind() == .null { return }
                    var commits: [PushCommit] = []
                    try reader.array { reader in commits.append(try PushCommit.read(&reader, what: "a commit")) }
                    wire.commits = commits
                }
            }
        }
        guard let ref = wire.ref else { throw .malformed("missing ref") }
        guard let fullName = wire.project?.path else { throw .malformed("missing project.path_with_namespace") }
        guard !fullName.isEmpty else { throw .malformed("the project has no path_with_namespace") }
        let projectID = (wire.project?.id ?? wire.projectID).map(String.init)
        guard ref.hasPrefix("refs/heads/") else { return PushEvent(repositoryFullName: fullName, repositoryID: projectID, changes: []) }
        let branch = String(ref.dropFirst("refs/heads/".count))
        let old = wire.before == Self.zeroHash ? nil : wire.before?.lowercased()
        let deleted = wire.after == nil || wire.after == Self.zeroHash
        var head: ProviderCommit?
        if !deleted, let after = wire.after?.lowercased() {
            // Oldest first: the head is the last commit listed, when the list reaches it.
            let commit = wire.commits?.last { $0.id.lowercased() == after }
            head = ProviderCommit(hash: after, date: commit?.timestamp.flatMap(ProviderDate.parse), author: commit?.author, message: commit?.message)
        }
        let listed = wire.commits?.count ?? 0
        let change = PushEvent.Change(branch: branch, newHead: head, oldHash: old, created: old == nil && !deleted, closed: deleted,
                                      forced: false, truncated: (wire.totalCommits ?? listed) > listed)
        return PushEvent(repositoryFullName: fullName, repositoryID: projectID, changes: [change])
    }

    struct Project { var id: Int64?; var path: String? }

    static func readProject(_ reader: inout JSONReader) throws -> Project {
        var project = Project()
        try reader.object { reader, key in
            if key == "id" {
                project.id = try reader.int().map(Int64.init)
            } else if key == "path_with_namespace" {
                project.path = try reader.string()
            }
        }
        return project
    }

    // What a push payload says, as read.
    private struct Wire {
        var ref: String?
        var before: String?
        var after: String?
        var projectID: Int64?
        var project: Project?
        var commits: [PushCommit]?
        var totalCommits: Int?
    }
}
