import Foundation
import SlipwayHTTP

/// What an error means to the engine, decided by the adapter before anyone acts on it. Only
/// `gone` is definitive; `lostAccess` removes mirrored rows only once a later look confirms it,
/// and a rate limit (in any of the provider's shapes) never removes anything.
public enum ProviderFailure: Sendable, Equatable {
    /// Paused until then (a 429, or the provider's other shapes, which the HTTP client already
    /// turned into a pause).
    case rateLimited(until: Date)
    /// The credentials were refused (401): relink, or refresh an OAuth token.
    case rejected
    /// Access denied (403): may be lost access, or something passing; ask again later.
    case lostAccess
    /// It no longer exists, or is hidden from this user (404, 410).
    case gone
    /// Network trouble, a timeout, a 5xx: try again at the next turn.
    case transient
    /// Anything else (a malformed answer, a refused redirect).
    case other

    /// The classification that suits a REST provider that meters with 429 and answers 403 for
    /// denied access; an adapter with other shapes overrides `GitProvider.classify`.
    public static func of(_ error: any Error) -> ProviderFailure {
        guard let error = error as? HTTPError else { return .other }
        switch error {
        case let .rateLimited(_, resumeAt): return .rateLimited(until: resumeAt)
        case .unauthorized: return .rejected
        case .forbidden: return .lostAccess
        case .notFound: return .gone
        case let .status(code, _, _) where code == 410: return .gone
        case .network, .timeout: return .transient
        case let .status(code, _, _) where code >= 500: return .transient
        default: return .other
        }
    }
}
