import Foundation
import Synchronization

/// What a server said identifies a response (`ETag`, `Last-Modified`), kept per request key so
/// the next ask can be conditional. Kept in memory; a store may implement it to share them.
public protocol ValidatorStore: Sendable {
    func validators(for key: String) -> Validators?
    func remember(_ validators: Validators, for key: String)
}

public struct Validators: Sendable, Equatable {
    public var etag: String?
    public var lastModified: String?

    public init(etag: String? = nil, lastModified: String? = nil) {
        self.etag = etag
        self.lastModified = lastModified
    }

    /// From a response's headers; nil when it has neither.
    public init?(_ headers: HTTPHeaders) {
        etag = headers["ETag"]
        lastModified = headers["Last-Modified"]
        if etag == nil && lastModified == nil { return nil }
    }
}

/// Validators for one process.
public final class InMemoryValidatorStore: ValidatorStore {
    private let entries = Mutex<[String: Validators]>([:])

    public init() {}

    public func validators(for key: String) -> Validators? { entries.withLock { $0[key] } }

    public func remember(_ validators: Validators, for key: String) { entries.withLock { $0[key] = validators } }
}

/// How a request is asked conditionally: under which key its validators are kept, and whether
/// the provider charges an unchanged (304) answer against the budget.
public struct ConditionalRequest: Sendable, Equatable {
    public var key: String
    /// GitHub does not count a 304 against the rate limit; most providers do.
    public var unchangedIsFree: Bool

    public init(key: String, unchangedIsFree: Bool) {
        self.key = key
        self.unchangedIsFree = unchangedIsFree
    }
}
