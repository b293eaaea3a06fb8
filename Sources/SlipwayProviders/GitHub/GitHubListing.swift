import Foundation

/// One adapter instance's listing: the first page fetched once however many ask at the same
/// time; past it, every owner's chain started at once and each waited on by whoever needs it;
/// each repository's refs handed out once (a later ask fetches fresh ones). What fails is asked
/// again by the next caller.
actor GitHubListing {
    /// The first page: who the viewer is, its organizations, and — for an account of up to 100
    /// repositories (`complete`) — every repository.
    struct Head: Sendable {
        var viewer: String
        var organizations: [GitHubWire.Organization]
        var firstPage: [GitHubWire.GraphRepository]
        var complete: Bool
    }

    typealias Chain = @Sendable (_ organization: String?) async throws -> [GitHubWire.GraphRepository]

    private var head: Task<Head, any Error>?
    private var chain: Chain?
    /// By organization login; "" is the viewer's own and collaborator repositories.
    private var chains: [String: Task<[GitHubWire.GraphRepository], any Error>] = [:]
    private var refs: [String: GitHubWire.Refs] = [:]
    private var handedOut: Set<String> = []
    /// The discovery page, once per instance.
    let recent = FetchedOnce<[GitHubWire.Repository]>()

    /// Every caller, first or not, leaves the first page's refs offered and every chain started
    /// (both idempotent), so none can ask for a chain before it exists.
    func head(fetch: @escaping @Sendable () async throws -> Head, chain: @escaping Chain) async throws -> Head {
        let task: Task<Head, any Error>
        if let head {
            task = head
        } else {
            self.chain = chain
            task = Task { try await fetch() }
            head = task
        }
        do {
            let value = try await task.value
            offer(value.firstPage)
            if !value.complete {
                for organization in [nil] + value.organizations.map(\.login) where chains[organization ?? ""] == nil { start(organization) }
            }
            return value
        } catch {
            if head == task { head = nil }
            throw error
        }
    }

    /// The viewer's chain (nil) or an organization's, once its pages are all in; none when the
    /// first page held everything.
    func chain(organization: String?) async throws -> [GitHubWire.GraphRepository] {
        guard let head, !(try await head.value).complete else { return [] }
        let key = organization ?? ""
        let task = chains[key] ?? start(organization)
        do {
            let repositories = try await task.value
            offer(repositories)
            return repositories
        } catch {
            if chains[key] == task { chains[key] = nil }
            throw error
        }
    }

    @discardableResult
    private func start(_ organization: String?) -> Task<[GitHubWire.GraphRepository], any Error> {
        let chain = self.chain
        let task = Task { try await chain?(organization) ?? [] }
        chains[organization ?? ""] = task
        return task
    }

    /// Refs the listing brought, for `takeRefs`; a repository's are offered once.
    private func offer(_ repositories: [GitHubWire.GraphRepository]) {
        for r in repositories where refs[r.nameWithOwner] == nil && !handedOut.contains(r.nameWithOwner) {
            refs[r.nameWithOwner] = r.refs
        }
    }

    func takeRefs(_ fullName: String) -> GitHubWire.Refs? {
        guard let taken = refs.removeValue(forKey: fullName) else { return nil }
        handedOut.insert(fullName)
        return taken
    }
}
