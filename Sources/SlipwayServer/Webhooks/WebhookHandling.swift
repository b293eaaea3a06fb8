import Foundation
import SlipwayProviders

/// The one mirrored repository a delivery's payload names (by full name and id together).
public enum WebhookRepositoryLookup: Sendable, Equatable {
    /// No mirrored repository of the route's provider has that name or id: nothing can verify it.
    case unknown
    /// The name and the id name different repositories, or either names two: refused, never guessed.
    case conflicting(String)
    /// Exactly one repository, with the secrets of Slipway's hooks on it (empty: no hook of ours).
    case found(repositoryID: Int64, hooks: [HookSecret])
}

/// A hook's id and the secret it signs with (never logged); `signed` when the provider confirmed
/// it signs deliveries with a key derived from the secret (only that signature then proves one).
public struct HookSecret: Sendable, Equatable {
    public var hookID: Int64
    public var secret: String
    public var signed: Bool

    public init(hookID: Int64, secret: String, signed: Bool = false) {
        self.hookID = hookID
        self.secret = secret
        self.signed = signed
    }
}

/// What storing a verified push came to.
public enum WebhookApplyOutcome: Sendable, Equatable {
    case applied(changes: Int)
    /// Its delivery id was stored before (a provider's retry): nothing applied twice.
    case duplicate
}

/// What the receiver needs from the rest of Slipway (the CLI wires it to the store and vault).
/// Nothing here changes anything for a delivery that has not verified.
public protocol WebhookHandling: Sendable {
    /// The repository a payload names, read at each delivery (a hook another process installed
    /// a moment ago verifies at once). Throws when the store cannot answer (the provider retries).
    func repository(provider: ProviderKind, _ named: DeliveryRepository) async throws -> WebhookRepositoryLookup
    /// Whether this provider's delivery id was stored before (asked for deliveries that are not
    /// pushes; a push's id is checked by `apply`, where it is stored).
    func isDuplicate(provider: ProviderKind, deliveryID: String) async throws -> Bool
    /// Stores a verified delivery that is not a push (its id, so a retry is recognised).
    func ignored(provider: ProviderKind, deliveryID: String, event: String, repositoryID: Int64, hookID: Int64) async throws
    /// A verified push to that repository, proved by that hook: the new heads, the delivery id
    /// (when the provider sent one) and a confirming fetch in one transaction; `.duplicate`, with
    /// nothing applied, when that id was stored before. Throws when it could not be stored.
    func apply(_ event: PushEvent, name: String, repositoryID: Int64, hookID: Int64, deliveryID: String?) async throws -> WebhookApplyOutcome
    /// Why a delivery was refused (for the log; never a secret, and nothing stored).
    func rejected(_ reason: String, status: Int) async
}
