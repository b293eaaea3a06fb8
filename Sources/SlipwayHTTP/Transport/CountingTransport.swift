import Foundation

/// Counts the requests that actually leave, by budget kind, for summaries and benchmarks.
public final class CountingTransport: HTTPTransport, @unchecked Sendable {
    public let base: any HTTPTransport
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    public init(_ base: any HTTPTransport) {
        self.base = base
    }

    public var total: Int { lock.withLock { counts.values.reduce(0, +) } }

    /// Requests by kind: "rest", "git", or "other" for requests outside any budget.
    public var byKind: [String: Int] { lock.withLock { counts } }

    public func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { counts[request.budget?.kind.rawValue ?? "other", default: 0] += 1 }
        return try await base.perform(request)
    }
}
