import Foundation
import GRDB
import SlipwayProviders

/// Writing and reading an account's sealed tokens. New tokens are stored in one transaction
/// before anyone uses them, so a rotating refresh token is never lost between "spent" and "saved".
extension Store {
    /// Refresh at about 80 % of a token's lifetime.
    public static func refreshMoment(issuedAt: Date, expiresIn: TimeInterval?) -> (expires: Date?, refresh: Date?) {
        guard let expiresIn, expiresIn > 0 else { return (nil, nil) }
        return (issuedAt.addingTimeInterval(expiresIn), issuedAt.addingTimeInterval(expiresIn * 0.8))
    }

    /// The user's primary address, as the provider gave it last (nil: not given).
    public func setEmail(accountID: Int64, _ email: String?, now: Date) throws {
        try write { db in
            try db.execute(sql: "UPDATE accounts SET email = ?, updated_at = ? WHERE id = ?", arguments: [email, now, accountID])
        }
    }

    public func saveTokens(accountID: Int64, _ token: OAuthToken, vault: Vault, now: Date) throws {
        let access = try vault.seal(token.accessToken, context: AccountLinker.tokenContext(accountID))
        let refresh = try token.refreshToken.map { try vault.seal($0, context: Self.refreshContext(accountID)) }
        let moments = Self.refreshMoment(issuedAt: now, expiresIn: token.expiresIn)
        let scopes = String(decoding: try JSONEncoder().encode(token.scopes), as: UTF8.self)
        try write { db in
            // A grant without a new refresh token keeps the old one.
            try db.execute(sql: """
                UPDATE accounts SET token_ciphertext = ?, refresh_token_ciphertext = COALESCE(?, refresh_token_ciphertext),
                    token_expires_at = ?, token_refresh_at = ?, scopes = CASE WHEN ? = '[]' THEN scopes ELSE ? END,
                    status = 'ok', status_message = NULL, updated_at = ?
                WHERE id = ?
                """, arguments: [access, refresh, moments.expires, moments.refresh, scopes, scopes, now, accountID])
        }
    }

    public func sealedSecrets(accountID: Int64) throws -> AccountSecrets {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT token_ciphertext, refresh_token_ciphertext, client_secret_ciphertext FROM accounts WHERE id = ?",
                                             arguments: [accountID]) else { return AccountSecrets() }
            return AccountSecrets(accessToken: row["token_ciphertext"], refreshToken: row["refresh_token_ciphertext"],
                                  clientSecret: row["client_secret_ciphertext"])
        }
    }

    /// The account stops syncing until relinked; its mirrored data stays.
    public func markNeedsRelink(accountID: Int64, reason: String, now: Date) throws {
        try write { db in
            try db.execute(sql: "UPDATE accounts SET status = 'needs_relink', status_message = ?, updated_at = ? WHERE id = ?",
                           arguments: [reason, now, accountID])
        }
    }

    public func account(id: Int64) throws -> Account? {
        try read { db in try Account.fetchOne(db, key: id) }
    }

    static func refreshContext(_ id: Int64) -> String { "account:\(id):refresh" }
    static func clientSecretContext(_ id: Int64) -> String { "account:\(id):client_secret" }
}
