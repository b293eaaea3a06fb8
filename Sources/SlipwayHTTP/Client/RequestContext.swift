import Foundation

/// Who waits for the requests made inside it, and how long they may wait for budget or a pause.
/// It travels with the task (a task-local: child tasks inherit it), never as state on a shared
/// adapter, so two callers of one adapter cannot see each other's lane or deadline.
public struct RequestContext: Sendable, Equatable {
    public var lane: RequestLane
    /// The latest moment a request may wait for budget or a rate-limit pause.
    public var deadline: Date?

    public init(lane: RequestLane = .background, deadline: Date? = nil) {
        self.lane = lane
        self.deadline = deadline
    }

    @TaskLocal public static var current = RequestContext()

    /// Runs `body` with its requests on `lane`, waiting at most until `deadline`.
    public static func run<T>(lane: RequestLane, deadline: Date? = nil, isolation: isolated (any Actor)? = #isolation,
                              _ body: () async throws -> T) async rethrows -> T {
        try await $current.withValue(RequestContext(lane: lane, deadline: deadline), operation: body, isolation: isolation)
    }
}
