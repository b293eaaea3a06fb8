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
}
