import Foundation
import SlipwayHTTP
import Synchronization

/// GitHub (github.com or an Enterprise server's `…/api/v3`). The listing every cycle starts with
/// is GraphQL: one query a page of 100 repositories across every owner the viewer can read, with
/// each repository's first 100 branch heads and their details inline — about one point for 100
/// repositories. What it brought is handed to `repositories(in:)` and `branches(…)` once, so the
/// initial sync spends no request per repository; a repository with more than 100 branches pages
/// its refs by cursor. REST does the rest: the user and e-mail, discovery (`/user/repos` by
/// `pushed`), commits, hooks; git's refs advertisement sweeps.
public struct GitHubProvider: GitProvider, WorkspaceDetails, RepositoryDiscovery, BatchCommitDetails, WebhookHosting, UserEmails, AccessReview {
    public let kind = ProviderKind.github
    public var apiURL: String
    public var webURL: String
    public var credential: ProviderCredential
    public var http: HTTPClient
    public var budgetCredential: String?
    public var credentialSource: (any CredentialSource)?
    /// What this instance's listing brought (one sync cycle's worth).
    let listing = GitHubListing()

    /// Classic tokens: read repositories (`repo`, or `public_repo` for public ones), organizations,
    /// hooks (within `repo`, or `admin:repo_hook`) and the e-mail.
    public static let minimumScopes = ["repo", "read:org", "user:email"]
    /// GitHub publishes no limit for git over HTTPS; Slipway's default (documented in the README).
    public static let gitRequestsPerHour = 5000

    @Sendable public static func gitUsername(for credential: ProviderCredential) -> String { "x-access-token" }

    public static let descriptor = ProviderDescriptor(
        kind: .github, defaultAPIURL: "https://api.github.com", defaultWebURL: "https://github.com",
        restRequestsPerHour: 5000, gitRequestsPerHour: gitRequestsPerHour, graphQLPointsPerHour: 5000,
        linkMethods: [.token, .device, .oauthCode],
        minimumScopes: minimumScopes, requestedScopes: ["repo", "read:org", "admin:repo_hook", "user:email"],
        publicOnlyScopes: ["public_repo", "read:org", "admin:repo_hook", "user:email"],
        publicOnlyMinimumScopes: ["public_repo", "read:org", "user:email"],
        // An OAuth App asks for the scopes; a GitHub App's permissions are its own and its user
        // tokens expire (8 h, with a refresh token): which one it was shows in `expires_in`.
        oauth: OAuthEndpoints(authorizePath: "/login/oauth/authorize", tokenPath: "/login/oauth/access_token",
                              deviceAuthorizationPath: "/login/device/code", clientAuthentication: .form),
        gitUsername: gitUsername(for:), apiURLProblem: apiURLProblem,
        webLinks: WebLinks(workspace: { web, slug in "\(web)/\(WebLinks.escaped(slug))" },
                           branch: { repository, name in "\(repository)/tree/\(WebLinks.escaped(name))" },
                           commit: { repository, hash in "\(repository)/commit/\(hash)" }),
        webhookDialect: GitHubWebhookDialect(),
        make: { connection in
            var provider = GitHubProvider(apiURL: connection.apiURL, webURL: connection.webURL, credential: connection.credential,
                                          http: connection.http, budgetCredential: connection.budgetCredential)
            provider.credentialSource = connection.credentialSource
            return provider
        })

    /// The API's root: `https://api.github.com`, or an Enterprise server's `…/api/v3`.
    @Sendable public static func apiURLProblem(_ url: String) -> String? {
        var path = URLComponents(string: url)?.path ?? ""
        while path.hasSuffix("/") { path.removeLast() }
        guard path.isEmpty || path.hasSuffix("/api/v3") else {
            return "GitHub's REST base is https://api.github.com or an Enterprise server's https://HOST/api/v3"
        }
        return nil
    }

    /// Where GraphQL is: `/graphql` beside github.com's API, `…/api/graphql` for `…/api/v3`.
    public static func graphQLURL(apiURL: String) -> String {
        apiURL.hasSuffix("/api/v3") ? String(apiURL.dropLast("/v3".count)) + "/graphql" : apiURL + "/graphql"
    }

    /// A rate limit in any of GitHub's shapes: 403 or 429 with `x-ratelimit-remaining: 0`, a
    /// `Retry-After`, a message saying so (primary or secondary), or GraphQL's 200 whose errors
    /// are `RATE_LIMITED` / `RATE_LIMIT`. Never lost access.
    @Sendable public static func isRateLimit(_ response: HTTPResponse) -> Bool {
        switch response.status {
        case 403, 429:
            if response.headers["Retry-After"] != nil || response.headers["x-ratelimit-remaining"] == "0" { return true }
            return HTTPError.providerMessage(response.body).lowercased().contains("rate limit")
        case 200:
            guard response.body.count < 65_536, response.headers["x-ratelimit-resource"] == "graphql" || response.url.hasSuffix("graphql"),
                  let errors = try? JSONDecoder().decode(GitHubWire.Response<EmptyData>.self, from: response.body).errors else { return false }
            return errors.contains { $0.type == "RATE_LIMITED" || $0.type == "RATE_LIMIT" }
        default:
            return false
        }
    }

    struct EmptyData: Decodable, Sendable {}

    public init(apiURL: String = "https://api.github.com", webURL: String = "https://github.com", credential: ProviderCredential,
                http: HTTPClient, budgetCredential: String? = nil) {
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.webURL = webURL.hasSuffix("/") ? String(webURL.dropLast()) : webURL
        self.credential = credential
        self.http = http
        self.budgetCredential = budgetCredential
    }

    // MARK: Requests

    /// How its requests go out (credential, budget, origins, GitHub's rate-limit shapes).
    var sender: ProviderSender {
        ProviderSender(apiURL: apiURL, webURL: webURL, credential: credential, http: http, budgetCredential: budgetCredential,
                       credentialSource: credentialSource,
                       headers: [("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28")],
                       gitUsername: Self.gitUsername(for:), isRateLimit: Self.isRateLimit)
    }

    /// The last discovery listing per credential, for the 304s that say it still stands (a
    /// process's adapters share it, as they share the HTTP client's validators).
    static let recentListings = Mutex<[String: [GitHubWire.Repository]]>([:])

    private func send(_ url: String, kind: RequestKind = .rest, accept: String? = nil, method: HTTPMethod = .get,
                      json: Data? = nil, conditional: ConditionalRequest? = nil) async throws -> HTTPResponse {
        try await sender.send(url, kind: kind, accept: accept, method: method, json: json, conditional: conditional)
    }

    private func all<T: Decodable>(_ url: String, as type: T.Type, limit: Int = .max) async throws -> [T] {
        try await sender.all(url, as: type, limit: limit)
    }

    /// A GraphQL query; errors that are not a rate limit (those the client pauses for) become
    /// one clear error unless the data is there to use.
    private func graphQL<T: Decodable & Sendable>(_ query: String, variables: [String: Any], as type: T.Type) async throws -> T {
        try await graphQL(query, variables: variables) { response in
            let decoded = try response.decode(GitHubWire.Response<T>.self)
            return (decoded.data, decoded.errors)
        }
    }

    /// The same for the listing's pages, read with `JSONReader` by `read` (a 300 KB page through
    /// `JSONDecoder` kept each owner's chain waiting before it could ask for the next page).
    private func graphQL<T>(_ query: String, variables: [String: Any], expected: String,
                            read: (inout JSONReader) throws -> T) async throws -> T {
        try await graphQL(query, variables: variables) { response in
            try response.read(expected) { reader in try GitHubWire.readResponse(&reader, data: read) }
        }
    }

    private func graphQL<T>(_ query: String, variables: [String: Any],
                            answer: (HTTPResponse) throws -> (data: T?, errors: [GitHubWire.GraphQLError]?)) async throws -> T {
        let url = Self.graphQLURL(apiURL: apiURL)
        let body = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
        let response = try await send(url, kind: .graphql, method: .post, json: body)
        let decoded = try answer(response)
        guard let data = decoded.data else {
            let message = decoded.errors?.compactMap(\.message).first ?? "no data"
            throw HTTPError.decoding(url: url, expected: "GraphQL data", excerpt: message)
        }
        return data
    }

    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    private func repoURL(_ owner: String, _ name: String) -> String {
        "\(apiURL)/repos/\(Self.segment(owner))/\(Self.segment(name))"
    }

    // MARK: The account

    public func currentUser() async throws -> ProviderUser {
        let response = try await send(apiURL + "/user")
        let user = try response.decode(GitHubWire.User.self)
        // Classic tokens say what they may do; fine-grained ones say nothing (nil, not "none").
        let scopes = response.headers["X-OAuth-Scopes"].map {
            $0.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init).filter { !$0.isEmpty }
        }
        return ProviderUser(id: String(user.id), username: user.login, displayName: user.name, scopes: scopes)
    }

    /// The primary, verified address; nil without the scope (GitHub answers 404 or 403 then).
    public func primaryEmail() async throws -> String? {
        do {
            let emails = try await all(apiURL + "/user/emails?per_page=100", as: GitHubWire.Email.self)
            return emails.first { $0.primary == true && $0.verified != false }?.email
        } catch HTTPError.notFound, HTTPError.forbidden, HTTPError.unauthorized {
            return nil
        }
    }

    /// A token without `X-OAuth-Scopes` (fine-grained, or an app's) is tried on what Slipway
    /// uses: the e-mail addresses, a repository's hooks where it is admin, and git. Each probe is
    /// one request, at link time only; an answer that is not a refusal (a 5xx, the network) warns of nothing.
    public func accessWarnings(for user: ProviderUser) async -> [String] {
        guard user.scopes == nil else { return [] }
        var warnings: [String] = []
        func refused(_ error: any Error) -> Bool {
            switch error {
            case HTTPError.forbidden, HTTPError.notFound, HTTPError.unauthorized: true
            default: false
            }
        }
        do {
            _ = try await send(apiURL + "/user/emails?per_page=1")
        } catch where refused(error) {
            warnings.append("the token cannot read your e-mail addresses; grant Account permissions → Email addresses: read (Slipway shows no e-mail until then)")
        } catch {}
        let first: GitHubWire.Repository?
        do {
            let admin = try await send(apiURL + "/user/repos?per_page=100&sort=pushed").decode([GitHubWire.Repository].self)
            first = admin.first { $0.permissions?["admin"] == true } ?? admin.first
            if admin.isEmpty {
                warnings.append("the token can read no repositories; give it access to them (Repository access) with Contents and Metadata: read")
            }
        } catch {
            first = nil
        }
        guard let repository = first else { return warnings }
        if repository.permissions?["admin"] == true {
            do {
                _ = try await send(repoURL(repository.owner.login, repository.name) + "/hooks?per_page=1")
            } catch where refused(error) {
                warnings.append("the token cannot manage webhooks; grant Repository permissions → Webhooks: read and write (pushes arrive by polling until then)")
            } catch {}
        }
        if let clone = repository.clone_url {
            do {
                _ = try await branchHeads(cloneURL: clone)
            } catch where refused(error) {
                warnings.append("the token cannot read repository contents over git; grant Repository permissions → Contents: read (sweeps use REST until then)")
            } catch {}
        }
        return warnings
    }

    // MARK: The listing

    /// What the listing asks of each repository: its place, its permission, and its first 100
    /// branch heads with their details inline.
    static let repositoryNodes = """
              nodes {
                databaseId name nameWithOwner owner { login __typename } isPrivate viewerPermission pushedAt updatedAt url
                defaultBranchRef { name }
                refs(refPrefix: "refs/heads/", first: 100) {
                  totalCount
                  nodes { name target { ... on Commit { oid committedDate message author { name email } } } }
                  pageInfo { hasNextPage endCursor }
                }
              }
              pageInfo { hasNextPage endCursor }
        """

    static let listingQuery = """
        query Listing($after: String) {
          viewer {
            login
            organizations(first: 100) { nodes { login name } pageInfo { hasNextPage endCursor } }
            repositories(first: 100, after: $after, affiliations: [OWNER, COLLABORATOR, ORGANIZATION_MEMBER],
                         ownerAffiliations: [OWNER, COLLABORATOR, ORGANIZATION_MEMBER], orderBy: {field: NAME, direction: ASC}) {
        \(repositoryNodes)
            }
          }
        }
        """

    /// The viewer's own and collaborator repositories (no organization's), for the owner-by-owner listing.
    static let viewerRepositoriesQuery = """
        query ViewerRepositories($after: String) {
          viewer {
            repositories(first: 100, after: $after, affiliations: [OWNER, COLLABORATOR], ownerAffiliations: [OWNER, COLLABORATOR],
                         orderBy: {field: NAME, direction: ASC}) {
        \(repositoryNodes)
            }
          }
        }
        """

    static let organizationRepositoriesQuery = """
        query OrganizationRepositories($login: String!, $after: String) {
          organization(login: $login) {
            repositories(first: 100, after: $after, orderBy: {field: NAME, direction: ASC}) {
        \(repositoryNodes)
            }
          }
        }
        """

    static let refsQuery = """
        query Refs($owner: String!, $name: String!, $after: String) {
          repository(owner: $owner, name: $name) {
            refs(refPrefix: "refs/heads/", first: 100, after: $after) {
              totalCount
              nodes { name target { ... on Commit { oid committedDate message author { name email } } } }
              pageInfo { hasNextPage endCursor }
            }
          }
        }
        """

    /// The listing's first page, once per instance (concurrent callers wait for the same one).
    /// One query answers an account of up to 100 repositories. Past that, each owner's
    /// repositories are a cursor chain of their own — the viewer's own and collaborator ones,
    /// and each organization's — all started at once and walked side by side (within
    /// `max_in_flight`), since one chain's pages cannot be asked for before the last one
    /// answers; each owner waits only for the chains that list it, so the mirror writes one
    /// owner while the others' pages are still coming.
    func listingHead() async throws -> GitHubListing.Head {
        try await listing.head(fetch: {
            let first = try await graphQL(Self.listingQuery, variables: ["after": NSNull()], expected: "GitHub repositories",
                                          read: GitHubWire.readViewerData)
            return GitHubListing.Head(viewer: first.viewer.login, organizations: first.viewer.organizations?.nodes?.compactMap { $0 } ?? [],
                                      firstPage: first.viewer.repositories.nodes?.compactMap { $0 } ?? [],
                                      complete: !first.viewer.repositories.pageInfo.hasNextPage)
        }, chain: { organization in try await self.ownerChain(organization: organization) })
    }

    /// Every repository the listing found that `owner` may hold: the first page alone for a
    /// small account; else the viewer's chain, the owner's own where it is an organization, then
    /// the first page (should a chain have missed one). A repository two chains both list (an
    /// organization's, where the viewer is also a collaborator) is kept once.
    private func listedRepositories(owner: String?) async throws -> [GitHubWire.GraphRepository] {
        let head = try await listingHead()
        guard !head.complete else { return head.firstPage }
        var found = try await listing.chain(organization: nil)
        if let owner, head.organizations.contains(where: { $0.login == owner }) {
            found += try await listing.chain(organization: owner)
        }
        var seen = Set<String>()
        return (found + head.firstPage).filter { seen.insert($0.nameWithOwner).inserted }
    }

    /// One owner's repositories, page after page: the viewer's own and collaborator ones
    /// (`organization` nil), or an organization's.
    private func ownerChain(organization: String?) async throws -> [GitHubWire.GraphRepository] {
        var after: String?
        var repositories: [GitHubWire.GraphRepository] = []
        repeat {
            var variables: [String: Any] = ["after": after.map { $0 as Any } ?? NSNull()]
            if let organization { variables["login"] = organization }
            let data = try await graphQL(organization == nil ? Self.viewerRepositoriesQuery : Self.organizationRepositoriesQuery,
                                         variables: variables, expected: "GitHub repositories", read: GitHubWire.readOwnerRepositoriesData)
            guard let connection = (organization == nil ? data.viewer : data.organization)?.repositories else { break }
            repositories += connection.nodes?.compactMap { $0 } ?? []
            after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : nil
        } while after != nil
        return repositories
    }

    /// Owners in the order a person thinks of them: the user, its organizations, then other users
    /// whose repositories it collaborates on (found in the viewer's chain, not the organizations').
    public func workspaces() async throws -> [ProviderWorkspace] {
        let head = try await listingHead()
        var seen: Set<String> = [head.viewer]
        var result = [ProviderWorkspace(id: nil, slug: head.viewer, name: nil, isAdmin: true)]
        for organization in head.organizations where seen.insert(organization.login).inserted {
            result.append(ProviderWorkspace(id: nil, slug: organization.login, name: organization.name, isAdmin: false))
        }
        for repository in try await listedRepositories(owner: nil) where seen.insert(repository.owner.login).inserted {
            result.append(ProviderWorkspace(id: nil, slug: repository.owner.login, name: nil, isAdmin: false))
        }
        return result
    }

    public func workspace(_ slug: String) async throws -> ProviderWorkspace {
        let head = try await listingHead()
        let name = head.organizations.first { $0.login == slug }?.name
        return ProviderWorkspace(id: nil, slug: slug, name: name ?? slug, isAdmin: slug == head.viewer)
    }

    public func repositories(in workspace: String) async throws -> [ProviderRepository] {
        try await listedRepositories(owner: workspace).filter { $0.owner.login == workspace }.map(repository)
    }

    public func adminRepositorySlugs(in workspace: String) async throws -> Set<String> {
        Set(try await listedRepositories(owner: workspace).filter { $0.owner.login == workspace && $0.viewerPermission == "ADMIN" }.map(\.name))
    }

    func repository(_ r: GitHubWire.GraphRepository) -> ProviderRepository {
        let web = r.url ?? "\(webURL)/\(r.nameWithOwner)"
        return ProviderRepository(id: r.databaseId.map(String.init), slug: r.name, name: r.name, fullName: r.nameWithOwner,
                                  mainBranch: r.defaultBranchRef?.name, isPrivate: r.isPrivate ?? true,
                                  updatedOn: (r.pushedAt ?? r.updatedAt).flatMap(ProviderDate.parse), cloneURL: web + ".git", webURL: web)
    }

    static func branch(_ ref: GitHubWire.Ref) -> ProviderBranch? {
        guard let target = ref.target, let oid = target.oid else { return nil }
        return ProviderBranch(name: ref.name, head: ProviderCommit(hash: oid.lowercased(), date: target.committedDate.flatMap(ProviderDate.parse),
                                                                   author: GitHubWire.raw(name: target.author?.name, email: target.author?.email),
                                                                   message: target.message))
    }

    /// The heads the listing brought (handed out once: later asks are fresh), the rest by cursor.
    public func branches(workspace: String, repository: String) async throws -> [ProviderBranch] {
        var refs = await listing.takeRefs("\(workspace)/\(repository)")
        if refs == nil {
            refs = try await graphQL(Self.refsQuery, variables: ["owner": workspace, "name": repository], as: GitHubWire.RefsData.self).repository?.refs
            guard refs != nil else { throw HTTPError.notFound(url: repoURL(workspace, repository), message: "Could not resolve to a Repository") }
        }
        var branches = refs?.nodes?.compactMap { $0.flatMap(Self.branch) } ?? []
        var page = refs?.pageInfo
        while let info = page, info.hasNextPage, let cursor = info.endCursor {
            let more = try await graphQL(Self.refsQuery, variables: ["owner": workspace, "name": repository, "after": cursor],
                                         as: GitHubWire.RefsData.self).repository?.refs
            branches += more?.nodes?.compactMap { $0.flatMap(Self.branch) } ?? []
            page = more?.pageInfo
        }
        return branches
    }

    // MARK: Discovery, commits

    /// What was pushed most recently, across every owner (one page, shared by the owners asked).
    public func recentlyUpdatedRepositories(in workspace: String) async throws -> [ProviderRepository] {
        let url = apiURL + "/user/repos?sort=pushed&direction=desc&per_page=100"
        let key = "\(budgetCredential ?? credential.description) \(url)"
        let recent = try await listing.recent.value {
            // Asked with the last answer's ETag: unchanged, it is a free 304 and the last listing stands.
            let response = try await send(url, conditional: ConditionalRequest(key: key, unchangedIsFree: true))
            if response.status == 304, let known = Self.recentListings.withLock({ $0[key] }) { return known }
            let fresh = response.status == 304 ? try await send(url) : response
            let listing = try fresh.decode([GitHubWire.Repository].self)
            Self.recentListings.withLock { $0[key] = listing }
            return listing
        }
        return recent.filter { $0.owner.login == workspace }.map { r in
            ProviderRepository(id: r.id.map(String.init), slug: r.name, name: r.name, fullName: r.full_name, mainBranch: r.default_branch,
                               isPrivate: r.private ?? true, updatedOn: (r.pushed_at ?? r.updated_at).flatMap(ProviderDate.parse),
                               cloneURL: r.clone_url, webURL: r.html_url)
        }
    }

    /// New commits: compared with the stored head where there is one, else the branch's history.
    public func commits(workspace: String, repository: String, revision: String, exclude: [String], limit: Int) async throws -> [ProviderCommit] {
        if let base = exclude.first {
            do {
                let compare = try await send(repoURL(workspace, repository) + "/compare/\(Self.segment(base))...\(Self.segment(revision))")
                let commits = try compare.decode(GitHubWire.Compare.self).commits.reversed().map(\.providerCommit)
                return Array(commits.prefix(limit))
            } catch HTTPError.notFound {
                // The stored head is gone (a forced push): the history alone.
            }
        }
        let url = repoURL(workspace, repository) + "/commits?sha=\(Self.segment(revision))&per_page=\(min(100, max(1, limit)))"
        let excluded = Set(exclude)
        var result: [ProviderCommit] = []
        for commit in try await all(url, as: GitHubWire.Commit.self, limit: limit).map(\.providerCommit) {
            if excluded.contains(commit.hash) { break }
            result.append(commit)
        }
        return Array(result.prefix(limit))
    }

    public func commit(workspace: String, repository: String, hash: String) async throws -> ProviderCommit {
        try await send(repoURL(workspace, repository) + "/commits/\(Self.segment(hash))").decode(GitHubWire.Commit.self).providerCommit
    }

    /// `/user/repos` lists every owner's repositories at once, and an unchanged one is a free 304.
    public var discoveryCoversEveryWorkspace: Bool { true }
    public var unchangedDiscoveryIsFree: Bool { true }

    /// A query without connections costs one point, however many aliases it holds; 50 keeps
    /// the answer small.
    public var commitsPerBatch: Int { 50 }

    /// Moved heads' details in one GraphQL query: `object(oid:)` once per hash, as aliases.
    public func commits(workspace: String, repository: String, hashes: [String]) async throws -> [String: ProviderCommit] {
        // Object ids go in as variables, never spliced into the query text.
        let wanted = Array(Set(hashes.map { $0.lowercased() }).filter { $0.count == 40 && $0.allSatisfy(\.isHexDigit) }.sorted().prefix(commitsPerBatch))
        guard !wanted.isEmpty else { return [:] }
        let declarations = wanted.indices.map { "$c\($0): GitObjectID!" }.joined(separator: ", ")
        let fields = wanted.indices.map { "c\($0): object(oid: $c\($0)) { ... on Commit { oid committedDate message author { name email } } }" }
            .joined(separator: "\n    ")
        let query = """
            query Heads($owner: String!, $name: String!, \(declarations)) {
              repository(owner: $owner, name: $name) {
                \(fields)
              }
            }
            """
        var variables: [String: Any] = ["owner": workspace, "name": repository]
        for (index, hash) in wanted.enumerated() { variables["c\(index)"] = hash }
        let data = try await graphQL(query, variables: variables, as: GitHubWire.ObjectsData.self)
        guard let objects = data.repository else {
            throw HTTPError.notFound(url: repoURL(workspace, repository), message: "Could not resolve to a Repository")
        }
        var result: [String: ProviderCommit] = [:]
        for case let object? in objects.values {
            guard let oid = object.oid?.lowercased() else { continue }
            result[oid] = ProviderCommit(hash: oid, date: object.committedDate.flatMap(ProviderDate.parse),
                                         author: GitHubWire.raw(name: object.author?.name, email: object.author?.email), message: object.message)
        }
        return result
    }

    public func branchHeads(cloneURL: String) async throws -> [String: String] {
        try await sender.branchHeads(cloneURL: cloneURL)
    }

    // MARK: Webhooks

    public var webhookDialect: any WebhookDialect { GitHubWebhookDialect() }

    public func hooks(workspace: String, repository: String) async throws -> [ProviderHook] {
        try await all(repoURL(workspace, repository) + "/hooks?per_page=100", as: GitHubWire.Hook.self).map(\.providerHook)
    }

    public func createHook(workspace: String, repository: String, url: String, secret: String, events: [String],
                           description: String) async throws -> ProviderHook {
        let body = try JSONSerialization.data(withJSONObject: [
            "name": "web", "active": true, "events": events,
            "config": ["url": url, "content_type": "json", "secret": secret, "insecure_ssl": "0"],
        ] as [String: Any])
        let response = try await send(repoURL(workspace, repository) + "/hooks", method: .post, json: body)
        var hook = try response.decode(GitHubWire.Hook.self).providerHook
        hook.hasSecret = true
        return hook
    }

    public func deleteHook(workspace: String, repository: String, id: String) async throws {
        _ = try await send(repoURL(workspace, repository) + "/hooks/\(Self.segment(id))", method: .delete)
    }
}
