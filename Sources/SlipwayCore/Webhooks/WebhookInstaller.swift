import Foundation
import SlipwayHTTP
import SlipwayProviders

/// Installs and removes Slipway's push hooks on a provider (DigitalOcean App Platform's
/// way: one hook per repository, admin needed, every delivery signed). Installing is idempotent:
/// a hook already there with a secret Slipway holds is kept; one on the same URL whose secret was
/// lost (a fresh store) is replaced, so the receiver can verify what arrives.
public struct WebhookInstaller: Sendable {
    public static let description = "Slipway: push updates"

    /// A repository as the mirror knows it.
    public struct Target: Sendable {
        public var repository: Repository
        public var workspaceSlug: String
        /// `bitbucket/acme/api`, for messages.
        public var path: String

        public init(repository: Repository, workspaceSlug: String, path: String) {
            self.repository = repository
            self.workspaceSlug = workspaceSlug
            self.path = path
        }
    }

    public enum Outcome: Sendable, Equatable {
        case installed(WebhookSubscription)
        /// Already there and verifiable: nothing was created.
        case unchanged(WebhookSubscription)

        public var subscription: WebhookSubscription {
            switch self {
            case let .installed(s), let .unchanged(s): s
            }
        }
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case notAdmin(path: String)
        case provider(path: String, message: String)

        public var description: String {
            switch self {
            case let .notAdmin(path):
                "you are not an admin of \(path); webhooks need admin rights there (ask an admin to install it, or keep polling)"
            case let .provider(path, message):
                "the provider refused the webhook change on \(path): \(message)"
            }
        }
    }

    let store: Store
    let provider: any WebhookHosting
    let openVault: @Sendable () throws -> Vault
    let now: @Sendable () -> Date
    let makeSecret: @Sendable () -> String

    public init(store: Store, provider: any WebhookHosting, openVault: @escaping @Sendable () throws -> Vault,
                now: @escaping @Sendable () -> Date = { Date() }, makeSecret: @escaping @Sendable () -> String = WebhookInstaller.randomSecret) {
        self.store = store
        self.provider = provider
        self.openVault = openVault
        self.now = now
        self.makeSecret = makeSecret
    }

    /// 32 random bytes as hex: within Bitbucket's 128 characters, never typed by anyone.
    public static let randomSecret: @Sendable () -> String = {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    public func install(_ target: Target, url: String) async throws -> Outcome {
        let repositoryID = target.repository.id!
        let known = try store.webhookSubscriptions(repositoryID: repositoryID).first { $0.url == url && $0.installedBySlipway }
        let remote = try await call(target) { try await provider.hooks(workspace: target.workspaceSlug, repository: target.repository.slug) }
        if let known, let remoteID = known.remoteID, try store.hasWebhookSecret(subscriptionID: known.id!),
           remote.contains(where: { $0.id == remoteID && $0.active && $0.hasSecret && Set(provider.webhookDialect.pushEvents).isSubset(of: $0.events) }) {
            return .unchanged(known)
        }
        // Hooks on this URL whose secret Slipway does not hold would only be refused: replaced.
        for stale in remote where stale.url == url {
            try await call(target) { try await provider.deleteHook(workspace: target.workspaceSlug, repository: target.repository.slug, id: stale.id) }
        }
        let secret = makeSecret()
        // The secret is stored first: a provider that delivers at once on creation (GitHub's
        // `ping`) is verified like any later delivery.
        let pending = try store.prepareInstalledWebhook(repositoryID: repositoryID, url: url, events: provider.webhookDialect.pushEvents, secret: secret,
                                                        vault: try openVault(), now: now())
        let created: ProviderHook
        do {
            created = try await call(target) {
                try await provider.createHook(workspace: target.workspaceSlug, repository: target.repository.slug, url: url, secret: secret,
                                              events: provider.webhookDialect.pushEvents, description: Self.description)
            }
        } catch {
            try? store.deleteWebhookSubscription(id: pending.id!)
            throw error
        }
        do {
            return .installed(try store.setWebhookRemoteID(subscriptionID: pending.id!, remoteID: created.id, signsDeliveries: created.signed))
        } catch {
            // Without its record the hook is useless: take it back off the provider.
            try? await provider.deleteHook(workspace: target.workspaceSlug, repository: target.repository.slug, id: created.id)
            try? store.deleteWebhookSubscription(id: pending.id!)
            throw error
        }
    }

    /// Removes the hooks Slipway installed on a repository (only the one on `url`, if given);
    /// one the provider no longer has is simply forgotten. Returns what was removed.
    @discardableResult
    public func remove(_ target: Target, url: String? = nil) async throws -> [WebhookSubscription] {
        let ours = try store.webhookSubscriptions(repositoryID: target.repository.id!).filter { $0.installedBySlipway && (url == nil || $0.url == url) }
        for subscription in ours {
            if let remoteID = subscription.remoteID {
                do {
                    try await call(target) { try await provider.deleteHook(workspace: target.workspaceSlug, repository: target.repository.slug, id: remoteID) }
                } catch HTTPError.notFound {
                    // Already gone on the provider's side.
                }
            }
            try store.deleteWebhookSubscription(id: subscription.id!)
        }
        return ours
    }

    /// A provider call with admin refusals turned into the message a user can act on.
    private func call<T>(_ target: Target, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch HTTPError.forbidden {
            throw Failure.notAdmin(path: target.path)
        } catch let error as HTTPError {
            if case .notFound = error { throw error }
            throw Failure.provider(path: target.path, message: error.description)
        }
    }
}
