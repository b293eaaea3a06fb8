import Foundation
import Testing
import SlipwayHTTP
import SlipwayProviders
@testable import SlipwaySandbox

/// The GitHub personality over real loopback HTTP, beside Bitbucket in one world: tokens and
/// their scope headers, owners and repositories with Link pagination, ETags and free 304s,
/// branches and commits, rate limits in GitHub's shapes, git's refs, hooks and signed deliveries.
@Suite("Sandbox GitHub personality", .timeLimit(.minutes(3)))
struct GitHubPersonalityTests {
    struct Harness {
        let server: SandboxServer
        let transport = CurlTransport()

        static func start(_ configure: (inout SandboxOptions) -> Void = { _ in }) async throws -> Harness {
            var options = SandboxOptions()
            options.seed = 5
            options.workspaces = 4
            options.reposPerWorkspace = 6
            options.branchesPerRepo = 4
            options.personalities = [.bitbucket, .github]
            configure(&options)
            return Harness(server: try await SandboxServer.start(options: options))
        }

        func stop() async {
            transport.shutdown()
            await server.stop()
        }

        var token: String { server.service.github.classicToken }

        func get(_ pathOrURL: String, token: String? = nil, headers extra: [String: String] = [:]) async throws -> HTTPResponse {
            var headers = HTTPHeaders()
            headers.add("Authorization", "Bearer \(token ?? self.token)")
            for (name, value) in extra { headers.add(name, value) }
            let url = pathOrURL.hasPrefix("http") ? pathOrURL : server.github.apiURL + pathOrURL
            return try await transport.perform(HTTPRequest(url: url, headers: headers))
        }

        func array(_ path: String) async throws -> [[String: Any]] {
            let response = try await get(path)
            guard response.status == 200, let items = try JSONSerialization.jsonObject(with: response.body) as? [[String: Any]] else {
                throw HarnessError("GET \(path) → \(response.status): \(response.text.prefix(200))")
            }
            return items
        }

        /// Every page, following `Link: <…>; rel="next"` exactly as given.
        func allPages(_ path: String) async throws -> (items: [[String: Any]], pages: Int) {
            var next: String? = server.github.apiURL + path
            var items: [[String: Any]] = []
            var pages = 0
            while let url = next {
                let response = try await get(url)
                guard response.status == 200, let page = try JSONSerialization.jsonObject(with: response.body) as? [[String: Any]] else {
                    throw HarnessError("GET \(url) → \(response.status)")
                }
                items += page
                pages += 1
                next = response.headers["Link"].flatMap(Self.nextLink)
                if pages > 500 { throw HarnessError("pagination does not end") }
            }
            return (items, pages)
        }

        static func nextLink(_ header: String) -> String? {
            for part in header.split(separator: ",") where part.contains(#"rel="next""#) {
                guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">") else { continue }
                return String(part[part.index(after: open)..<close])
            }
            return nil
        }
    }

    @Test("one world, two personalities: each at its own port with its own link line; the control endpoints answer on both")
    func twoPersonalities() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        #expect(h.server.endpoints.map(\.personality) == [.bitbucket, .github])
        #expect(h.server.github.port != h.server.bitbucket.port)
        #expect(h.server.github.apiURL == h.server.github.origin + "/api/v3" && h.server.github.webURL == h.server.github.origin)
        #expect(h.server.github.linkCommand == "slipway link github --api-url \(h.server.github.apiURL) --web-url \(h.server.github.webURL) --token-file -")
        #expect(h.server.github.banner.contains { $0.label == "link" && $0.value.hasPrefix("echo \(h.token) | ") })
        let stats = try await h.get(h.server.github.origin + "/_sandbox/stats")
        let object = try #require(try JSONSerialization.jsonObject(with: stats.body) as? [String: Any])
        #expect(object["personalities"] as? [String] == ["bitbucket", "github"])
        #expect((object["rate_limits"] as? [String: Int]) == ["bitbucket": 1000, "github": 5000])
        // Pushes land in either host's part of the world.
        let hosts = Set(h.server.service.push(count: 40).map(\.host))
        #expect(hosts == [.bitbucket, .github])
    }

    @Test("the user, its e-mails and organizations; classic tokens report scopes, fine-grained ones do not; a bad token is 401")
    func userAndTokens() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let classic = try await h.get("/user")
        #expect(classic.status == 200 && classic.headers["X-OAuth-Scopes"] == "admin:repo_hook, read:org, repo, user:email")
        #expect(classic.headers["x-ratelimit-limit"] == "5000" && classic.headers["x-ratelimit-remaining"] == "4999")
        #expect(classic.headers["x-ratelimit-resource"] == "core" && Int(classic.headers["x-ratelimit-reset"] ?? "") != nil)
        let user = try #require(try JSONSerialization.jsonObject(with: classic.body) as? [String: Any])
        #expect(user["login"] as? String == "sandbox-user" && user["type"] as? String == "User" && user["id"] is Int)
        for key in ["login", "id", "node_id", "type", "site_admin", "name", "email", "html_url", "created_at"] { #expect(user[key] != nil, "\(key)") }

        let fine = try await h.get("/user", token: h.server.service.github.fineGrainedToken)
        #expect(fine.status == 200 && fine.headers["X-OAuth-Scopes"] == nil)
        // One user, one window: both tokens spend from it.
        #expect(fine.headers["x-ratelimit-remaining"] == "4998")

        let bad = try await h.get("/user", token: "ghp_wrong")
        #expect(bad.status == 401 && bad.text.contains("Bad credentials"))

        let emails = try await h.array("/user/emails")
        #expect(emails.first?["primary"] as? Bool == true && emails.first?["email"] as? String == "sandbox@example.com")
        let orgs = try await h.array("/user/orgs").compactMap { $0["login"] as? String }
        #expect(orgs == ["acme-corp", "globex"])
    }

    @Test("/user/repos lists every readable repository across owners with Link pages; permissions follow roles; type with affiliation is 422")
    func repositories() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let (items, pages) = try await h.allPages("/user/repos?per_page=5")
        let world = h.server.service.repositoryNames(on: .github)
        #expect(items.count == world.count && pages == (world.count + 4) / 5)
        #expect(Set(items.compactMap { $0["full_name"] as? String }) == Set(world))
        let owners = Set(items.compactMap { ($0["owner"] as? [String: Any])?["login"] as? String })
        #expect(owners == ["sandbox-user", "acme-corp", "globex", "octo-friend"])
        let first = try #require(items.first)
        for key in ["id", "node_id", "name", "full_name", "private", "owner", "html_url", "clone_url", "default_branch", "pushed_at", "permissions"] {
            #expect(first[key] != nil, "\(key)")
        }
        #expect((first["clone_url"] as? String)?.hasPrefix(h.server.github.origin + "/") == true)
        let collaborator = items.filter { ($0["owner"] as? [String: Any])?["login"] as? String == "octo-friend" }
        #expect(!collaborator.isEmpty && collaborator.allSatisfy { ($0["permissions"] as? [String: Bool])?["admin"] == false })

        let own = try await h.allPages("/user/repos?affiliation=owner&per_page=100").items
        #expect(own.count == 6 && own.allSatisfy { ($0["owner"] as? [String: Any])?["login"] as? String == "sandbox-user" })
        #expect(try await h.get("/user/repos?type=owner&visibility=all").status == 422)
        #expect(try await h.array("/orgs/acme-corp/repos?per_page=100").count == 6)
        #expect(try await h.get("/orgs/nobody/repos").status == 404)
    }

    @Test("an unchanged listing asked with If-None-Match is a free 304; after a push it is a new 200")
    func conditionalRequests() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let first = try await h.get("/user/repos?sort=pushed&per_page=100")
        let etag = try #require(first.headers["ETag"])
        #expect(etag.hasPrefix("W/\""))
        let remaining = Int(first.headers["x-ratelimit-remaining"] ?? "")
        let unchanged = try await h.get("/user/repos?sort=pushed&per_page=100", headers: ["If-None-Match": etag])
        #expect(unchanged.status == 304 && unchanged.body.isEmpty && unchanged.headers["ETag"] == etag)
        #expect(Int(unchanged.headers["x-ratelimit-remaining"] ?? "") == remaining)
        let name = h.server.service.repositoryNames(on: .github)[0]
        _ = try #require(h.server.service.push(repository: name, on: .github))
        let changed = try await h.get("/user/repos?sort=pushed&per_page=100", headers: ["If-None-Match": etag])
        #expect(changed.status == 200 && changed.headers["ETag"] != etag)
        #expect(Int(changed.headers["x-ratelimit-remaining"] ?? "") == (remaining ?? 0) - 1)
        let pushed = try #require(try JSONSerialization.jsonObject(with: changed.body) as? [[String: Any]])
        #expect(pushed.first?["full_name"] as? String == name)
    }

    @Test("branches page by 100 with heads as in the world; a branch, a commit (and its bare SHA), a history and a compare")
    func branchesAndCommits() async throws {
        let h = try await Harness.start { $0.largeRepositories = true }
        defer { Task { await h.stop() } }
        let owner = "acme-corp"
        let big = try #require(h.server.service.repositorySlugs(workspace: owner, on: .github).first {
            h.server.service.branches(workspace: owner, repository: $0, on: .github).count > 100
        })
        let heads = h.server.service.branches(workspace: owner, repository: big, on: .github)
        let (branches, pages) = try await h.allPages("/repos/\(owner)/\(big)/branches?per_page=100")
        #expect(pages == 2)
        var listed: [String: String] = [:]
        for branch in branches {
            listed[branch["name"] as! String] = (branch["commit"] as? [String: Any])?["sha"] as? String
        }
        #expect(listed == heads)

        let name = try #require(heads.keys.sorted().first { $0.contains("/") })
        let escaped = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!
        let detail = try await h.get("/repos/\(owner)/\(big)/branches/\(escaped)")
        let object = try #require(try JSONSerialization.jsonObject(with: detail.body) as? [String: Any])
        let commit = try #require(object["commit"] as? [String: Any])
        #expect(commit["sha"] as? String == heads[name])
        let inner = try #require(commit["commit"] as? [String: Any])
        #expect((inner["author"] as? [String: Any])?["date"] as? String != nil && inner["message"] as? String != nil)

        let sha = try await h.get("/repos/\(owner)/\(big)/commits/\(escaped)", headers: ["Accept": "application/vnd.github.sha"])
        #expect(sha.status == 200 && sha.text == heads[name])
        let history = try await h.array("/repos/\(owner)/\(big)/commits?sha=\(escaped)&per_page=100")
        #expect(history.first?["sha"] as? String == heads[name] && history.count > 1)
        let parent = try #require(history[1]["sha"] as? String)
        let compare = try await h.get("/repos/\(owner)/\(big)/compare/\(parent)...\(heads[name]!)")
        let diff = try #require(try JSONSerialization.jsonObject(with: compare.body) as? [String: Any])
        #expect(diff["status"] as? String == "ahead" && diff["ahead_by"] as? Int == 1)
        #expect(try await h.get("/repos/\(owner)/\(big)/commits/nope").status == 422)
        #expect(try await h.get("/repos/\(owner)/nope").status == 404)
    }

    @Test("rate limits in GitHub's shapes: exhaustion is 403 with remaining 0 until the reset; 429 and secondary limits by fault")
    func rateLimits() async throws {
        let h = try await Harness.start { options in
            options.rateLimits = [.github: 2]
            options.faults = ["github:429x1@/api/v3/user/orgs", "github:403-rate-limitx1@/api/v3/user/emails"]
        }
        defer { Task { await h.stop() } }
        #expect(try await h.get("/user").status == 200)
        let limited429 = try await h.get("/user/orgs")
        #expect(limited429.status == 429 && limited429.headers["x-ratelimit-remaining"] == "0")
        let secondary = try await h.get("/user/emails")
        #expect(secondary.status == 403 && secondary.headers["Retry-After"] == "60" && secondary.text.contains("secondary rate limit"))
        #expect(try await h.get("/user").status == 200)
        let exhausted = try await h.get("/user")
        #expect(exhausted.status == 403 && exhausted.headers["x-ratelimit-remaining"] == "0" && exhausted.text.contains("API rate limit exceeded"))
        #expect(Int(exhausted.headers["x-ratelimit-reset"] ?? "").map { Double($0) > Date().timeIntervalSince1970 } == true)
        // Bitbucket's window is its own.
        var headers = HTTPHeaders()
        headers.add("Authorization", "Bearer \(h.server.service.bitbucket.accessToken)")
        #expect(try await h.transport.perform(HTTPRequest(url: h.server.bitbucket.apiURL + "/user", headers: headers)).status == 200)
    }

    @Test("git's refs advertisement with x-access-token lists every branch; without credentials it is 401")
    func gitRefs() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let name = h.server.service.repositoryNames(on: .github)[2]
        let (owner, repo) = (String(name.split(separator: "/")[0]), String(name.split(separator: "/")[1]))
        var headers = HTTPHeaders()
        headers.add("Authorization", "Basic " + Data("x-access-token:\(h.token)".utf8).base64EncodedString())
        let url = "\(h.server.github.origin)/\(name).git/info/refs?service=git-upload-pack"
        let refs = try await h.transport.perform(HTTPRequest(url: url, headers: headers))
        #expect(try RefsAdvertisement.parse(refs.body).branches == h.server.service.branches(workspace: owner, repository: repo, on: .github))
        #expect(try await h.transport.perform(HTTPRequest(url: url)).status == 401)
    }

    @Test("hooks: admin only (404 otherwise); creating one pings it; each push sends a signed push that GitHub's dialect verifies and decodes")
    func hooksAndDeliveries() async throws {
        let receiver = ScriptedReceiver(answers: [])
        var options = SandboxOptions()
        options.seed = 5
        options.workspaces = 4
        options.reposPerWorkspace = 4
        options.branchesPerRepo = 3
        options.personalities = [.github]
        let service = try SandboxService(options: options, webhookTransport: { receiver })
        let auth = ["Authorization": "token \(service.github.classicToken)", "Content-Type": "application/json"]
        let api = "http://127.0.0.1:1/api/v3"
        let admin = "sandbox-user/\(service.repositorySlugs(workspace: "sandbox-user", on: .github)[0])"
        let stranger = "octo-friend/\(service.repositorySlugs(workspace: "octo-friend", on: .github)[0])"
        let secret = "hook-secret"
        let body = try JSONSerialization.data(withJSONObject: ["name": "web", "active": true, "events": ["push"],
                                                               "config": ["url": "http://127.0.0.1:9/webhooks/github", "content_type": "json", "secret": secret, "insecure_ssl": "0"]])
        #expect(service.respond(method: "POST", url: "\(api)/repos/\(stranger)/hooks", headers: auth, body: body, as: .github).status == 404)
        let created = service.respond(method: "POST", url: "\(api)/repos/\(admin)/hooks", headers: auth, body: body, as: .github)
        #expect(created.status == 201)
        let hook = try #require(try JSONSerialization.jsonObject(with: created.body) as? [String: Any])
        #expect(hook["name"] as? String == "web" && hook["events"] as? [String] == ["push"] && hook["id"] is Int)
        #expect((hook["config"] as? [String: Any])?["secret"] as? String == "********")
        #expect(created.headers.contains { $0.0 == "Location" })
        #expect(service.respond(method: "POST", url: "\(api)/repos/\(admin)/hooks", headers: auth, body: body, as: .github).status == 422)
        await service.webhooks.drain()
        let ping = try #require(receiver.received.first)
        #expect(ping.headers["X-GitHub-Event"] == "ping")

        let push = try #require(service.push(repository: admin, on: .github))
        await service.webhooks.drain()
        let delivery = try #require(receiver.received.last)
        #expect(receiver.received.count == 2 && delivery.headers["X-GitHub-Event"] == "push")
        let dialect = GitHubWebhookDialect()
        var lowered: [String: String] = [:]
        for field in delivery.headers { lowered[field.name.lowercased()] = field.value }
        let payload = try #require(delivery.body)
        #expect(dialect.verifies(body: payload, headers: lowered, secret: secret))
        #expect(!dialect.verifies(body: payload, headers: lowered, secret: "other"))
        #expect(dialect.deliveryID(lowered) != nil && lowered["user-agent"]?.hasPrefix("GitHub-Hookshot/") == true)
        let decoded = try dialect.decodePush(payload)
        #expect(decoded.repositoryFullName == admin)
        let change = try #require(decoded.changes.first)
        #expect(change.branch == push.branch && change.newHead?.hash == push.new && change.oldHash == push.old)
        #expect(change.created == (push.old == nil) && change.closed == (push.new == nil))
        let hookID = String(hook["id"] as! Int)
        #expect(service.respond(method: "DELETE", url: "\(api)/repos/\(admin)/hooks/\(hookID)", headers: auth, body: Data(), as: .github).status == 204)
        #expect(service.respond(method: "GET", url: "\(api)/repos/\(admin)/hooks", headers: auth, body: Data(), as: .github).body == Data("[]".utf8))
    }

    // MARK: GraphQL

    func graphQL(_ h: Harness, _ query: String, variables: [String: Any] = [:]) async throws -> (object: [String: Any], response: HTTPResponse) {
        var headers = HTTPHeaders()
        headers.add("Authorization", "bearer \(h.token)")
        headers.add("Content-Type", "application/json")
        let body = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
        let response = try await h.transport.perform(HTTPRequest(method: .post, url: h.server.github.origin + "/api/graphql", headers: headers, body: body))
        let object = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any], "\(response.text.prefix(300))")
        return (object, response)
    }

    static let viewerQuery = """
        query Viewer($after: String) {
          viewer {
            login name
            organizations(first: 100) { nodes { login name } pageInfo { hasNextPage endCursor } }
            repositories(first: 7, after: $after, affiliations: [OWNER, COLLABORATOR, ORGANIZATION_MEMBER],
                         ownerAffiliations: [OWNER, COLLABORATOR, ORGANIZATION_MEMBER]) {
              totalCount
              nodes { id databaseId name nameWithOwner owner { login __typename } isPrivate viewerPermission
                      defaultBranchRef { name target { ... on Commit { oid } } } pushedAt updatedAt url sshUrl }
              pageInfo { hasNextPage endCursor }
            }
          }
          rateLimit { limit cost remaining resetAt used nodeCount }
        }
        """

    @Test("GraphQL: the viewer's organizations and every repository it can read, paged by cursor, priced by GitHub's formula")
    func graphQLViewer() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        var after: Any = NSNull()
        var names: [String] = []
        var pages = 0
        repeat {
            let (object, response) = try await graphQL(h, Self.viewerQuery, variables: ["after": after])
            #expect(object["errors"] == nil, "\(object)")
            #expect(response.headers["x-ratelimit-resource"] == "graphql" && response.headers["x-ratelimit-limit"] == "5000")
            let data = try #require(object["data"] as? [String: Any])
            let viewer = try #require(data["viewer"] as? [String: Any])
            #expect(viewer["login"] as? String == "sandbox-user")
            let orgs = (viewer["organizations"] as? [String: Any])?["nodes"] as? [[String: Any]]
            #expect(orgs?.compactMap { $0["login"] as? String } == ["acme-corp", "globex"])
            let repositories = try #require(viewer["repositories"] as? [String: Any])
            #expect(repositories["totalCount"] as? Int == 24)
            let nodes = try #require(repositories["nodes"] as? [[String: Any]])
            names += nodes.compactMap { $0["nameWithOwner"] as? String }
            let first = try #require(nodes.first)
            #expect(["ADMIN", "WRITE", "READ"].contains(first["viewerPermission"] as? String ?? ""))
            #expect(((first["defaultBranchRef"] as? [String: Any])?["target"] as? [String: Any])?["oid"] as? String != nil)
            let rate = try #require(data["rateLimit"] as? [String: Any])
            // organizations + repositories: two requests, one point.
            #expect(rate["cost"] as? Int == 1 && rate["nodeCount"] as? Int == 107 && rate["limit"] as? Int == 5000)
            let info = try #require(repositories["pageInfo"] as? [String: Any])
            after = info["hasNextPage"] as? Bool == true ? info["endCursor"] ?? NSNull() : NSNull()
            pages += 1
        } while !(after is NSNull) && pages < 10
        #expect(pages == 4 && Set(names) == Set(h.server.service.repositoryNames(on: .github)) && names.count == 24)

        // By default (OWNER and COLLABORATOR) an organization's repositories are left out, as on GitHub.
        let (plain, _) = try await graphQL(h, "{ viewer { repositories(first: 100) { totalCount nodes { owner { login } } } } }")
        let owners = Set((((plain["data"] as? [String: Any])?["viewer"] as? [String: Any])?["repositories"] as? [String: Any])
            .flatMap { $0["nodes"] as? [[String: Any]] }?.compactMap { ($0["owner"] as? [String: Any])?["login"] as? String } ?? [])
        #expect(owners == ["sandbox-user", "octo-friend"])
    }

    @Test("GraphQL: branch heads of many repositories in one query by aliases, refs paged past 100, each head with its details")
    func graphQLBatchedHeads() async throws {
        let h = try await Harness.start { $0.largeRepositories = true }
        defer { Task { await h.stop() } }
        let owner = "acme-corp"
        let slugs = h.server.service.repositorySlugs(workspace: owner, on: .github)
        let blocks = slugs.enumerated().map { index, slug in
            """
            r\(index): repository(owner: "\(owner)", name: "\(slug)") {
              nameWithOwner
              refs(refPrefix: "refs/heads/", first: 100, orderBy: {field: ALPHABETICAL, direction: ASC}) {
                totalCount
                nodes { name target { ... on Commit { oid committedDate messageHeadline author { name email date } } } }
                pageInfo { hasNextPage endCursor }
              }
            }
            """
        }
        let (object, response) = try await graphQL(h, "query Batch { \(blocks.joined(separator: "\n")) rateLimit { cost } }")
        #expect(object["errors"] == nil, "\(object)")
        let data = try #require(object["data"] as? [String: Any])
        #expect((data["rateLimit"] as? [String: Any])?["cost"] as? Int == 1)
        #expect(response.headers["x-ratelimit-remaining"] == "4999")
        var more: (slug: String, cursor: String, seen: [String: String])?
        for (index, slug) in slugs.enumerated() {
            let refs = try #require((data["r\(index)"] as? [String: Any])?["refs"] as? [String: Any])
            let heads = h.server.service.branches(workspace: owner, repository: slug, on: .github)
            #expect(refs["totalCount"] as? Int == heads.count)
            var seen: [String: String] = [:]
            for node in refs["nodes"] as? [[String: Any]] ?? [] {
                let target = try #require(node["target"] as? [String: Any])
                seen[node["name"] as! String] = target["oid"] as? String
                #expect(target["committedDate"] as? String != nil && (target["author"] as? [String: Any])?["email"] as? String != nil)
            }
            let info = try #require(refs["pageInfo"] as? [String: Any])
            if info["hasNextPage"] as? Bool == true {
                more = (slug, info["endCursor"] as! String, seen)
            } else {
                #expect(seen == heads)
            }
        }
        let (slug, cursor, seen) = try #require(more, "no repository has more than 100 branches")
        let (rest, _) = try await graphQL(h, """
            query($after: String) { repository(owner: "\(owner)", name: "\(slug)") {
              refs(refPrefix: "refs/heads/", first: 100, after: $after) { nodes { name target { ... on Commit { oid } } } pageInfo { hasNextPage } } } }
            """, variables: ["after": cursor])
        let page = try #require(((rest["data"] as? [String: Any])?["repository"] as? [String: Any])?["refs"] as? [String: Any])
        var all = seen
        for node in page["nodes"] as? [[String: Any]] ?? [] { all[node["name"] as! String] = (node["target"] as? [String: Any])?["oid"] as? String }
        #expect(all == h.server.service.branches(workspace: owner, repository: slug, on: .github))
        #expect((page["pageInfo"] as? [String: Any])?["hasNextPage"] as? Bool == false)
    }

    @Test("GraphQL: points by the formula (150 aliased refs cost 2), the node limit, connections without first, and both rate-limited shapes")
    func graphQLLimits() async throws {
        let h = try await Harness.start { $0.rateLimits = [.github: 4] }
        defer { Task { await h.stop() } }
        let name = h.server.service.repositoryNames(on: .github)[0].split(separator: "/")
        let aliases = (0..<150).map { "a\($0): repository(owner: \"\(name[0])\", name: \"\(name[1])\") { refs(refPrefix: \"refs/heads/\", first: 100) { totalCount } }" }
        let (costly, response) = try await graphQL(h, "{ \(aliases.joined(separator: " ")) rateLimit { cost remaining } }")
        #expect(((costly["data"] as? [String: Any])?["rateLimit"] as? [String: Any])?["cost"] as? Int == 2)
        #expect(response.headers["x-ratelimit-remaining"] == "2")

        let (huge, _) = try await graphQL(h, "{ viewer { repositories(first: 100) { nodes { refs(refPrefix: \"refs/heads/\", first: 100) { nodes { target { ... on Commit { history(first: 100) { totalCount } } } } } } } } }")
        #expect((huge["errors"] as? [[String: Any]])?.first?["type"] as? String == "MAX_NODE_LIMIT_EXCEEDED" && huge["data"] == nil)

        let (unpaged, _) = try await graphQL(h, "{ viewer { repositories { totalCount } } }")
        let message = (unpaged["errors"] as? [[String: Any]])?.first?["message"] as? String
        #expect(message?.contains("You must provide a `first` or `last` value") == true, "\(unpaged)")

        // The window holds 4 points: 2, then 1 for the unpaged query (the one over the node limit
        // was refused before it was priced), then the last one here.
        let (last, lastResponse) = try await graphQL(h, "{ viewer { login } }")
        #expect(last["errors"] == nil && lastResponse.headers["x-ratelimit-remaining"] == "0")
        let (limited, limitedResponse) = try await graphQL(h, "{ viewer { login } }")
        #expect(limitedResponse.status == 200 && limitedResponse.headers["x-ratelimit-remaining"] == "0")
        #expect((limited["errors"] as? [[String: Any]])?.first?["type"] as? String == "RATE_LIMITED" && limited["data"] == nil)
        let (again, _) = try await graphQL(h, "{ viewer { login } }")
        let second = try #require((again["errors"] as? [[String: Any]])?.first)
        #expect(second["type"] as? String == "RATE_LIMIT" && second["code"] as? String == "graphql_rate_limit")
    }

    @Test("GraphQL: recorded client queries run unchanged, and answer in the recorded shapes (refs under refs/ are named heads/…)")
    func graphQLRecordedShapes() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let name = h.server.service.repositoryNames(on: .github)[1].split(separator: "/").map(String.init)
        // As a 2017 client asked (refPrefix "refs/", first 5, `... on Commit { id message committedDate }`).
        let (refs, _) = try await graphQL(h, """
            {
              repository(owner: "\(name[0])", name: "\(name[1])") {
                name
                refs(refPrefix: "refs/", first: 5) {
                  nodes {
                    name
                    target {
                      ... on Commit {
                        id
                        message
                        committedDate
                      }
                    }
                  }
                }
              }
            }
            """)
        let repository = try #require((refs["data"] as? [String: Any])?["repository"] as? [String: Any], "\(refs)")
        let nodes = try #require((repository["refs"] as? [String: Any])?["nodes"] as? [[String: Any]])
        #expect(nodes.count == 4 && nodes.allSatisfy { ($0["name"] as? String)?.hasPrefix("heads/") == true })
        #expect(Set((nodes.first?["target"] as? [String: Any])?.keys.map { $0 } ?? []) == ["id", "message", "committedDate"])
        // As PyGithub asks, with variables.
        let (url, response) = try await graphQL(h, """
            query Q($owner: String!, $name: String!) {
              repository(owner: $owner, name: $name) { url }
            }
            """, variables: ["owner": name[0], "name": name[1]])
        #expect(((url["data"] as? [String: Any])?["repository"] as? [String: Any])?["url"] as? String == "\(h.server.github.origin)/\(name[0])/\(name[1])")
        #expect(response.headers["X-GitHub-Media-Type"] == "github.v4; format=json")
        let (missing, _) = try await graphQL(h, #"{ repository(owner: "nobody", name: "nothing") { url } }"#)
        #expect((missing["data"] as? [String: Any])?["repository"] is NSNull)
        let error = try #require((missing["errors"] as? [[String: Any]])?.first)
        #expect(error["type"] as? String == "NOT_FOUND" && (error["path"] as? [Any])?.first as? String == "repository", "\(error)")
        #expect(error["message"] as? String == "Could not resolve to a Repository with the name 'nobody/nothing'.")
    }
}
