import Foundation

/// A `repo:push` delivery, as much as the engine needs: which repository (by full name and
/// uuid), and per change the branch, its new head with what the payload tells of it, and whether
/// the branch was created, closed (deleted) or force-pushed. Tags are left out. Payloads carry at
/// most five commits per change (`truncated`), so a confirming fetch follows.
public struct BitbucketPushEvent: Sendable, Equatable {
    public struct Change: Sendable, Equatable {
        public var branch: String
        /// nil when the branch was deleted.
        public var newHead: ProviderCommit?
        public var oldHash: String?
        public var created: Bool
        public var closed: Bool
        public var forced: Bool
        public var truncated: Bool

        public init(branch: String, newHead: ProviderCommit?, oldHash: String?, created: Bool, closed: Bool, forced: Bool, truncated: Bool) {
            self.branch = branch
            self.newHead = newHead
            self.oldHash = oldHash
            self.created = created
            self.closed = closed
            self.forced = forced
            self.truncated = truncated
        }
    }

    public var repositoryFullName: String
    public var repositoryUUID: String?
    public var changes: [Change]

    public init(repositoryFullName: String, repositoryUUID: String?, changes: [Change]) {
        self.repositoryFullName = repositoryFullName
        self.repositoryUUID = repositoryUUID
        self.changes = changes
    }

    public enum DecodingError: Error, CustomStringConvertible, Equatable {
        case malformed(String)

        public var description: String {
            switch self {
            case let .malformed(reason): "not a repo:push payload: \(reason)"
            }
        }
    }

    public static func decode(_ body: Data) throws(DecodingError) -> BitbucketPushEvent {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: body)
        } catch {
            throw .malformed(Self.describe(error))
        }
        guard let fullName = wire.repository.fullName, !fullName.isEmpty else { throw .malformed("the repository has no full_name") }
        var changes: [Change] = []
        for change in wire.push.changes {
            // Tags move no branch.
            let ref = change.new ?? change.old
            guard ref?.type == nil || ref?.type == "branch", let name = ref?.name else { continue }
            let head = change.new?.target?.providerCommit
            changes.append(Change(branch: name, newHead: change.new == nil ? nil : head, oldHash: change.old?.target?.hash,
                                  created: change.created ?? (change.old == nil), closed: change.closed ?? (change.new == nil),
                                  forced: change.forced ?? false, truncated: change.truncated ?? false))
        }
        return BitbucketPushEvent(repositoryFullName: fullName, repositoryUUID: wire.repository.uuid, changes: changes)
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case let Swift.DecodingError.keyNotFound(key, context):
            "missing \((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))"
        case let Swift.DecodingError.typeMismatch(_, context), let Swift.DecodingError.valueNotFound(_, context):
            "unexpected value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case Swift.DecodingError.dataCorrupted:
            "malformed JSON"
        default:
            "\(error)"
        }
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
