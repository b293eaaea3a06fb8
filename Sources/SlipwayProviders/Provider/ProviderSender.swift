import Foundation
import SlipwayHTTP

/// How an adapter's requests go out, the same for every provider: its credential (as git's Basic
/// credentials for smart HTTP), renewed once after a 401 when it expires; the budget of its
/// account on the request's host; the origins the credential may go to; how the provider's
/// answers say "rate limited". The adapter names its headers and its URLs.
struct ProviderSender: Sendable {
    var apiURL: String
    var webURL: String
    var credential: ProviderCredential
    var http: HTTPClient
    var budgetCredential: String?
    var credentialSource: (any CredentialSource)?
    /// Sent with every request (`Accept`, an API version).
    var headers: [(String, String)]
    var gitUsername: @Sendable (ProviderCredential) -> String
    var isRateLimit: @Sendable (HTTPResponse) -> Bool
    var rateLimitHeaders: (@Sendable (HTTPHeaders) -> RateLimitHeaders)? = nil

    /// The token goes to the linked API and web origins only (clone URLs on them included).
    var credentialOrigins: Set<Origin> { Set([Origin(url: apiURL), Origin(url: webURL)].compactMap { $0 }) }

    private func request(_ url: String, kind: RequestKind, credential: ProviderCredential) -> HTTPRequest {
        var fields = HTTPHeaders(headers)
        if credential != .none {
            fields.set("Authorization", kind == .git ? credential.gitAuthorizationHeader(username: gitUsername(credential)) : credential.authorizationHeader)
        }
        let host = URLPolicy.authority(of: url) ?? URLPolicy.authority(of: apiURL) ?? apiURL
        let budget = budgetCredential.map { BudgetKey(host: host, credential: $0, kind: kind) }
        // The lane and the deadline come with the call (RequestContext), not from the adapter.
        var request = HTTPRequest(url: url, headers: fields, budget: budget, lane: RequestContext.current.lane)
        request.isRateLimit = isRateLimit
        request.rateLimitHeaders = rateLimitHeaders
        request.credentialOrigins = credentialOrigins
        return request
    }

    /// Sends with the current credential; an expiring credential that gets a 401 is renewed
    /// once and the request sent again.
    func send(_ url: String, kind: RequestKind = .rest, accept: String? = nil, method: HTTPMethod = .get, json: Data? = nil,
              conditional: ConditionalRequest? = nil) async throws -> HTTPResponse {
        func build(_ credential: ProviderCredential) -> HTTPRequest {
            var req = request(url, kind: kind, credential: credential)
            if let accept { req.headers.set("Accept", accept) }
            req.method = method
            req.conditional = conditional
            if let json {
                req.body = json
                req.headers.set("Content-Type", "application/json")
            }
            return req
        }
        guard let source = credentialSource else { return try await http.send(build(credential)) }
        let current = try await source.credential()
        do {
            return try await http.send(build(current))
        } catch HTTPError.unauthorized {
            let renewed = try await source.credentialAfterRejection(current)
            return try await http.send(build(renewed))
        }
    }

    /// Every item of a JSON-array listing, following the `Link: <…>; rel="next"` target exactly
    /// as given (GitHub's and GitLab's pages), up to `limit` items.
    func all<T: Decodable>(_ url: String, as type: T.Type, limit: Int = .max) async throws -> [T] {
        var items: [T] = []
        var next: String? = url
        var pages = 0
        while let current = next, items.count < limit {
            let response = try await send(current)
            items += try response.decode([T].self)
            next = NextPage.linkHeader(response)
            pages += 1
            if pages > 100_000 || next == current { break }
        }
        return items
    }

    /// Branch heads from git's refs advertisement at a clone URL (the git budget, not REST).
    func branchHeads(cloneURL: String) async throws -> [String: String] {
        let base = cloneURL.hasSuffix("/") ? String(cloneURL.dropLast()) : cloneURL
        let response = try await send(base + "/info/refs?service=git-upload-pack", kind: .git, accept: "application/x-git-upload-pack-advertisement")
        do {
            return try RefsAdvertisement.parse(response.body).branches
        } catch {
            throw HTTPError.decoding(url: base + "/info/refs", expected: "a git refs advertisement", excerpt: error.description)
        }
    }
}
