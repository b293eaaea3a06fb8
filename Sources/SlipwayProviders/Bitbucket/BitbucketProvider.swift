import Foundation
import SlipwayHTTP

/// Bitbucket Cloud REST 2.0. Every list call asks for 100 items a page and a narrow `fields=`
/// list, and follows `next` exactly as given.
public struct BitbucketProvider: GitProvider, WorkspaceDetails, RepositoryDiscovery, CommitDetails, WebhookHosting, UserEmails {
    public let kind = ProviderKind.bitbucket
    public var apiURL: String
    public var webURL: String
    public var credential: ProviderCredential
    public var http: HTTPClient
    /// Budgets are kept per credential name ("account:7"); nil spends from no budget (linking).
    public var budgetCredential: String?
    /// For expiring (OAuth) tokens: asked for the credential before each request.
    public var credentialSource: (any CredentialSource)?

    /// The minimum a dashboard needs: read repositories and the account, manage webhooks.
    public static let minimumScopes = ["repository", "account", "webhook"]

    /// git's user name: `x-token-auth` for access and OAuth tokens, `x-bitbucket-api-token-auth`
    /// for Atlassian API tokens.
    @Sendable public static func gitUsername(for credential: ProviderCredential) -> String {
        switch credential {
        case .bearer: "x-token-auth"
        case .apiToken: "x-bitbucket-api-token-auth"
        case .none: ""
        }
    }

    /// Bitbucket Cloud in the registry.
    public static let descriptor = ProviderDescriptor(
        kind: .bitbucket, defaultAPIURL: "https://api.bitbucket.org/2.0", defaultWebURL: "https://bitbucket.org",
        restRequestsPerHour: 1000, gitRequestsPerHour: 60000,
        linkMethods: [.token, .apiToken, .oauthCode, .clientCredentials],
        minimumScopes: minimumScopes, requestedScopes: [],
        oauth: OAuthEndpoints(authorizePath: "/site/oauth2/authorize", tokenPath: "/site/oauth2/access_token"),
        gitUsername: gitUsername(for:), apiURLProblem: apiURLProblem,
        webLinks: WebLinks(workspace: { web, slug in "\(web)/\(WebLinks.escaped(slug))" },
                           branch: { repository, name in "\(repository)/branch/\(WebLinks.escaped(name))" },
                           commit: { repository, hash in "\(repository)/commits/\(hash)" }),
        webhookDialect: BitbucketWebhookDialect(),
        make: { connection in
            var provider = BitbucketProvider(apiURL: connection.apiURL, webURL: connection.webURL, credential: connection.credential,
                                             http: connection.http, budgetCredential: connection.budgetCredential)
            provider.credentialSource = connection.credentialSource
            return provider
        })

    /// Bitbucket meters with 429; a 403 that carries a rate limit's marks (a `Retry-After`, an
    /// exhausted `X-RateLimit-Remaining`, or says so) is one too, not lost access: a pause, never
    /// a deletion.
    @Sendable public static func isRateLimit(_ response: HTTPResponse) -> Bool {
        guard response.status == 403 else { return false }
        if response.headers["Retry-After"] != nil || response.headers["X-RateLimit-Remaining"] == "0" { return true }
        return HTTPError.providerMessage(response.body).lowercased().contains("rate limit")
    }

    /// The common headers, plus Bitbucket's `X-RateLimit-NearLimit` (true below 20 % left).
    @Sendable public static func rateLimitHeaders(_ headers: HTTPHeaders) -> RateLimitHeaders {
        var result = RateLimitHeaders.parse(headers)
        if let near = headers["X-RateLimit-NearLimit"] {
            result.nearLimit = near.trimmingCharacters(in: .whitespaces).lowercased() == "true"
        }
        return result
    }

    /// What is wrong with an `--api-url`, before any request: Bitbucket's REST base ends in `/2.0`.
    @Sendable public static func apiURLProblem(_ url: String) -> String? {
        var path = URLComponents(string: url)?.path ?? ""
        while path.hasSuffix("/") { path.removeLast() }
        guard !path.hasSuffix("/2.0") else { return nil }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        return "Bitbucket's REST base ends in /2.0 (e.g. https://api.bitbucket.org/2.0); did you mean \(base)/2.0?"
    }

    public init(apiURL: String = ProviderKind.bitbucket.defaultAPIURL, webURL: String = ProviderKind.bitbucket.defaultWebURL,
                credential: ProviderCredential, http: HTTPClient, budgetCredential: String? = nil) {
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.webURL = webURL.hasSuffix("/") ? String(webURL.dropLast()) : webURL
        self.credential = credential
        self.http = http
        self.budgetCredential = budgetCredential
    }

    // MARK: Requests

    /// How its requests go out (credential, budget, origins, Bitbucket's rate-limit shapes).
    var sender: ProviderSender {
        ProviderSender(apiURL: apiURL, webURL: webURL, credential: credential, http: http, budgetCredential: budgetCredential,
                       credentialSource: credentialSource, headers: [("Accept", "application/json")], gitUsername: Self.gitUsername(for:),
                       isRateLimit: Self.isRateLimit, rateLimitHeaders: Self.rateLimitHeaders)
    }

    private func send(_ url: String, kind: RequestKind = .rest, accept: String? = nil, method: HTTPMethod = .get,
                      json: Data? = nil) async throws -> HTTPResponse {
        try await sender.send(url, kind: kind, accept: accept, method: method, json: json)
    }

    private func get<T: Decodable>(_ url: String, as type: T.Type) async throws -> (T, HTTPResponse) {
        let response = try await send(url)
        return (try response.decode(type), response)
    }

    /// Every value of a paginated listing.
    private func all<T: Decodable>(_ url: String, as type: T.Type) async throws -> [T] {
        try await all(url) { response in
            let page = try response.decode(BitbucketWire.Page<T>.self)
            return (page.values, page.next)
        }
    }

    /// Every value of a paginated listing, each page read by `page`.
    private func all<T>(_ url: String, page: (HTTPResponse) throws -> (values: [T], next: String?)) async throws -> [T] {
        var values: [T] = []
        var next: String? = url
        var pages = 0
        while let current = next {
            let (items, following) = try page(try await send(current))
            values += items
            next = following
            pages += 1
            // A bogus `next` on the last page (a known Bitbucket bug) must not loop forever.
            if pages > 10_000 || next == current { break }
        }
        return values
    }

    static func segment(_ text: String) -> String {
        // Slugs are almost always plain already: no Foundation call for those.
        if text.utf8.allSatisfy({ (97...122).contains($0) || (65...90).contains($0) || (48...57).contains($0) || $0 == 45 || $0 == 46 || $0 == 95 || $0 == 126 }) {
            return text
        }
        return text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    static func query(_ items: [(String, String)]) -> String {
        var components = URLComponents()
        components.queryItems = items.map { URLQueryItem(name: $0.0, value: $0.1) }
        // URLComponents leaves "+" alone; Bitbucket reads it as a space.
        return "?" + (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
    }

    // MARK: GitProvider

    public func currentUser() async throws -> ProviderUser {
        let (user, response) = try await get(apiURL + "/user", as: BitbucketWire.User.self)
        let scopes = response.headers["X-OAuth-Scopes"].map {
            $0.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init).filter { !$0.isEmpty }
        }
        guard let id = user.uuid ?? user.accountID else {
            throw HTTPError.decoding(url: apiURL + "/user", expected: "a user with a uuid", excerpt: HTTPError.excerpt(response.body))
        }
        return ProviderUser(id: id, username: user.nickname ?? user.username ?? user.displayName ?? id,
                            displayName: user.displayName, scopes: scopes)
    }

    public var webhookDialect: any WebhookDialect { BitbucketWebhookDialect() }

    /// `/user/emails` lists confirmed and unconfirmed addresses: the primary one counts only once
    /// confirmed. Without the `email` scope (401/403) there is no address to show, and no error.
    public func primaryEmail() async throws -> String? {
        let url = apiURL + "/user/emails" + Self.query([("pagelen", "100")])
        do {
            let emails = try await all(url, as: BitbucketWire.Email.self)
            return emails.first { $0.isPrimary == true && $0.isConfirmed != false }?.email
        } catch HTTPError.unauthorized, HTTPError.forbidden {
            return nil
        }
    }

    public func workspaces() async throws -> [ProviderWorkspace] {
        let url = apiURL + "/user/workspaces" + Self.query([
            ("pagelen", "100"), ("fields", "values.administrator,values.workspace.slug,values.workspace.uuid,next"),
        ])
        do {
            return try await all(url, as: BitbucketWire.WorkspaceAccess.self).map {
                ProviderWorkspace(id: $0.workspace.uuid, slug: $0.workspace.slug, name: $0.workspace.name, isAdmin: $0.administrator ?? false)
            }
        } catch HTTPError.notFound {
            // Only where the current endpoint is missing: the deprecated listing.
            let old = apiURL + "/workspaces" + Self.query([("pagelen", "100"), ("fields", "values.uuid,values.slug,values.name,next")])
            return try await all(old, as: BitbucketWire.Workspace.self).map {
                ProviderWorkspace(id: $0.uuid, slug: $0.slug, name: $0.name, isAdmin: false)
            }
        }
    }

    public func workspace(_ slug: String) async throws -> ProviderWorkspace {
        let (w, _) = try await get(apiURL + "/workspaces/\(Self.segment(slug))" + Self.query([("fields", "uuid,slug,name")]),
                                   as: BitbucketWire.Workspace.self)
        return ProviderWorkspace(id: w.uuid, slug: w.slug, name: w.name, isAdmin: false)
    }

    static let repositoryFields = "values.uuid,values.slug,values.name,values.full_name,values.is_private,values.updated_on,"
        + "values.mainbranch.name,values.links.html.href,values.links.clone,next"

    public func repositories(in workspace: String) async throws -> [ProviderRepository] {
        let url = apiURL + "/repositories/\(Self.segment(workspace))" + Self.query([("pagelen", "100"), ("fields", Self.repositoryFields)])
        return try await all(url, as: BitbucketWire.Repository.self).compactMap { Self.repository($0, workspace: workspace) }
    }

    /// Repositories changed most recently first (discovery); one page.
    public func recentlyUpdatedRepositories(in workspace: String) async throws -> [ProviderRepository] {
        try await recentlyUpdatedRepositories(in: workspace, pagelen: 100)
    }

    public func recentlyUpdatedRepositories(in workspace: String, pagelen: Int) async throws -> [ProviderRepository] {
        let url = apiURL + "/repositories/\(Self.segment(workspace))"
            + Self.query([("pagelen", String(pagelen)), ("sort", "-updated_on"), ("fields", Self.repositoryFields)])
        let (page, _) = try await get(url, as: BitbucketWire.Page<BitbucketWire.Repository>.self)
        return page.values.compactMap { Self.repository($0, workspace: workspace) }
    }

    static func repository(_ r: BitbucketWire.Repository, workspace: String) -> ProviderRepository? {
        guard let slug = r.slug ?? r.fullName?.split(separator: "/").last.map(String.init) else { return nil }
        let https = r.links?.clone?.first { $0.name == "https" }?.href
        return ProviderRepository(id: r.uuid, slug: slug, name: r.name ?? slug, fullName: r.fullName ?? "\(workspace)/\(slug)",
                                  mainBranch: r.mainbranch?.name, isPrivate: r.isPrivate ?? true, updatedOn: r.updatedOn?.date,
                                  cloneURL: https.map(Self.stripUserInfo), webURL: r.links?.html?.href)
    }

    /// Clone links carry the user's name (`https://alice@bitbucket.org/…`); credentials go in headers instead.
    static func stripUserInfo(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.user = nil
        components.password = nil
        return components.string ?? url
    }

    public func adminRepositorySlugs(in workspace: String) async throws -> Set<String> {
        let url = apiURL + "/repositories/\(Self.segment(workspace))" + Self.query([("role", "admin"), ("pagelen", "100"), ("fields", "values.slug,next")])
        struct Slug: Decodable { var slug: String? }
        return Set(try await all(url, as: Slug.self).compactMap(\.slug))
    }

    static let commitFields = "hash,date,author.raw,message,parents.hash"

    /// What a branch head needs — hash, date, author, message; not its parents, which only a
    /// commit list uses — the same for every repository, so built once.
    static let branchesQuery = query([
        ("pagelen", "100"),
        ("fields", "values.name," + headFields.split(separator: ",").map { "values.target.\($0)" }.joined(separator: ",") + ",next"),
    ])
    static let headFields = "hash,date,author.raw,message"

    public func branches(workspace: String, repository: String) async throws -> [ProviderBranch] {
        let url = apiURL + "/repositories/\(Self.segment(workspace))/\(Self.segment(repository))/refs/branches" + Self.branchesQuery
        return try await all(url) { response in
            try response.read("Bitbucket branches") { reader in try BitbucketWire.readPage(&reader, value: BitbucketWire.readBranch) }
        }
    }

    public func commits(workspace: String, repository: String, revision: String, exclude: [String], limit: Int) async throws -> [ProviderCommit] {
        let fields = Self.commitFields.split(separator: ",").map { "values.\($0)" }.joined(separator: ",") + ",next"
        var items = [("pagelen", String(min(100, max(10, limit)))), ("fields", fields)]
        items += exclude.map { ("exclude", $0) }
        var next: String? = apiURL + "/repositories/\(Self.segment(workspace))/\(Self.segment(repository))/commits/\(Self.segment(revision))"
            + Self.query(items)
        var commits: [ProviderCommit] = []
        while let url = next, commits.count < limit {
            let page = try await send(url).read("Bitbucket commits") { reader in
                try BitbucketWire.readPage(&reader, value: BitbucketWire.readCommit)
            }
            commits += page.values
            next = page.next == url ? nil : page.next
        }
        return Array(commits.prefix(limit))
    }

    /// One commit's details (a head that moved, seen first through git).
    public func commit(workspace: String, repository: String, hash: String) async throws -> ProviderCommit {
        let url = apiURL + "/repositories/\(Self.segment(workspace))/\(Self.segment(repository))/commit/\(Self.segment(hash))"
            + Self.query([("fields", Self.commitFields)])
        return try await get(url, as: BitbucketWire.Commit.self).0.providerCommit
    }

    // MARK: Webhooks

    struct HookWire: Decodable {
        var uuid: String
        var url: String?
        var events: [String]?
        var active: Bool?
        var description: String?
        var secret_set: Bool?

        var hook: ProviderHook {
            ProviderHook(id: uuid, url: url ?? "", events: events ?? [], active: active ?? true, description: description,
                         hasSecret: secret_set ?? false)
        }
    }

    private func hooksURL(_ workspace: String, _ repository: String) -> String {
        apiURL + "/repositories/\(Self.segment(workspace))/\(Self.segment(repository))/hooks"
    }

    public func hooks(workspace: String, repository: String) async throws -> [ProviderHook] {
        try await all(hooksURL(workspace, repository) + Self.query([("pagelen", "100")]), as: HookWire.self).map(\.hook)
    }

    public func createHook(workspace: String, repository: String, url: String, secret: String, events: [String],
                           description: String) async throws -> ProviderHook {
        let body = try JSONSerialization.data(withJSONObject: ["description": description, "url": url, "active": true,
                                                               "secret": secret, "events": events])
        let response = try await send(hooksURL(workspace, repository), method: .post, json: body)
        return try response.decode(HookWire.self).hook
    }

    public func deleteHook(workspace: String, repository: String, id: String) async throws {
        _ = try await send(hooksURL(workspace, repository) + "/" + Self.segment(id), method: .delete)
    }

    public func branchHeads(cloneURL: String) async throws -> [String: String] {
        try await sender.branchHeads(cloneURL: cloneURL)
    }
}
