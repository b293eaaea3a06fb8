import Hummingbird
import HummingbirdCore
import Synchronization

/// Open connections, shared between the server's accept loop and whoever watches it.
public final class ConnectionCount: Sendable {
    private let state = Mutex<(open: Int, peak: Int)>((0, 0))

    public init() {}

    public var open: Int { state.withLock { $0.open } }
    /// The most connections open at once since the server started.
    public var peak: Int { state.withLock { $0.peak } }

    func opened() { state.withLock { $0.open += 1; $0.peak = max($0.peak, $0.open) } }
    func closed() { state.withLock { $0.open -= 1 } }
}

/// Stops accepting once `limit` connections are open: further clients wait in the listen
/// backlog (costing this process no descriptor) until one closes.
struct ConnectionCap: AvailableConnectionsDelegate {
    let limit: Int
    let count: ConnectionCount

    mutating func connectionOpened() { count.opened() }
    mutating func connectionClosed() { count.closed() }
    func isAcceptingNewConnections() -> Bool { count.open < limit }
}
