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
        #expect(ProviderRegistry.descriptor(for: .github) == nil, "not linkable in this build")
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
