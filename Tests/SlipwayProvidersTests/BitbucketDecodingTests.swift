import Foundation
import Testing
import SlipwayHTTP
import SlipwaySandbox
@testable import SlipwayProviders

func fixture(_ name: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)"))
}

@Suite("Bitbucket decoding")
struct BitbucketDecodingTests {
    @Test("timestamps in every shape Bitbucket sends", arguments: [
        ("2026-11-20T10:11:12+00:00", 0.0), ("2026-11-20T10:11:12.345678+00:00", 0.345678), ("2026-11-20T10:11:12.123456789Z", 0.123456789),
        ("2026-11-20T10:11:12Z", 0.0), ("2026-11-20T10:11:12.5Z", 0.5), ("2026-11-20T12:11:12+02:00", 0.0), ("2026-11-20T05:11:12-0500", 0.0),
    ])
    func timestamps(text: String, fraction: Double) throws {
        let date = try #require(ProviderDate.parse(text))
        let base = Date(timeIntervalSince1970: 1795169472)  // 2026-11-20T10:11:12Z
        #expect(abs(date.timeIntervalSince(base) - fraction) < 1e-6)
    }

    @Test("the byte-level parser agrees with Foundation's calendar from 1970 to 2400, in every zone shape")
    func parserAgreesWithCalendar() throws {
        let formatter = ISO8601DateFormatter()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let date = Date(timeIntervalSince1970: Double(Int64.random(in: 0...13_569_465_600, using: &generator)))
            let text = formatter.string(from: date)
            #expect(ProviderDate.parse(text) == date, "\(text)")
            let shifted = text.replacingOccurrences(of: "Z", with: "+00:00").replacingOccurrences(of: "T", with: " ")
            #expect(ProviderDate.parse(shifted) == date, "\(shifted)")
        }
        #expect(ProviderDate.parse("  2026-11-20T10:11:12Z\t") == Date(timeIntervalSince1970: 1795169472))
    }

    @Test("unreadable timestamps are nil, not errors")
    func badTimestamps() {
        for text in ["", "yesterday", "2026-13-45T99:99:99Z", "2026-11-20T10:11:12.Z", "2026-11-20T10:11:12+5", "2026-02-29T10:00:00Z",
                     "2026-04-31T10:00:00Z", "2026-11-20T24:00:00Z", "2026-11-20T10:60:00Z", "2026-00-10T10:00:00Z"] {
            #expect(ProviderDate.parse(text) == nil, "\(text) is not a date")
        }
        // A leap day is.
        #expect(ProviderDate.parse("2028-02-29T10:00:00Z") != nil)
    }

    @Test("the reference user, workspaces, repositories, branches and commits decode")
    func fixtures() throws {
        let user = try JSONDecoder().decode(BitbucketWire.User.self, from: fixture("user.json"))
        #expect(user.uuid == "{4b85b785-1433-4092-8512-20302f4a03be}")
        #expect(user.displayName == "Sourcegraph Testing")

        let access = try JSONDecoder().decode(BitbucketWire.Page<BitbucketWire.WorkspaceAccess>.self, from: fixture("user_workspaces_page.json"))
        #expect(access.values.map(\.workspace.slug) == ["bbworkspace1"])
        #expect(access.values.first?.workspace.name == nil)
        #expect(access.next == nil)

        let old = try JSONDecoder().decode(BitbucketWire.Page<BitbucketWire.Workspace>.self, from: fixture("workspaces_page_deprecated.json"))
        #expect(old.values.first?.name == "Atlassian Bitbucket")

        let repos = try JSONDecoder().decode(BitbucketWire.Page<BitbucketWire.Repository>.self, from: fixture("repositories_page.json"))
        let repo = try #require(repos.values.first.flatMap { BitbucketProvider.repository($0, workspace: "sourcegraph-testing") })
        #expect(repo.fullName == "sourcegraph-testing/src-cli")
        #expect(repo.cloneURL == "https://bitbucket.org/sourcegraph-testing/src-cli.git")   // user info stripped
        #expect(repo.updatedOn != nil)
        #expect(repos.next?.contains("page=2") == true)

        let single = try JSONDecoder().decode(BitbucketWire.Repository.self, from: fixture("repository.json"))
        #expect(BitbucketProvider.repository(single, workspace: "amuniz")?.mainBranch != nil)

        let branches = try JSONDecoder().decode(BitbucketWire.Page<BitbucketWire.Branch>.self, from: fixture("branches_page.json"))
        #expect(branches.values.count == 4)
        for branch in branches.values {
            let head = try #require(branch.target?.providerCommit)
            #expect(head.hash.count == 40)
            #expect(head.date != nil)
            #expect(head.author?.contains("<") == true)
        }

        let commits = try JSONDecoder().decode(BitbucketWire.Page<BitbucketWire.Commit>.self, from: fixture("commits_page.json"))
        #expect(!commits.values.isEmpty)
        #expect(commits.next == nil)
        #expect(commits.values.allSatisfy { !$0.providerCommit.parents.isEmpty })
    }

    @Test("optional fields may be absent or null; unknown ones are ignored")
    func lenient() throws {
        let json = #"{"values":[{"name":"x","target":{"hash":"abc","date":null,"author":null,"brand_new_field":{"a":1}}},{"name":"no-target"}],"next":null}"#
        let page = try JSONDecoder().decode(BitbucketWire.Page<BitbucketWire.Branch>.self, from: Data(json.utf8))
        #expect(page.values.count == 2)
        #expect(page.values[0].target?.providerCommit == ProviderCommit(hash: "abc", date: nil, author: nil, message: nil, parents: []))
        #expect(page.values[1].target == nil)
    }

    @Test("branch and commit pages read with JSONReader give what the Codable wire types give", arguments: [
        "branches_page.json", "commits_page.json",
    ])
    func readerAgreesWithCodable(name: String) throws {
        let data = try fixture(name)
        if name.hasPrefix("branches") {
            let codable = try JSONDecoder().decode(BitbucketWire.Page<BitbucketWire.Branch>.self, from: data)
            let read = try JSONReader.read(data) { try BitbucketWire.readPage(&$0, value: BitbucketWire.readBranch) }
            #expect(read.values == codable.values.compactMap { branch in branch.target.map { ProviderBranch(name: branch.name, head: $0.providerCommit) } })
            #expect(read.next == codable.next)
            #expect(read.values.count == 4)
        } else {
            let codable = try JSONDecoder().decode(BitbucketWire.Page<BitbucketWire.Commit>.self, from: data)
            let read = try JSONReader.read(data) { try BitbucketWire.readPage(&$0, value: BitbucketWire.readCommit) }
            #expect(read.values == codable.values.map(\.providerCommit))
            #expect(read.next == codable.next)
        }
    }

    @Test("the reader keeps the Codable rules: optional fields absent or null, unknown ones ignored, no target dropped, hostile text raw")
    func readerLenientAndStrict() throws {
        let json = #"{"values":[{"name":"x","target":{"hash":"abc","date":null,"author":null,"brand_new_field":{"a":[1,{"b":"]"}]}}},"#
            + #"{"name":"no-target"},{"name":"null-target","target":null},"#
            + #"{"name":"evil\u001b[2J\r\u202e","target":{"hash":"def","date":12,"author":{"raw":"A <a@x>"},"message":"m\n\u0007","parents":[{"hash":"p1"},{"x":1}]}}],"next":"http://h/n?page=2"}"#
        let read = try JSONReader.read(Data(json.utf8)) { try BitbucketWire.readPage(&$0, value: BitbucketWire.readBranch) }
        let codable = try JSONDecoder().decode(BitbucketWire.Page<BitbucketWire.Branch>.self, from: Data(json.utf8))
        #expect(read.values == codable.values.compactMap { branch in branch.target.map { ProviderBranch(name: branch.name, head: $0.providerCommit) } })
        #expect(read.values.map(\.name) == ["x", "evil\u{1B}[2J\r\u{202E}"])
        #expect(read.values[1].head == ProviderCommit(hash: "def", date: nil, author: "A <a@x>", message: "m\n\u{07}", parents: ["p1"]))
        #expect(read.next == "http://h/n?page=2")
        // What Codable refuses, the reader refuses: no values, a branch without a name, a commit without a hash.
        for bad in [#"{"next":null}"#, #"{"values":[{"target":{"hash":"a"}}]}"#, #"{"values":[{"name":"b","target":{"date":"x"}}]}"#,
                    #"{"values":[{"name":5}]}"#, #"{"values":[{"name":"b","target":{"hash":"a"}}"#] {
            #expect(throws: (any Error).self, "\(bad)") {
                _ = try JSONReader.read(Data(bad.utf8)) { try BitbucketWire.readPage(&$0, value: BitbucketWire.readBranch) }
            }
            #expect(throws: (any Error).self, "\(bad)") { _ = try JSONDecoder().decode(BitbucketWire.Page<BitbucketWire.Branch>.self, from: Data(bad.utf8)) }
        }
    }

    @Test("path segments: plain slugs pass as they are, anything else is percent-encoded as before", arguments: [
        ("api-server_2.0~x", "api-server_2.0~x"), ("a b", "a%20b"), ("a/b", "a%2Fb"), ("é", "%C3%A9"), ("{uuid}", "%7Buuid%7D"), ("", ""),
        ("a?b#c%", "a%3Fb%23c%25"),
    ])
    func segments(text: String, encoded: String) {
        #expect(BitbucketProvider.segment(text) == encoded)
    }

    @Test("the error envelope and text/plain errors become messages")
    func errors() throws {
        #expect(HTTPError.providerMessage(try fixture("error_404.json")) == "Repository dev/null not found")
    }
}

@Suite("Bitbucket provider against the sandbox")
struct BitbucketProviderSandboxTests {
    func start(_ configure: (inout SandboxOptions) -> Void = { _ in }) async throws -> (SandboxServer, BitbucketProvider, CountingTransport) {
        var options = SandboxOptions()
        options.seed = 11
        options.workspaces = 2
        options.reposPerWorkspace = 4
        configure(&options)
        let server = try await SandboxServer.start(options: options)
        let counter = CountingTransport(CurlTransport())
        let provider = BitbucketProvider(apiURL: server.bitbucket.apiURL, webURL: server.bitbucket.webURL, credential: .bearer(server.service.bitbucket.accessToken),
                                         http: HTTPClient(transport: counter), budgetCredential: "account:1")
        return (server, provider, counter)
    }

    @Test("user, workspaces with names, repositories with admin flags, branches, commits and refs")
    func everything() async throws {
        let (server, provider, counter) = try await start()
        defer { Task { await server.stop() } }
        let user = try await provider.currentUser()
        #expect(user.username == "sandbox-user")
        let workspaces = try await provider.workspaces()
        #expect(workspaces.map(\.slug) == server.service.workspaceSlugs().sorted())
        let ws = workspaces[0].slug
        #expect(try await provider.workspace(ws).name?.isEmpty == false)
        let repos = try await provider.repositories(in: ws)
        #expect(Set(repos.map(\.slug)) == Set(server.service.repositorySlugs(workspace: ws)))
        let admin = try await provider.adminRepositorySlugs(in: ws)
        #expect(admin.isSubset(of: Set(repos.map(\.slug))))
        let repo = repos[0]
        let branches = try await provider.branches(workspace: ws, repository: repo.slug)
        let expected = server.service.branches(workspace: ws, repository: repo.slug)
        #expect(Dictionary(uniqueKeysWithValues: branches.map { ($0.name, $0.head.hash) }) == expected)
        #expect(branches.allSatisfy { $0.head.date != nil && $0.head.author != nil && $0.head.message != nil })
        // The git refs advertisement gives the same heads, from the git budget.
        let before = counter.byKind["git"] ?? 0
        #expect(try await provider.branchHeads(cloneURL: try #require(repo.cloneURL)) == expected)
        #expect(counter.byKind["git"] == before + 1)
        let main = try #require(repo.mainBranch)
        let history = try await provider.commits(workspace: ws, repository: repo.slug, revision: main, exclude: [], limit: 5)
        #expect(history.first?.hash == expected[main])
        let newer = try await provider.commits(workspace: ws, repository: repo.slug, revision: main, exclude: [expected[main]!], limit: 50)
        #expect(newer.isEmpty)
    }

    @Test("webhooks: create with a secret, list, delete; a repository without admin rights is refused")
    func hooks() async throws {
        let (server, provider, _) = try await start()
        defer { Task { await server.stop() } }
        let ws = server.service.workspaceSlugs()[0]
        let admin = try await provider.adminRepositorySlugs(in: ws)
        let repos = try await provider.repositories(in: ws).map(\.slug)
        let adminRepo = try #require(repos.first { admin.contains($0) })
        let created = try await provider.createHook(workspace: ws, repository: adminRepo, url: "https://hooks.example.com/webhooks/bitbucket",
                                                    secret: "s3cret", events: ["repo:push"], description: "Slipway")
        #expect(created.hasSecret)
        #expect(created.events == ["repo:push"])
        let listed = try await provider.hooks(workspace: ws, repository: adminRepo)
        #expect(listed == [created])
        try await provider.deleteHook(workspace: ws, repository: adminRepo, id: created.id)
        #expect(try await provider.hooks(workspace: ws, repository: adminRepo).isEmpty)
        if let plain = repos.first(where: { !admin.contains($0) }) {
            await #expect(throws: HTTPError.self) { _ = try await provider.hooks(workspace: ws, repository: plain) }
        }
    }

    @Test("API tokens authenticate with Basic e-mail:token")
    func apiToken() async throws {
        let (server, _, _) = try await start()
        defer { Task { await server.stop() } }
        let provider = BitbucketProvider(apiURL: server.bitbucket.apiURL, webURL: server.bitbucket.webURL,
                                         credential: .apiToken(email: server.service.email, token: server.service.bitbucket.apiToken), http: HTTPClient(transport: CurlTransport()))
        #expect(try await provider.currentUser().username == "sandbox-user")
        let wrong = BitbucketProvider(apiURL: server.bitbucket.apiURL, webURL: server.bitbucket.webURL, credential: .bearer("nope"), http: HTTPClient(transport: CurlTransport()))
        await #expect(throws: HTTPError.self) { _ = try await wrong.currentUser() }
    }

    @Test("a repository with 130 branches is listed in two pages with the narrow fields")
    func paging() async throws {
        let (server, provider, counter) = try await start()
        defer { Task { await server.stop() } }
        let ws = server.service.workspaceSlugs()[0]
        let big = server.service.repositorySlugs(workspace: ws)[3]
        let before = counter.total
        let branches = try await provider.branches(workspace: ws, repository: big)
        #expect(branches.count == 131)
        #expect(counter.total - before == 2)
    }
}

@Suite("OAuth helpers")
struct OAuthHelperTests {
    @Test("PKCE S256 matches RFC 7636's test vector")
    func pkce() {
        let pkce = PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(pkce.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(PKCE.random().verifier.count >= 43)
    }

    @Test("a pasted redirect URL or a bare code")
    func pasted() throws {
        #expect(try AuthorizationRedirect.code(from: "http://127.0.0.1:4242/callback?code=abc123&state=xyz\n", expectedState: "xyz") == "abc123")
        #expect(try AuthorizationRedirect.code(from: "  abc123  ", expectedState: "xyz") == "abc123")
        #expect(throws: OAuthError.stateMismatch) { try AuthorizationRedirect.code(from: "http://127.0.0.1/callback?code=a&state=other", expectedState: "xyz") }
        #expect(throws: OAuthError.denied("nope")) {
            try AuthorizationRedirect.code(from: "http://127.0.0.1/callback?error=access_denied&error_description=nope&state=xyz", expectedState: "xyz")
        }
        #expect(throws: OAuthError.self) { try AuthorizationRedirect.code(from: "not a code!", expectedState: "xyz") }
    }

    @Test("the authorize URL carries client, state, redirect and the PKCE challenge")
    func authorizeURL() throws {
        let client = OAuthClient(webURL: "https://bitbucket.org/", endpoints: BitbucketProvider.descriptor.oauth!, clientID: "key", clientSecret: "secret",
                                 http: HTTPClient(transport: CurlTransport()))
        let url = try #require(URLComponents(string: client.authorizeURL(state: "st", redirectURI: "http://127.0.0.1:1/callback", pkce: PKCE(verifier: "v"))))
        #expect(url.path == "/site/oauth2/authorize")
        let items = Dictionary(uniqueKeysWithValues: (url.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(items["client_id"] == "key" && items["response_type"] == "code" && items["state"] == "st")
        #expect(items["redirect_uri"] == "http://127.0.0.1:1/callback")
        #expect(items["code_challenge_method"] == "S256")
        #expect(client.tokenURL == "https://bitbucket.org/site/oauth2/access_token")
    }

    @Test("RFC 6749 errors: a dead grant means relink")
    func errors() {
        let invalid = OAuthClient.error(status: 400, body: Data(#"{"error_description": "Invalid refresh_token", "error": "invalid_request"}"#.utf8), url: "u")
        #expect((invalid as? OAuthError) == .rejected(code: "invalid_request", description: "Invalid refresh_token"))
        #expect((invalid as? OAuthError)?.needsRelink == true)
        let grant = OAuthClient.error(status: 400, body: Data(#"{"error_description": "Unsupported grant type: None", "error": "invalid_grant"}"#.utf8), url: "u")
        #expect((grant as? OAuthError)?.needsRelink == true)
        let server = OAuthClient.error(status: 503, body: Data("busy".utf8), url: "u")
        #expect(server is HTTPError)
    }
}
