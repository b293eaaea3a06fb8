import Foundation

/// What one sync cycle did: the contract's `sync --once --json`.
public struct SyncReport: Sendable, Encodable {
    public struct Change: Sendable, Encodable, Equatable {
        public var kind: ChangeEventKind
        public var path: String
        public var old: String?
        public var new: String?

        public init(kind: ChangeEventKind, path: String, old: String?, new: String?) {
            self.kind = kind
            self.path = path
            self.old = old
            self.new = new
        }

        enum CodingKeys: String, CodingKey { case kind, path, old, new }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(kind, forKey: .kind)
            try c.encode(path, forKey: .path)
            try c.encode(old, forKey: .old)
            try c.encode(new, forKey: .new)
        }
    }

    public struct Failure: Sendable, Encodable, Equatable {
        public var path: String
        public var message: String

        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }
    }

    public struct RateLimit: Sendable, Encodable, Equatable {
        public var limit: Int?
        public var remaining: Int?
        public var pausedUntil: Date?

        public init(limit: Int?, remaining: Int?, pausedUntil: Date?) {
            self.limit = limit
            self.remaining = remaining
            self.pausedUntil = pausedUntil
        }

        enum CodingKeys: String, CodingKey { case limit, remaining, pausedUntil }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(limit, forKey: .limit)
            try c.encode(remaining, forKey: .remaining)
            try c.encode(pausedUntil, forKey: .pausedUntil)
        }
    }

    public var requests: Int = 0
    public var changes: [Change] = []
    public var errors: [Failure] = []
    public var rateLimit: [String: RateLimit] = [:]
    public var durationMs: Int = 0
    /// Set when a rate limit stopped the cycle before its end: when it may resume.
    public var resumeAt: Date?
    public var workspaces = 0
    public var repositories = 0
    public var branches = 0

    public init() {}

    /// Adds another account's cycle to this one.
    public mutating func merge(_ other: SyncReport) {
        changes += other.changes
        errors += other.errors
        workspaces += other.workspaces
        repositories += other.repositories
        branches += other.branches
        if let resume = other.resumeAt { resumeAt = max(resumeAt ?? resume, resume) }
    }

    enum CodingKeys: String, CodingKey {
        case requests, changes, errors, rateLimit, durationMs, resumeAt, workspaces, repositories, branches
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(requests, forKey: .requests)
        try c.encode(changes, forKey: .changes)
        try c.encode(errors, forKey: .errors)
        try c.encode(rateLimit, forKey: .rateLimit)
        try c.encode(durationMs, forKey: .durationMs)
        try c.encodeIfPresent(resumeAt, forKey: .resumeAt)
        try c.encode(workspaces, forKey: .workspaces)
        try c.encode(repositories, forKey: .repositories)
        try c.encode(branches, forKey: .branches)
    }
}
