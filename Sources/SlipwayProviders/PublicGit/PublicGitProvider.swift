import Foundation
import SlipwayHTTP

/// Public Git repositories by clone URL, with no account and no credential: the repositories are
/// the ones the user added (`slipway repos add`), each host a workspace. Branch heads come from
/// git's refs advertisement, on a budget per host (600 an hour unless `[providers.git]` says
/// otherwise, to stay polite to hosts nobody has an agreement with); commit details from a
/// partial, shallow fetch into a local cache. No webhooks.
public struct PublicGitProvider: GitProvider, BatchCommitDetails, RepositoryLookup {
    public let kind = ProviderKind.git
    /// What the user added, in the order added.
    public var repositories: [PublicGitURL]
    public var http: HTTPClient
    public var budgetCredential: String?
    /// Where commit details come from; nil: heads only, no details.
    public var cache: GitObjectCache?
    /// One adapter instance's advertisements (a listing's, reused by its branch reads).
    let advertised = Advertised()

    public static let gitRequestsPerHour = 600

    public static let descriptor = ProviderDescriptor(
        kind: .git, defaultAPIURL: "", defaultWebURL: "",
        restRequestsPerHour: 0, gitRequestsPerHour: gitRequestsPerHour, maxInFlight: 2, budgetPerWorkspace: true,
        linkMethods: [], minimumScopes: [], requestedScopes: [],
        gitUsername: { _ in "" }, apiURLProblem: { _ in nil },
        // Any host's web pages are its own: a clone URL says nothing about them.
        webLinks: WebLinks(workspace: { _, _ in nil }, branch: { _, _ in nil }, commit: { _, _ in nil }),
        webhookDialect: nil,
        make: { connection in
            PublicGitProvider(repositories: connection.publicRepositories, http: connection.http, budgetCredential: connection.budgetCredential,
                              cache: connection.gitCache)
        })

    public init(repositories: [PublicGitURL], http: HTTPClient, budgetCredential: String? = nil, cache: GitObjectCache? = nil) {
        self.repositories = repositories
        self.http = http
        self.budgetCredential = budgetCredential
        self.cache = cache
    }

    var sender: ProviderSender {
        ProviderSender(apiURL: "", webURL: "", credential: .none, http: http, budgetCredential: budgetCredential, headers: [("User-Agent", "git/slipway")],
                       gitUsername: { _ in "" }, isRateLimit: { $0.status == 429 })
    }

    public func currentUser() async throws -> ProviderUser { ProviderUser(id: "", username: "", displayName: nil, scopes: nil) }

    public func workspaces() async throws -> [ProviderWorkspace] {
        var seen: Set<String> = []
        return repositories.compactMap { url in
            seen.insert(url.host).inserted ? ProviderWorkspace(id: nil, slug: url.host, name: url.host, isAdmin: false) : nil
        }
    }

    /// The added repositories on a host, each with the branch its HEAD names (one advertisement
    /// each, kept for the branch read that follows in the same cycle).
    public func repositories(in workspace: String) async throws -> [ProviderRepository] {
        let here = repositories.filter { $0.host == workspace }
        return try await withThrowingTaskGroup(of: (Int, ProviderRepository).self) { group in
            for (index, url) in here.enumerated() {
                group.addTask {
                    let main = try? await advertisement(url).headBranch
                    return (index, Self.repository(url, mainBranch: main))
                }
            }
            var found: [(Int, ProviderRepository)] = []
            for try await item in group { found.append(item) }
            return found.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    public func repository(workspace: String, slug: String) async throws -> ProviderRepository {
        let url = try added(workspace, slug)
        return Self.repository(url, mainBranch: try await advertisement(url).headBranch)
    }

    static func repository(_ url: PublicGitURL, mainBranch: String?) -> ProviderRepository {
        ProviderRepository(id: nil, slug: url.path, name: String(url.path.split(separator: "/").last ?? Substring(url.path)), fullName: url.fullName,
                           mainBranch: mainBranch, isPrivate: false, updatedOn: nil, cloneURL: url.cloneURL, webURL: nil)
    }

    /// Every head with its commit's details (one advertisement, one partial fetch). Heads come
    /// even when the fetch fails (no git on this host, a host that refuses partial fetches): their
    /// details follow at a later sweep, which asks again for heads that have none.
    public func branches(workspace: String, repository: String) async throws -> [ProviderBranch] {
        let url = try added(workspace, repository)
        let heads = try await advertisement(url).branches
        let details: [String: ProviderCommit]
        do {
            details = try await self.details(heads, url: url)
        } catch {
            // A pause is the budget's business, not a missing detail.
            if case HTTPError.rateLimited = error { throw error }
            details = [:]
        }
        return heads.keys.sorted().map { name in ProviderBranch(name: name, head: details[heads[name]!] ?? ProviderCommit(hash: heads[name]!)) }
    }

    public func commits(workspace: String, repository: String, revision: String, exclude: [String], limit: Int) async throws -> [ProviderCommit] {
        let url = try added(workspace, repository)
        guard let cache else { return [] }
        try await spendFetch(url)
        return try await Self.failing(url) { try await cache.history(from: revision, exclude: exclude, limit: limit, cloneURL: url.cloneURL) }
    }

    public func branchHeads(cloneURL: String) async throws -> [String: String] {
        let url = try PublicGitURL.parse(cloneURL)
        return try await advertisement(url, fresh: true).branches
    }

    // MARK: Commit details

    /// As many as one fetch brings: it costs the same for one head as for fifty.
    public var commitsPerBatch: Int { 50 }

    public func commit(workspace: String, repository: String, hash: String) async throws -> ProviderCommit {
        guard let found = try await commits(workspace: workspace, repository: repository, hashes: [hash])[hash] else {
            throw HTTPError.notFound(url: try added(workspace, repository).cloneURL, message: "commit \(hash) is no branch head there now")
        }
        return found
    }

    public func commits(workspace: String, repository: String, hashes: [String]) async throws -> [String: ProviderCommit] {
        let url = try added(workspace, repository)
        let wanted = Set(hashes)
        // The heads are named by branch for the fetch: the advertisement says which.
        let heads = try await advertisement(url).branches.filter { wanted.contains($0.value) }
        return try await details(heads, url: url)
    }

    private func details(_ heads: [String: String], url: PublicGitURL) async throws -> [String: ProviderCommit] {
        guard let cache, !heads.isEmpty else { return [:] }
        try await spendFetch(url)
        return try await Self.failing(url) { try await cache.heads(heads, cloneURL: url.cloneURL) }
    }

    /// A fetch is git's own two requests (its refs, then the pack), spent from the host's budget.
    private func spendFetch(_ url: PublicGitURL) async throws {
        guard let budgetCredential else { return }
        try await http.spend(BudgetKey(host: url.host, credential: budgetCredential, kind: .git), requests: 2)
    }

    /// A git failure as the HTTP error it amounts to (one line, the repository named).
    private static func failing<T>(_ url: PublicGitURL, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as GitProcess.Failure {
            throw HTTPError.status(502, url: url.cloneURL, message: failure.description)
        }
    }

    // MARK: Refs

    private func added(_ workspace: String, _ repository: String) throws -> PublicGitURL {
        guard let url = repositories.first(where: { $0.host == workspace && $0.path == repository }) else {
            throw HTTPError.notFound(url: "git/\(workspace)/\(repository)", message: "not an added repository")
        }
        return url
    }

    /// The refs advertisement, with no credential. A host that asks for one (401) or refuses
    /// (403) makes the repository not public — lost access to it, never a rejected account.
    func advertisement(_ url: PublicGitURL, fresh: Bool = false) async throws -> RefsAdvertisement {
        if !fresh, let known = await advertised.get(url) { return known }
        let refs = url.cloneURL + "/info/refs?service=git-upload-pack"
        let response: HTTPResponse
        do {
            response = try await sender.send(refs, kind: .git, accept: "application/x-git-upload-pack-advertisement")
        } catch HTTPError.unauthorized {
            throw HTTPError.forbidden(host: url.host, message: "\(url.cloneURL) asks for credentials: it is not a public repository")
        }
        let parsed: RefsAdvertisement
        do {
            parsed = try RefsAdvertisement.parse(response.body)
        } catch {
            throw HTTPError.decoding(url: refs, expected: "a git refs advertisement (is this a clone URL?)", excerpt: error.description)
        }
        await advertised.set(url, parsed)
        return parsed
    }
}

/// Advertisements one adapter instance read.
actor Advertised {
    private var known: [PublicGitURL: RefsAdvertisement] = [:]
    func get(_ url: PublicGitURL) -> RefsAdvertisement? { known[url] }
    func set(_ url: PublicGitURL, _ advertisement: RefsAdvertisement) { known[url] = advertisement }
}
