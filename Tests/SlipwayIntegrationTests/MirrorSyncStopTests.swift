import Foundation
import GRDB
import Testing
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwaySandbox

/// A full sync writes repositories a few to a transaction; a rate limit that ends it part way
/// must still keep every repository whose branches had arrived.
@Suite("Mirror sync stopped by a rate limit")
struct MirrorSyncStopTests {
    @Test("every repository listed before the rate limit is stored, whole, though its batch was not full")
    func keepsWhatArrived() async throws {
        let home = AccountAndSyncTests.Home()
        let store = try Store(path: home.path + "/slipway.db")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let provider = MemoryGitProvider(kind: .bitbucket, workspaces: 1, repositories: 40, branches: 3)
        provider.rateLimitBranchListings(after: 21)
        let account = try store.write { db -> Account in
            var account = Account(provider: .bitbucket, username: "memory", apiURL: "http://127.0.0.1:1/2.0", webURL: "http://127.0.0.1:1",
                                  auth: .token, createdAt: now)
            try account.insert(db)
            return account
        }
        do {
            _ = try await MirrorSync(store: store, account: account, provider: provider, concurrency: 1, now: { now }).run()
            Issue.record("the sync must stop at the rate limit")
        } catch let MirrorSync.Stop.rateLimited(_, partial) {
            #expect(partial.repositories == 21, "21 listings answered: 16 in the first batch, 5 kept when the cycle stopped")
        }
        let workspace = try #require(try store.workspaces(accountID: account.id!).first)
        let stored = try store.repositories(workspaceID: workspace.id!)
        #expect(stored.count == 21)
        for repository in stored { #expect(try store.branches(repositoryID: repository.id!).count == 3) }
    }
}
