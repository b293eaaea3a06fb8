import Foundation
import SlipwayHTTP

/// GitLab (gitlab.com or a self-managed instance's `…/api/v4`). Workspaces are namespaces by full
/// path — the user's own and every group and subgroup its projects live in (`acme/platform/infra`)
/// — read from the one listing of the projects the user is a member of (keyset pages of 100), so
/// they cost no request of their own; each project's branches come a page of 100 at a time with
/// their head commits inline. The REST limit is per minute (`RateLimit-*`, a text/plain 429
/// `Retry later`); git's refs advertisement sweeps under the user name `oauth2`.
public struct GitLabProvider: GitProvider, WorkspaceDetails, RepositoryDiscovery, CommitDetails, WebhookHosting, UserEmails, AccessReview {
    public let kind = ProviderKind.gitlab
    public var apiURL: String
    public var webURL: String
    public var credential: ProviderCredential
    public var http: HTTPClient
    public var budgetCredential: String?
    public var credentialSource: (any CredentialSource)?
    /// What this instance's listing brought (one sync cycle's worth).
    let listing = GitLabListing()

    /// Reading everything a dashboard shows: the API (GET), git over HTTP, the user's profile.
    /// Creating hooks needs `api`, which a read-only token lacks (a warning says so).
    public static let minimumScopes = ["read_api", "read_repository", "read_user"]
    /// A self-managed instance's typical authenticated limit: 300 a minute.
    public static let requestsPerMinute = 300
    /// GitLab.com documents no separate limit for git over HTTP (self-managed instances leave
    /// theirs off by default): Slipway's default, as Bitbucket's (documented in the README).
    public static let gitRequestsPerHour = 60_000

    @Sendable public static func gitUsername(for credential: ProviderCredential) -> String { "oauth2" }

    public static let descriptor = ProviderDescriptor(
        kind: .gitlab, defaultAPIURL: "https://gitlab.com/api/v4", defaultWebURL: "https://gitlab.com",
        restRequestsPerHour: requestsPerMinute * 60, gitRequestsPerHour: gitRequestsPerHour, restRequestsPerMinute: requestsPerMinute,
        // GitLab meters by the minute, not by concurrency: more requests at once finish a listing sooner.
        maxInFlight: 8,
        linkMethods: [.token, .device, .oauthCode],
        minimumScopes: minimumScopes, requestedScopes: ["read_api", "read_repository", "read_user"],
        webhookScopes: ["api"], codeFlowNeedsSecret: false,
        oauth: OAuthEndpoints(authorizePath: "/oauth/authorize", tokenPath: "/oauth/token", deviceAuthorizationPath: "/oauth/authorize_device",
                              clientAuthentication: .form),
        gitUsername: gitUsername(for:), apiURLProblem: apiURLProblem,
        webLinks: WebLinks(workspace: { web, slug in "\(web)/\(slug.split(separator: "/").map { WebLinks.escaped(String($0)) }.joined(separator: "/"))" },
                           branch: { repository, name in "\(repository)/-/tree/\(WebLinks.escaped(name))" },
                           commit: { repository, hash in "\(repository)/-/commit/\(hash)" }),
        webhookDialect: GitLabWebhookDialect(),
        make: { connection in
            var provider = GitLabProvider(apiURL: connection.apiURL, webURL: connection.webURL, credential: connection.credential,
                                          http: connection.http, budgetCredential: connection.budgetCredential)
            provider.credentialSource = connection.credentialSource
            return provider
        })

    /// GitLab's REST base ends in `/api/v4`.
    @Sendable public static func apiURLProblem(_ url: String) -> String? {
        var path = URLComponents(string: url)?.path ?? ""
        while path.hasSuffix("/") { path.removeLast() }
        return path.hasSuffix("/api/v4") ? nil : "GitLab's REST base is https://gitlab.com/api/v4 or a self-managed instance's https://HOST/api/v4"
    }

    /// GitLab says "rate limited" with 429 only (text/plain `Retry later`, `Retry-After`).
    @Sendable public static func isRateLimit(_ response: HTTPResponse) -> Bool { response.status == 429 }

    /// `RateLimit-*` count requests a minute.
    @Sendable public static func rateLimitHeaders(_ headers: HTTPHeaders) -> RateLimitHeaders {
        var result = RateLimitHeaders.parse(headers)
        result.window = .minute
        return result
    }

    public init(apiURL: String = "https://gitlab.com/api/v4", webURL: String = "https://gitlab.com", credential: ProviderCredential,
                http: HTTPClient, budgetCredential: String? = nil) {
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.webURL = webURL.hasSuffix("/") ? String(webURL.dropLast()) : webURL
        self.credential = credential
        self.http = http
        self.budgetCredential = budgetCredential
    }

    // MARK: Requests

    var sender: ProviderSender {
        ProviderSender(apiURL: apiURL, webURL: webURL, credential: credential, http: http, budgetCredential: budgetCredential,
                       credentialSource: credentialSource, headers: [("Accept", "application/json")],
                       gitUsername: Self.gitUsername(for:), isRateLimit: Self.isRateLimit, rateLimitHeaders: Self.rateLimitHeaders)
    }

    private func send(_ url: String, kind: RequestKind = .rest, accept: String? = nil, method: HTTPMethod = .get, json: Data? = nil) async throws -> HTTPResponse {
        try await sender.send(url, kind: kind, accept: accept, method: method, json: json)
    }

    private func all<T: Decodable>(_ url: String, as type: T.Type, limit: Int = .max) async throws -> [T] {
        try await sender.all(url, as: type, limit: limit)
    }

    /// A project's `:id` as its URL-encoded full path (`acme%2Fplatform%2Fapi`).
    static func projectID(_ workspace: String, _ repository: String) -> String {
        "\(workspace)/\(repository)".addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? repository
    }

    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    private func projectURL(_ workspace: String, _ repository: String) -> String {
        "\(apiURL)/projects/\(Self.projectID(workspace, repository))"
    }

    // MARK: The account

    public func currentUser() async throws -> ProviderUser {
        let user = try await send(apiURL + "/user").decode(GitLabWire.User.self)
        // A personal (or group, or project) token says what it may do; an OAuth token has no such page.
        let scopes = try? await send(apiURL + "/personal_access_tokens/self").decode(GitLabWire.TokenSelf.self).scopes
        return ProviderUser(id: String(user.id), username: user.username, displayName: user.name, scopes: scopes ?? nil)
    }

    /// Reading needs only `read_*` scopes; installing hooks needs `api`, which the least-privilege
    /// token leaves out: said once, at link time, with what it costs.
    public func accessWarnings(for user: ProviderUser) async -> [String] {
        guard let scopes = user.scopes, !scopes.contains("api") else { return [] }
        return ["the token lacks the api scope, so Slipway cannot install webhooks (pushes arrive by polling); everything else works. "
                + "For hooks, use a token with api, or link by --device or --oauth with --webhooks"]
    }

    /// `/user`'s `email` (the user's own primary address; the public one where it is not given).
    public func primaryEmail() async throws -> String? {
        let user = try await send(apiURL + "/user").decode(GitLabWire.User.self)
        return [user.email, user.public_email].compactMap { $0 }.first { !$0.isEmpty }
    }

    // MARK: The listing

    /// Every project the user is a member of, once per instance (concurrent callers share it):
    /// keyset pages by id, so nothing is skipped past offset pagination's limits.
    func listed() async throws -> [GitLabWire.Project] {
        try await listing.projects.value {
            try await all(apiURL + "/projects?membership=true&per_page=100&pagination=keyset&order_by=id&sort=asc", as: GitLabWire.Project.self)
        }
    }

    /// The user's namespace first, then every group and subgroup its projects live in, by full path.
    public func workspaces() async throws -> [ProviderWorkspace] {
        let projects = try await listed()
        var seen: Set<String> = []
        var result: [ProviderWorkspace] = []
        // The user's own namespace is the one of kind `user`; GitLab names it by the username.
        for project in projects where project.namespace.kind == "user" && seen.insert(project.namespace.full_path).inserted {
            result.append(ProviderWorkspace(id: project.namespace.id.map(String.init), slug: project.namespace.full_path, name: project.namespace.name, isAdmin: true))
        }
        for project in projects.sorted(by: { $0.namespace.full_path < $1.namespace.full_path }) where seen.insert(project.namespace.full_path).inserted {
            result.append(ProviderWorkspace(id: project.namespace.id.map(String.init), slug: project.namespace.full_path, name: project.namespace.name,
                                            isAdmin: false))
        }
        return result
    }

    public func workspace(_ slug: String) async throws -> ProviderWorkspace {
        let namespace = try await listed().first { $0.namespace.full_path == slug }?.namespace
        return ProviderWorkspace(id: namespace?.id.map(String.init), slug: slug, name: namespace?.name ?? slug, isAdmin: namespace?.kind == "user")
    }

    public func repositories(in workspace: String) async throws -> [ProviderRepository] {
        try await listed().filter { $0.namespace.full_path == workspace }.map(Self.repository)
    }

    /// Webhooks need maintainer (40) or above.
    public func adminRepositorySlugs(in workspace: String) async throws -> Set<String> {
        Set(try await listed().filter { $0.namespace.full_path == workspace && ($0.permissions?.level ?? 0) >= 40 }.map(\.path))
    }

    static func repository(_ p: GitLabWire.Project) -> ProviderRepository {
        ProviderRepository(id: String(p.id), slug: p.path, name: p.name, fullName: p.path_with_namespace, mainBranch: p.default_branch,
                           isPrivate: p.visibility != "public", updatedOn: p.last_activity_at.flatMap(ProviderDate.parse),
                           cloneURL: p.http_url_to_repo, webURL: p.web_url)
    }

    /// A page of 100 branches, each with its head commit's details inline.
    public func branches(workspace: String, repository: String) async throws -> [ProviderBranch] {
        try await all(projectURL(workspace, repository) + "/repository/branches?per_page=100", as: GitLabWire.Branch.self).compactMap { branch in
            branch.commit.map { ProviderBranch(name: branch.name, head: $0.providerCommit) }
        }
    }

    // MARK: Discovery, commits

    /// The most recently active projects, across every namespace (one page, shared by the
    /// workspaces asked). `last_activity_at` may lag a push by up to an hour: the sweep still
    /// covers every project.
    public func recentlyUpdatedRepositories(in workspace: String) async throws -> [ProviderRepository] {
        let recent = try await listing.recent.value {
            try await send(apiURL + "/projects?membership=true&order_by=last_activity_at&sort=desc&per_page=100").decode([GitLabWire.Project].self)
        }
        return recent.filter { $0.namespace.full_path == workspace }.map(Self.repository)
    }

    public var discoveryCoversEveryWorkspace: Bool { true }

    /// New commits: compared with the stored head where there is one, else the branch's history.
    public func commits(workspace: String, repository: String, revision: String, exclude: [String], limit: Int) async throws -> [ProviderCommit] {
        if let base = exclude.first {
            do {
                let url = projectURL(workspace, repository) + "/repository/compare?from=\(Self.segment(base))&to=\(Self.segment(revision))"
                let commits = try await send(url).decode(GitLabWire.Compare.self).commits.reversed().map(\.providerCommit)
                return Array(commits.prefix(limit))
            } catch HTTPError.notFound {
                // The stored head is gone (a forced push): the history alone.
            }
        }
        let url = projectURL(workspace, repository) + "/repository/commits?ref_name=\(Self.segment(revision))&per_page=\(min(100, max(1, limit)))"
        let excluded = Set(exclude)
        var result: [ProviderCommit] = []
        for commit in try await send(url).decode([GitLabWire.Commit].self).map(\.providerCommit) {
            if excluded.contains(commit.hash) { break }
            result.append(commit)
        }
        return Array(result.prefix(limit))
    }

    public func commit(workspace: String, repository: String, hash: String) async throws -> ProviderCommit {
        try await send(projectURL(workspace, repository) + "/repository/commits/\(Self.segment(hash))").decode(GitLabWire.Commit.self).providerCommit
    }

    public func branchHeads(cloneURL: String) async throws -> [String: String] {
        try await sender.branchHeads(cloneURL: cloneURL)
    }

    // MARK: Webhooks

    public var webhookDialect: any WebhookDialect { GitLabWebhookDialect() }

    public func hooks(workspace: String, repository: String) async throws -> [ProviderHook] {
        try await all(projectURL(workspace, repository) + "/hooks?per_page=100", as: GitLabWire.Hook.self).map(\.providerHook)
    }

    /// A project hook on push events; `token` comes back in every delivery's `X-Gitlab-Token`, and
    /// the `signing_token` derived from the same secret signs them where GitLab (19.0+) takes one.
    public func createHook(workspace: String, repository: String, url: String, secret: String, events: [String],
                           description: String) async throws -> ProviderHook {
        let body = try JSONSerialization.data(withJSONObject: [
            "url": url, "name": description, "description": description, "push_events": events.contains("push_events"),
            "tag_push_events": false, "merge_requests_events": false, "token": secret,
            "signing_token": GitLabWebhookDialect.signingToken(for: secret), "enable_ssl_verification": url.hasPrefix("https://"),
        ] as [String: Any])
        var hook = try await send(projectURL(workspace, repository) + "/hooks", method: .post, json: body).decode(GitLabWire.Hook.self).providerHook
        hook.hasSecret = true
        return hook
    }

    public func deleteHook(workspace: String, repository: String, id: String) async throws {
        _ = try await send(projectURL(workspace, repository) + "/hooks/\(Self.segment(id))", method: .delete)
    }
}

/// One adapter instance's listings: each fetched once however many ask at the same time.
struct GitLabListing: Sendable {
    let projects = FetchedOnce<[GitLabWire.Project]>()
    let recent = FetchedOnce<[GitLabWire.Project]>()
}
