/// A failure the CLI reports as one line on stderr.
public enum SlipwayCLIError: Error, CustomStringConvertible, Equatable {
    case failure(String)
    /// `sync --once` stopped by a rate limit whose wait would pass its deadline (exit 3).
    case rateLimited(String)

    public var description: String {
        switch self {
        case let .failure(message):
            message
        case let .rateLimited(message):
            message
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .failure: 1
        case .rateLimited: 3
        }
    }
}
