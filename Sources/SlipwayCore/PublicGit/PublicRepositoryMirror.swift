import Foundation
import SlipwayProviders

/// Mirrors one public repository the user just added — its branches with their heads' details —
/// without waiting for the next full listing: what `repos add` does when no engine runs, and what
/// the engine does when asked.
public enum PublicRepositoryMirror {
    public static func mirror(_ url: PublicGitURL, account: Account, store: Store, provider: any GitProvider, now: Date) async throws -> [SyncReport.Change] {
        guard let accountID = account.id else { throw StoreError.notFound("the git account") }
        let remote: ProviderRepository
        if let lookup = provider as? any RepositoryLookup {
            remote = try await lookup.repository(workspace: url.host, slug: url.path)
        } else if let listed = try await provider.repositories(in: url.host).first(where: { $0.slug == url.path }) {
            remote = listed
        } else {
            throw StoreError.notFound("\(url.cloneURL) is not in the list of added repositories")
        }
        let branches = try await provider.branches(workspace: url.host, repository: url.path)
        let workspace = try store.upsertWorkspace(accountID: accountID, ProviderWorkspace(id: nil, slug: url.host, name: url.host, isAdmin: false), now: now)
        let path = MirrorPath.joined(ProviderKind.git.rawValue, url.host, url.path)
        return try store.applyRepository(workspaceID: workspace.id!, path: path, remote, isAdmin: false, branches: branches, now: now)
    }
}
