import Foundation
import GRDB
@testable import SlipwayCore
import SlipwayProviders

extension Store {
    /// A Bitbucket account (alice, on an unreachable loopback port) with its workspace `acme`: what
    /// the store's mirror tests write under.
    func linkedWorkspace(now: Date) throws -> (Account, Workspace) {
        let account = try write { db -> Account in
            var account = Account(provider: .bitbucket, username: "alice", apiURL: "http://127.0.0.1:1/2.0", webURL: "http://127.0.0.1:1",
                                  auth: .token, createdAt: now)
            try account.insert(db)
            return account
        }
        let workspace = try upsertWorkspace(accountID: account.id!, ProviderWorkspace(id: nil, slug: "acme", name: "Acme", isAdmin: true), now: now)
        return (account, workspace)
    }
}
