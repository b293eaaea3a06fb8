import Foundation
import Logging
import SlipwayCore
import SlipwayProviders
import SlipwayServer
import Synchronization

/// The webhook receiver's link to the store: secrets from the vault, deliveries recorded, pushes
/// applied at once (the engine then confirms them with a fetch).
final class StoreWebhookHandler: WebhookHandling {
    let store: Store
    let keyFile: String
    let logger: Logger

    init(store: Store, keyFile: String, logger: Logger) {
        self.store = store
        self.keyFile = keyFile
        self.logger = logger
    }

    /// The vault's key, read once it is first needed (the sealed secrets are read per delivery).
    private let vault = Mutex<Vault?>(nil)

    func secrets(repositoryFullName: String, uuid: String?) async -> [String] {
        (try? store.webhookSecrets(repositoryFullName: repositoryFullName, uuid: uuid) { try openVault() }) ?? []
    }

    private func openVault() throws -> Vault {
        if let open = vault.withLock({ $0 }) { return open }
        let opened = try Vault.open(keyFile: keyFile, create: false)
        vault.withLock { $0 = opened }
        return opened
    }

    func firstDelivery(requestUUID: String, eventKey: String) async -> Bool {
        (try? store.recordDelivery(requestUUID: requestUUID, eventKey: eventKey, now: Date())) ?? true
    }

    func apply(_ event: BitbucketPushEvent, requestUUID: String?) async {
        do {
            let changes = try store.applyPush(event, now: Date())
            logger.info("push applied", metadata: ["repository": "\(event.repositoryFullName)", "changes": "\(changes.count)",
                                                   "request": "\(requestUUID ?? "-")"])
        } catch {
            logger.warning("push not applied", metadata: ["repository": "\(event.repositoryFullName)", "error": "\(error)"])
        }
    }

    func rejected(_ reason: String, status: Int, repository: (fullName: String, uuid: String?)?) async {
        logger.warning("webhook delivery refused", metadata: ["status": "\(status)", "reason": "\(reason)"])
        if let repository {
            try? store.recordWebhookFailure(repositoryFullName: repository.fullName, uuid: repository.uuid,
                                            message: "delivery refused: \(reason)", now: Date())
        }
    }
}
