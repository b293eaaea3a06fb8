import Foundation
import SlipwayHTTP
import SlipwayProviders

/// A Git host held in memory behind `GitProvider`, with no wire at all: for measuring what the
/// engine itself costs (its queries and CPU per step) without a server's time in the figure.
/// Repositories live at `memory://WORKSPACE/REPOSITORY`; a push moves one head.
public final class MemoryGitProvider: GitProvider, @unchecked Sendable {
    public let kind: ProviderKind
    private let lock = NSLock()
    private var heads: [String: [String: [String: String]]] = [:]
    private var pushes = 0
    private var lookups = 0
    private var listings = 0
    private var rateLimitAfter: Int?

    /// `workspaces` × `repositories` × `branches`, every head a distinct hash.
    public init(kind: ProviderKind, workspaces: Int, repositories: Int, branches: Int) {
        self.kind = kind
        for w in 0..<workspaces {
            var repos: [String: [String: String]] = [:]
            for r in 0..<repositories {
                var named: [String: String] = [:]
                for b in 0..<branches { named[b == 0 ? "main" : "feature/\(b)"] = Self.hash(w, r, b, 0) }
                repos["repo-\(r)"] = named
            }
            heads["\(kind.rawValue)-ws-\(w)"] = repos
        }
    }

    /// After `listings` branch listings, every further one is rate limited (for an hour), as a
    /// provider's budget running out mid-sync.
    public func rateLimitBranchListings(after listings: Int) {
        lock.withLock { rateLimitAfter = listings }
    }

    /// Refs advertisements answered so far.
    public var headLookups: Int { lock.withLock { lookups } }

    /// Moves the head of one branch of a repository to a new commit.
    public func push(workspace: String, repository: String, branch: String = "main") {
        lock.withLock {
            pushes += 1
            heads[workspace]?[repository]?[branch] = Self.hash(pushes, 0, 0, 1)
        }
    }

    public func currentUser() async throws -> ProviderUser { ProviderUser(id: "memory", username: "memory", displayName: nil) }
    public func classify(_ error: any Error) -> ProviderFailure { .other }

    public func workspaces() async throws -> [ProviderWorkspace] {
        lock.withLock { heads.keys.sorted().map { ProviderWorkspace(id: $0, slug: $0, name: $0, isAdmin: true) } }
    }

    public func repositories(in workspace: String) async throws -> [ProviderRepository] {
        lock.withLock {
            (heads[workspace] ?? [:]).keys.sorted().map { slug in
                ProviderRepository(id: "\(workspace)/\(slug)", slug: slug, name: slug, fullName: "\(workspace)/\(slug)", mainBranch: "main",
                                   isPrivate: true, updatedOn: nil, cloneURL: "memory://\(workspace)/\(slug)", webURL: nil)
            }
        }
    }

    public func branches(workspace: String, repository: String) async throws -> [ProviderBranch] {
        try lock.withLock {
            listings += 1
            if let limit = rateLimitAfter, listings > limit {
                throw HTTPError.rateLimited(host: "memory", resumeAt: Date().addingTimeInterval(3600))
            }
            return (heads[workspace]?[repository] ?? [:]).sorted { $0.key < $1.key }.map {
                ProviderBranch(name: $0.key, head: ProviderCommit(hash: $0.value, date: Date(timeIntervalSince1970: 1_700_000_000),
                                                                  author: "Memory <memory@example.com>", message: "commit"))
            }
        }
    }

    public func commits(workspace: String, repository: String, revision: String, exclude: [String], limit: Int) async throws -> [ProviderCommit] {
        []
    }

    public func branchHeads(cloneURL: String) async throws -> [String: String] {
        let parts = cloneURL.dropFirst("memory://".count).split(separator: "/", maxSplits: 1).map(String.init)
        return lock.withLock {
            lookups += 1
            return parts.count == 2 ? heads[parts[0]]?[parts[1]] ?? [:] : [:]
        }
    }

    private static func hash(_ a: Int, _ b: Int, _ c: Int, _ d: Int) -> String {
        String(format: "%010x%010x%010x%010x", a, b, c, d)
    }
}
