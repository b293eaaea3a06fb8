import Foundation
import SlipwayProviders

/// A webhook on a repository, as Slipway installed it or found it.
public struct WebhookSubscription: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var repositoryID: Int64
    /// The provider's id of the hook (Bitbucket `uuid`).
    public var remoteID: String?
    public var url: String
    public var events: [String]
    public var installedBySlipway: Bool
    /// The provider confirmed the hook signs its deliveries (GitLab's signing token): only that
    /// signature proves one.
    public var signsDeliveries: Bool
    public var lastDeliveryAt: Date?
    public var lastFailureAt: Date?
    public var lastFailureMessage: String?
    public var createdAt: Date

    public init(id: Int64? = nil, repositoryID: Int64, remoteID: String? = nil, url: String, events: [String],
                installedBySlipway: Bool = true, lastDeliveryAt: Date? = nil, lastFailureAt: Date? = nil,
                lastFailureMessage: String? = nil, signsDeliveries: Bool = false, createdAt: Date) {
        self.id = id
        self.signsDeliveries = signsDeliveries
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
    /// Delivery ids are the provider's: unique within it, not across providers.
    public var provider: ProviderKind
    public var requestID: String
    public var eventKey: String
    public var outcome: WebhookDeliveryOutcome
    public var receivedAt: Date

    public init(id: Int64? = nil, subscriptionID: Int64?, provider: ProviderKind, requestID: String, eventKey: String,
                outcome: WebhookDeliveryOutcome, receivedAt: Date) {
        self.id = id
        self.subscriptionID = subscriptionID
        self.provider = provider
        self.requestID = requestID
        self.eventKey = eventKey
        self.outcome = outcome
        self.receivedAt = receivedAt
    }
}

/// How a repository's push webhook is doing, from the hooks Slipway installed there. A hook is
/// trusted (and its repository polled slowly) only once a delivery has proved it reaches Slipway.
public enum WebhookHealth: Sendable, Equatable {
    /// Installed, nothing delivered yet: the repository is polled as usual until a push arrives.
    case waiting(since: Date)
    /// Delivered, and no failure since the last delivery.
    case healthy(lastDelivery: Date)
    /// The latest thing known is a failure: a push found by polling before any delivery brought it.
    case failing(since: Date, message: String)

    /// nil when Slipway installed no hook on the repository.
    public static func of(_ subscriptions: [WebhookSubscription]) -> WebhookHealth? {
        let ours = subscriptions.filter(\.installedBySlipway)
        guard !ours.isEmpty else { return nil }
        if let good = ours.compactMap({ s -> Date? in s.state == .delivering ? s.lastDeliveryAt : nil }).max() {
            return .healthy(lastDelivery: good)
        }
        if let waiting = ours.filter({ $0.state == .waiting }).map(\.createdAt).min() {
            return .waiting(since: waiting)
        }
        let worst = ours.max { ($0.lastFailureAt ?? .distantPast) < ($1.lastFailureAt ?? .distantPast) }!
        return .failing(since: worst.lastFailureAt ?? worst.createdAt, message: worst.lastFailureMessage ?? "failing")
    }
}

extension WebhookSubscription {
    public enum State: String, Sendable, Codable {
        case waiting, delivering, failing
    }

    /// Failing when a failure came after the last delivery; delivering once something arrived.
    public var state: State {
        if let failed = lastFailureAt, (lastDeliveryAt ?? .distantPast) <= failed { return .failing }
        return lastDeliveryAt == nil ? .waiting : .delivering
    }
}
