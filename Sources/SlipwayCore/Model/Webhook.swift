import Foundation

/// A webhook on a repository, as Slipway installed it or found it.
public struct WebhookSubscription: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var repositoryID: Int64
    /// The provider's id of the hook (Bitbucket `uuid`).
    public var remoteID: String?
    public var url: String
    public var events: [String]
    public var installedBySlipway: Bool
    public var lastDeliveryAt: Date?
    public var lastFailureAt: Date?
    public var lastFailureMessage: String?
    public var createdAt: Date

    public init(id: Int64? = nil, repositoryID: Int64, remoteID: String? = nil, url: String, events: [String],
                installedBySlipway: Bool = true, lastDeliveryAt: Date? = nil, lastFailureAt: Date? = nil,
                lastFailureMessage: String? = nil, createdAt: Date) {
        self.id = id
        self.repositoryID = repositoryID
        self.remoteID = remoteID
        self.url = url
        self.events = events
        self.installedBySlipway = installedBySlipway
        self.lastDeliveryAt = lastDeliveryAt
        self.lastFailureAt = lastFailureAt
        self.lastFailureMessage = lastFailureMessage
        self.createdAt = createdAt
    }
}

public enum WebhookDeliveryOutcome: String, Sendable, Codable, CaseIterable {
    case accepted, ignored, rejected
}

/// One inbound delivery; its request id makes repeats harmless.
public struct WebhookDelivery: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var subscriptionID: Int64?
    public var requestID: String
    public var eventKey: String
    public var outcome: WebhookDeliveryOutcome
    public var reason: String?
    public var receivedAt: Date

    public init(id: Int64? = nil, subscriptionID: Int64?, requestID: String, eventKey: String,
                outcome: WebhookDeliveryOutcome, reason: String? = nil, receivedAt: Date) {
        self.id = id
        self.subscriptionID = subscriptionID
        self.requestID = requestID
        self.eventKey = eventKey
        self.outcome = outcome
        self.reason = reason
        self.receivedAt = receivedAt
    }
}
