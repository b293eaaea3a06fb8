import Foundation

/// The repository a delivery names, read before anything verifies (to find whose secret proves it).
public struct DeliveryRepository: Sendable, Equatable {
    public var fullName: String
    public var id: String?

    public init(fullName: String, id: String?) {
        self.fullName = fullName
        self.id = id
    }
}

/// How a hook's deliveries prove themselves (shown by `webhooks list`).
public enum WebhookProof: String, Sendable {
    /// An HMAC of the body under the hook's secret (or a key derived from it).
    case signature
    /// The shared secret itself, sent in a header.
    case token
}

/// How one provider delivers webhooks: where the receiver takes them, how a delivery proves
/// itself, which header names it (and whether every delivery carries one), which events are
/// pushes, and how a push payload decodes into a `PushEvent`. The receiver and the installer
/// know only this; header names, event names and payload shapes stay in the adapter.
public protocol WebhookDialect: Sendable {
    var provider: ProviderKind { get }
    /// The receiver's route (`/webhooks/bitbucket`); hooks point there.
    var route: String { get }
    /// What an installed hook subscribes to.
    var pushEvents: [String] { get }
    /// As the provider spells it (for messages); headers are looked up lowercased.
    var deliveryIDHeader: String { get }
    /// Whether a delivery without an id is refused (else it is applied without retry detection).
    var deliveryIDRequired: Bool { get }
    /// Headers are lowercased.
    func deliveryID(_ headers: [String: String]) -> String?
    func eventName(_ headers: [String: String]) -> String?
    func isPush(_ event: String) -> Bool
    /// Whether the delivery carries a proof at all (a signature or a token).
    func hasProof(_ headers: [String: String]) -> Bool
    /// Whether its proof holds under `secret`, compared in constant time.
    func verifies(body: Data, headers: [String: String], secret: String) -> Bool
    /// The same for one of Slipway's hooks as stored: `signed` when the provider confirmed the
    /// hook signs its deliveries with a key derived from `secret` (GitLab's signing token) — then
    /// only that signature counts, and it must be fresh at `now`.
    func verifies(body: Data, headers: [String: String], secret: String, signed: Bool, now: Date) -> Bool
    /// What proves a delivery of a hook not confirmed as signed.
    var secretProof: WebhookProof { get }
    func repository(in body: Data) -> DeliveryRepository?
    func decodePush(_ body: Data) throws(PushEvent.DecodingError) -> PushEvent
}

extension WebhookDialect {
    public var secretProof: WebhookProof { .signature }

    /// A dialect with one kind of proof checks it whatever the hook's record says.
    public func verifies(body: Data, headers: [String: String], secret: String, signed: Bool, now: Date) -> Bool {
        verifies(body: body, headers: headers, secret: secret)
    }

    /// The delivery-id header's value in one case (a GUID is the same id whichever case its hex
    /// digits arrive in); nil when absent or blank.
    public func deliveryID(_ headers: [String: String]) -> String? {
        guard let raw = headers[deliveryIDHeader.lowercased()]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        return raw.lowercased()
    }
}
