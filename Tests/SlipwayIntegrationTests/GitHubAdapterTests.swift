import Foundation
import Testing
import SlipwayHTTP
import SlipwayProviders
import SlipwaySandbox

/// libcurl, keeping each request's headers and each answer's status.
final class RecordingTransport: HTTPTransport, @unchecked Sendable {
    let inner = CurlTransport()
    private let lock = NSLock()
    private var sent: [HTTPHeaders] = []
    private var seen: [Int] = []
    var headers: [HTTPHeaders] { lock.withLock { sent } }
    var statuses: [Int] { lock.withLock { seen } }

    func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { sent.append(request.headers) }
        let response = try await inner.perform(request)
        lock.withLock { seen.append(response.status) }
        return response
    }
}

/// GitHub's adapter over real loopback HTTP (libcurl) against the sandbox's GitHub personality.

@Suite("GitHub adapter", .timeLimit(.minutes(2)))
struct GitHubAdapterTests {
    static func start() async throws -> SandboxServer {
        var options = SandboxOptions()
        options.seed = 31
        options.workspaces = 4
        options.reposPerWorkspace = 3
        options.branchesPerRepo = 3
        options.largeRepositories = false
        options.personalities = [.github]
        return try await SandboxServer.start(options: options)
    }

    func provider(_ server: SandboxServer, http: HTTPClient) -> GitHubProvider {
        GitHubProvider(apiURL: server.github.apiURL, webURL: server.github.webURL, credential: .bearer(server.service.github.classicToken),
                       http: http, budgetCredential: "account:1")
    }

    func restRequests(_ server: SandboxServer) -> Int { Self.requests(server, kind: "rest") }

    /// The sandbox's own count of one kind of request (`rest`, `graphql`, `git`).
    static func requests(_ server: SandboxServer, kind: String) -> Int {
        let stats = server.service.respond(method: "GET", url: server.github.origin + "/_sandbox/stats", headers: [:], body: Data(), as: .github)
        return ((try? JSONSerialization.jsonObject(with: stats.body)) as? [String: Any])
            .flatMap { ($0["requests_by_kind"] as? [String: Int])?[kind] } ?? 0
    }

    @Test("discovery asks with the last ETag: an unchanged listing is a 304 that stands for the last one; a push changes it")
    func discoveryIsConditional() async throws {
        let server = try await Self.start()
        defer { Task { await server.stop() } }
        let transport = RecordingTransport()
        defer { transport.inner.shutdown() }
        let http = HTTPClient(transport: transport)
        let first = try await provider(server, http: http).recentlyUpdatedRepositories(in: "acme-corp")
        #expect(first.count == 3 && first.allSatisfy { $0.fullName.hasPrefix("acme-corp/") && $0.cloneURL != nil })
        // A new adapter (the next cycle) on the same client: the same answer, by a 304.
        let again = try await provider(server, http: http).recentlyUpdatedRepositories(in: "acme-corp")
        #expect(again == first)
        let name = try #require(server.service.repositoryNames(on: .github).first { $0.hasPrefix("acme-corp/") && $0 != first.first?.fullName })
        _ = try #require(server.service.push(repository: name, on: .github))
        let moved = try await provider(server, http: http).recentlyUpdatedRepositories(in: "acme-corp")
        #expect(moved.first?.fullName == name)
        #expect(restRequests(server) == 3 && transport.statuses == [200, 304, 200])
    }

    @Test("the listing is fetched once for every owner and handed out once; a later ask for branches is a fresh query")
    func listingOnce() async throws {
        let server = try await Self.start()
        defer { Task { await server.stop() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let github = provider(server, http: HTTPClient(transport: transport))
        async let owners = github.workspaces()
        async let again = github.workspaces()
        let (listed, second) = try await (owners, again)
        #expect(listed == second && listed.map(\.slug) == ["sandbox-user", "acme-corp", "globex", "octo-friend"])
        #expect(listed.first?.isAdmin == true)
        let repositories = try await github.repositories(in: "globex")
        #expect(repositories.map(\.fullName).sorted() == server.service.repositoryNames(on: .github).filter { $0.hasPrefix("globex/") })
        let slug = try #require(repositories.first?.slug)
        let heads = server.service.branches(workspace: "globex", repository: slug, on: .github)
        #expect(Dictionary(uniqueKeysWithValues: try await github.branches(workspace: "globex", repository: slug).map { ($0.name, $0.head.hash) }) == heads)
        #expect(Dictionary(uniqueKeysWithValues: try await github.branches(workspace: "globex", repository: slug).map { ($0.name, $0.head.hash) }) == heads)
        await #expect(throws: HTTPError.self) { _ = try await github.branches(workspace: "globex", repository: "gone") }
        #expect(try await github.branchHeads(cloneURL: try #require(repositories.first?.cloneURL)) == heads)
    }

    func requests(_ server: SandboxServer, kind: String) -> Int {
        let stats = server.service.respond(method: "GET", url: server.github.origin + "/_sandbox/stats", headers: [:], body: Data(), as: .github)
        return ((try? JSONSerialization.jsonObject(with: stats.body)) as? [String: Any])
            .flatMap { ($0["requests_by_kind"] as? [String: Int])?[kind] } ?? 0
    }

    @Test("moved heads' details come in one GraphQL query, an alias per commit; unknown commits are left out")
    func batchedDetails() async throws {
        let server = try await Self.start()
        defer { Task { await server.stop() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let github = provider(server, http: HTTPClient(transport: transport))
        let name = try #require(server.service.repositoryNames(on: .github).first { $0.hasPrefix("globex/") })
        let slug = String(name.split(separator: "/")[1])
        // Two pushes, so heads that moved since the world began.
        _ = try #require(server.service.push(repository: name, on: .github))
        _ = try #require(server.service.push(repository: name, on: .github))
        let heads = server.service.branches(workspace: "globex", repository: slug, on: .github)
        let unknown = String(repeating: "0", count: 40)
        let before = (graphql: requests(server, kind: "graphql"), rest: requests(server, kind: "rest"))
        let details = try await github.commits(workspace: "globex", repository: slug, hashes: Array(Set(heads.values)) + [unknown, "not-a-hash"])
        #expect(Set(details.keys) == Set(heads.values))
        for commit in details.values {
            #expect(commit.date != nil && commit.author?.contains("<") == true && commit.message?.isEmpty == false)
        }
        // The same as REST says, one request instead of one each.
        let hash = try #require(heads.values.first)
        #expect(requests(server, kind: "graphql") - before.graphql == 1 && requests(server, kind: "rest") == before.rest)
        let single = try await github.commit(workspace: "globex", repository: slug, hash: hash)
        #expect(details[hash]?.date == single.date && details[hash]?.author == single.author)
        await #expect(throws: HTTPError.self) { _ = try await github.commits(workspace: "globex", repository: "gone", hashes: [hash]) }
    }
}

@Suite("GitHub listing, owner by owner", .timeLimit(.minutes(2)))
struct GitHubOwnerListingTests {
    func graphQLRequests(_ server: SandboxServer) -> Int { GitHubAdapterTests.requests(server, kind: "graphql") }

    @Test("past 100 repositories each owner's pages are a chain of their own, walked side by side: every repository once, in as many queries as one chain would take, and a small account is one query")
    func ownerChains() async throws {
        var options = SandboxOptions()
        options.seed = 32
        options.workspaces = 5
        options.reposPerWorkspace = 130
        options.branchesPerRepo = 2
        options.largeRepositories = false
        options.personalities = [.github]
        let server = try await SandboxServer.start(options: options)
        defer { Task { await server.stop() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let github = GitHubProvider(apiURL: server.github.apiURL, webURL: server.github.webURL, credential: .bearer(server.service.github.classicToken),
                                    http: HTTPClient(transport: transport), budgetCredential: "account:1")
        let owners = try await github.workspaces()
        var names: [String] = []
        for owner in owners { names += try await github.repositories(in: owner.slug).map(\.fullName) }
        #expect(names.count == server.service.summary.repositories && Set(names).count == names.count, "\(names.count) of \(server.service.summary.repositories)")
        #expect(try await github.branches(workspace: owners[0].slug, repository: try #require(github.repositories(in: owners[0].slug).first).slug).count == 2)
        // The first page, then each owner's 130 in two pages: no more than 1 + 2 per owner.
        let asked = graphQLRequests(server)
        #expect(asked <= 1 + 2 * owners.count, "\(asked) queries for \(owners.count) owners")

        var small = options
        small.reposPerWorkspace = 3
        let smallServer = try await SandboxServer.start(options: small)
        defer { Task { await smallServer.stop() } }
        let one = GitHubProvider(apiURL: smallServer.github.apiURL, webURL: smallServer.github.webURL, credential: .bearer(smallServer.service.github.classicToken),
                                 http: HTTPClient(transport: transport), budgetCredential: "account:2")
        #expect(try await one.workspaces().count >= 2)
        #expect(graphQLRequests(smallServer) == 1)
    }
}
