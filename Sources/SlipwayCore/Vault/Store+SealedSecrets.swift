import Foundation
import GRDB

/// Every secret the store holds sealed, with the associated data it was sealed under — what
/// `doctor` opens to prove the key on disk is the key they need.
extension Store {
    public struct SealedItem: Sendable, Equatable {
        /// What it is, for a person ("bitbucket account token", "webhook 3 secret").
        public var name: String
        public var context: String
        public var ciphertext: Data
    }

    /// The associated data of each kind of sealed secret: a ciphertext opens only as what it was sealed as.
    static func webhookSecretContext(_ id: Int64) -> String { "webhook:\(id)" }
    static func appSecretsContext(_ id: Int64) -> String { "app:\(id):secret_environment" }

    public func allSealedSecrets() throws -> [SealedItem] {
        try read { db in
            var items: [SealedItem] = []
            for row in try Row.fetchAll(db, sql: "SELECT id, provider, token_ciphertext, refresh_token_ciphertext, client_secret_ciphertext FROM accounts ORDER BY id") {
                let id: Int64 = row["id"]
                let provider: String = row["provider"]
                if let data = row["token_ciphertext"] as Data? {
                    items.append(SealedItem(name: "\(provider) account token", context: AccountLinker.tokenContext(id), ciphertext: data))
                }
                if let data = row["refresh_token_ciphertext"] as Data? {
                    items.append(SealedItem(name: "\(provider) refresh token", context: Self.refreshContext(id), ciphertext: data))
                }
                if let data = row["client_secret_ciphertext"] as Data? {
                    items.append(SealedItem(name: "\(provider) client secret", context: Self.clientSecretContext(id), ciphertext: data))
                }
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, secret_ciphertext FROM webhook_subscriptions WHERE secret_ciphertext IS NOT NULL ORDER BY id") {
                let id: Int64 = row["id"]
                items.append(SealedItem(name: "webhook \(id) secret", context: Self.webhookSecretContext(id), ciphertext: row["secret_ciphertext"]))
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, name, secret_environment_ciphertext FROM apps WHERE secret_environment_ciphertext IS NOT NULL ORDER BY id") {
                let id: Int64 = row["id"]
                items.append(SealedItem(name: "app \(row["name"] as String) secret variables", context: Self.appSecretsContext(id),
                                        ciphertext: row["secret_environment_ciphertext"]))
            }
            return items
        }
    }
}
