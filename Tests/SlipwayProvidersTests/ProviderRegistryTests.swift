import Foundation
import Testing
import SlipwayHTTP
@testable import SlipwayProviders

/// The registry answers what the engine, the linker and the CLI used to take from the Bitbucket
/// adapter's type: defaults, link methods, scopes, git user names, OAuth endpoints, the adapter.
@Suite("Provider registry")
struct ProviderRegistryTests {
    @Test("Bitbucket's entry: defaults, link methods, minimum scopes, OAuth endpoints, git user names")
    func bitbucket() throws {
        let entry = try #require(ProviderRegistry.descriptor(for: .bitbucket))
        #expect(entry.defaultAPIURL == "https://api.bitbucket.org/2.0" && entry.defaultWebURL == "https://bitbucket.org")
        #expect(entry.restRequestsPerHour == 1000 && entry.gitRequestsPerHour == 60000)
        #expect(entry.linkMethods == [.token, .apiToken, .oauthCode, .clientCredentials])
        #expect(entry.minimumScopes == ["repository", "account", "webhook"])
        #expect(entry.oauth?.tokenPath == "/site/oauth2/access_token")
        #expect(entry.gitUsername(.bearer("t")) == "x-token-auth")
        #expect(entry.gitUsername(.apiToken(email: "a@b", token: "t")) == "x-bitbucket-api-token-auth")
        #expect(entry.apiURLProblem("https://api.bitbucket.org") != nil && entry.apiURLProblem("https://api.bitbucket.org/2.0") == nil)
        let git = try #require(ProviderRegistry.descriptor(for: .git))
        #expect(git.linkMethods.isEmpty && git.webhookDialect == nil && git.gitRequestsPerHour == 600, "public Git is added by URL, not linked")
    }

    @Test("GitHub's entry: defaults, token, device and code linking, classic scopes, git user name, web pages, GraphQL's URL, the dialect")
    func github() throws {
        let entry = try #require(ProviderRegistry.descriptor(for: .github))
        #expect(entry.defaultAPIURL == "https://api.github.com" && entry.defaultWebURL == "https://github.com")
        #expect(entry.restRequestsPerHour == 5000 && entry.gitRequestsPerHour == 5000)
        #expect(entry.linkMethods == [.token, .device, .oauthCode] && entry.minimumScopes == ["repo", "read:org", "user:email"])
        #expect(entry.publicOnlyScopes == ["public_repo", "read:org", "admin:repo_hook", "user:email"])
        #expect(entry.oauth?.deviceAuthorizationPath == "/login/device/code" && entry.oauth?.clientAuthentication == .form)
        #expect(entry.gitUsername(.bearer("t")) == "x-access-token")
        #expect(entry.apiURLProblem("https://api.github.com") == nil && entry.apiURLProblem("https://ghe.example.com/api/v3") == nil)
        #expect(entry.apiURLProblem("https://api.github.com/v3") != nil)
        #expect(GitHubProvider.graphQLURL(apiURL: "https://api.github.com") == "https://api.github.com/graphql")
        #expect(GitHubProvider.graphQLURL(apiURL: "https://ghe.example.com/api/v3") == "https://ghe.example.com/api/graphql")
        #expect(entry.webLinks.branch("https://github.com/o/r", "feature/x y") == "https://github.com/o/r/tree/feature/x%20y")
        #expect(entry.webLinks.commit("https://github.com/o/r", "abc") == "https://github.com/o/r/commit/abc")
        #expect(entry.webhookDialect?.route == "/webhooks/github")
        #expect(ProviderRegistry.webhookDialects.map(\.route) == ["/webhooks/bitbucket", "/webhooks/github", "/webhooks/gitlab"])
    }

    @Test("GitHub's rate limits in every shape are rate limits: 403/429 with remaining 0, secondary limits, GraphQL's 200 errors")
    func githubRateLimits() {
        func response(_ status: Int, _ headers: [(String, String)] = [], body: String = "", url: String = "https://api.github.com/user") -> HTTPResponse {
            HTTPResponse(status: status, headers: HTTPHeaders(headers), body: Data(body.utf8), url: url)
        }
        #expect(GitHubProvider.isRateLimit(response(403, [("x-ratelimit-remaining", "0")], body: #"{"message":"API rate limit exceeded for user ID 1."}"#)))
        #expect(GitHubProvider.isRateLimit(response(429, [("x-ratelimit-remaining", "0")])))
        #expect(GitHubProvider.isRateLimit(response(403, body: #"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#)))
        #expect(GitHubProvider.isRateLimit(response(403, [("Retry-After", "30")])))
        #expect(!GitHubProvider.isRateLimit(response(403, body: #"{"message":"Resource not accessible by personal access token"}"#)))
        let graphql = "https://api.github.com/graphql"
        #expect(GitHubProvider.isRateLimit(response(200, [("x-ratelimit-resource", "graphql")], body: #"{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded"}]}"#, url: graphql)))
        #expect(GitHubProvider.isRateLimit(response(200, body: #"{"errors":[{"type":"RATE_LIMIT","code":"graphql_rate_limit","message":"API rate limit already exceeded for user ID xxxxx."}]}"#, url: graphql)))
        #expect(!GitHubProvider.isRateLimit(response(200, body: #"{"data":{"repository":null},"errors":[{"type":"NOT_FOUND"}]}"#, url: graphql)))
        #expect(!GitHubProvider.isRateLimit(response(200, body: #"{"data":{}}"#)))
    }

    @Test("Bitbucket's own rate-limit header (X-RateLimit-NearLimit) is read by its adapter, with the common ones")
    func nearLimit() {
        let headers = HTTPHeaders([("X-RateLimit-Limit", "1000"), ("X-RateLimit-NearLimit", "true")])
        #expect(BitbucketProvider.rateLimitHeaders(headers) == RateLimitHeaders(limit: 1000, nearLimit: true))
        #expect(BitbucketProvider.rateLimitHeaders(HTTPHeaders([("X-RateLimit-NearLimit", "false")])) == RateLimitHeaders(nearLimit: false))
    }

    @Test("the adapter it makes has Bitbucket's capabilities, and git's Basic credentials use its user names")
    func adapter() throws {
        let entry = try #require(ProviderRegistry.descriptor(for: .bitbucket))
        let adapter = entry.make(ProviderConnection(apiURL: entry.defaultAPIURL, webURL: entry.defaultWebURL, credential: .bearer("t"),
                                                    http: HTTPClient(transport: CurlTransport())))
        #expect(adapter.kind == .bitbucket)
        #expect(adapter is any RepositoryDiscovery && adapter is any CommitDetails && adapter is any WebhookHosting && adapter is any WorkspaceDetails)
        let header = ProviderCredential.bearer("s3cret").gitAuthorizationHeader(username: entry.gitUsername(.bearer("s3cret")))
        #expect(header == "Basic " + Data("x-token-auth:s3cret".utf8).base64EncodedString())
    }

    @Test("lane and deadline travel with the call: nested contexts override, and leave the outer one as it was")
    func requestContext() async {
        #expect(RequestContext.current == RequestContext())
        let deadline = Date(timeIntervalSince1970: 1_800_000_000)
        await RequestContext.run(lane: .interactive, deadline: deadline) {
            #expect(RequestContext.current.lane == .interactive && RequestContext.current.deadline == deadline)
            await RequestContext.run(lane: .background) {
                #expect(RequestContext.current.lane == .background && RequestContext.current.deadline == nil)
            }
            // Child tasks inherit it.
            await withTaskGroup(of: RequestLane.self) { group in
                group.addTask { RequestContext.current.lane }
                for await lane in group { #expect(lane == .interactive) }
            }
            #expect(RequestContext.current.lane == .interactive)
        }
        #expect(RequestContext.current.lane == .background)
    }
}
