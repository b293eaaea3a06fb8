import Hummingbird
import Logging
import ServiceLifecycle

/// A Hummingbird application served until a graceful shutdown. Cancelling the serving task
/// instead can trap in NIO ("Deinited NIOAsyncWriter without calling finish()") when a
/// connection was accepted but not yet served (apple/swift-nio#2637, #3481).
final class GracefulServing: Sendable {
    let task: Task<Void, any Error>
    private let group: ServiceGroup

    init(_ app: some Service) {
        let group = ServiceGroup(services: [app], logger: Logger(label: "slipway.server") { _ in SwiftLogNoOpLogHandler() })
        self.group = group
        task = Task { try await group.run() }
    }

    /// Stops accepting, lets requests in flight finish and closes idle connections; returns
    /// once the port is released.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}
