import Foundation
import Logging
import SlipwayCore
import SlipwayProviders
import SlipwayServer
import Synchronization

/// The webhook receiver's link to the store: secrets from the vault, deliveries recorded, pushes
/// applied at once (the engine then confirms them with a fetch). Public for the freshness
/// benchmark, which receives its simulated deliveries through it on a virtual clock.
public final class StoreWebhookHandler: WebhookHandling {
    let store: Store
    let keyFile: String
    let logger: Logger
    let now: @Sendable () -> Date

    public init(store: Store, keyFile: String, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.keyFile = keyFile
        self.logger = logger
        self.now = now
    }

    /// The vault's key, read once it is first needed, and the hooks' secrets opened once each
    /// (the sealed secrets are read per delivery, so a rotated one is seen at once).
    private let vault = Mutex<Vault?>(nil)
    private let secrets = OpenedSecrets()

    public func repository(provider: ProviderKind, _ named: DeliveryRepository) async throws -> WebhookRepositoryLookup {
        let (resolution, hooks) = try store.webhookTarget(provider: provider, fullName: named.fullName, uuid: named.id, opened: secrets) { try openVault() }
        switch resolution {
        case .none:
            return .unknown
        case let .conflicting(why):
            return .conflicting(why)
        case let .repository(id):
            return .found(repositoryID: id, hooks: hooks.map { HookSecret(hookID: $0.hookID, secret: $0.secret, signed: $0.signed) })
        }
    }

    private func openVault() throws -> Vault {
        if let open = vault.withLock({ $0 }) { return open }
        let opened = try Vault.open(keyFile: keyFile, create: false)
        vault.withLock { $0 = opened }
        return opened
    }

    public func isDuplicate(provider: ProviderKind, deliveryID: String) async throws -> Bool {
        try store.isDuplicateDelivery(id: deliveryID, provider: provider)
    }

    public func ignored(provider: ProviderKind, deliveryID: String, event: String, repositoryID: Int64, hookID: Int64) async throws {
        try store.recordIgnoredDelivery(id: deliveryID, provider: provider, event: event, hookID: hookID, now: now())
    }

    public func apply(_ event: PushEvent, name: String, repositoryID: Int64, hookID: Int64, deliveryID: String?) async throws -> WebhookApplyOutcome {
        do {
            switch try store.applyPush(event, toRepository: repositoryID, proof: .init(id: deliveryID, hookID: hookID, event: name), now: now()) {
            case .duplicate:
                return .duplicate
            case let .applied(changes):
                logger.info("push applied", metadata: ["repository": "\(event.repositoryFullName)", "changes": "\(changes.count)",
                                                       "hook": "\(hookID)", "request": "\(deliveryID ?? "-")"])
                return .applied(changes: event.changes.count)
            }
        } catch {
            logger.warning("push not stored; answered 503 so the provider retries",
                           metadata: ["repository": "\(event.repositoryFullName)", "hook": "\(hookID)", "error": "\(error)"])
            throw error
        }
    }

    public func rejected(_ reason: String, status: Int) async {
        logger.warning("webhook delivery refused", metadata: ["status": "\(status)", "reason": "\(reason)"])
    }
}
