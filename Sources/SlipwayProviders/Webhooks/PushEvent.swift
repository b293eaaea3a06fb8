import Foundation

/// A push delivery in no provider's words, as much as the engine needs: which repository (by
/// full name and the provider's id), and per change the branch, its new head with what the
/// payload tells of it, and whether the branch was created, closed (deleted) or force-pushed.
/// Tags are left out. Payloads carry a few commits per change at most (`truncated`), so a
/// confirming fetch follows. Each provider's dialect decodes its own payload into this.
public struct PushEvent: Sendable, Equatable {
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
    /// The provider's own id of the repository (Bitbucket's uuid), when the payload gives it.
    public var repositoryID: String?
    public var changes: [Change]

    public init(repositoryFullName: String, repositoryID: String?, changes: [Change]) {
        self.repositoryFullName = repositoryFullName
        self.repositoryID = repositoryID
        self.changes = changes
    }

    public enum DecodingError: Error, CustomStringConvertible, Equatable {
        case malformed(String)

        public var description: String {
            switch self {
            case let .malformed(reason): "not a push payload: \(reason)"
            }
        }
    }

    /// A decoding error in a line a log can hold.
    public static func describe(_ error: any Error) -> String {
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
}
