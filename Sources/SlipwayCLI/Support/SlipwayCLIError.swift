/// A failure the CLI reports as one line on stderr.
public enum SlipwayCLIError: Error, CustomStringConvertible, Equatable {
    /// A capability that a later part of Slipway brings; never pretends to work.
    case unavailable(command: String, capability: String)
    case failure(String)
    /// `sync --once` stopped by a rate limit whose wait would pass its deadline (exit 3).
    case rateLimited(String)

    public var description: String {
        switch self {
        case let .unavailable(command, capability):
            "'slipway \(command)' is not available yet: \(capability) is not built into this version"
        case let .failure(message):
            message
        case let .rateLimited(message):
            message
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .unavailable, .failure: 1
        case .rateLimited: 3
        }
    }
}
