import Foundation
import Testing
import SlipwayHTTP
import SlipwayProviders
@testable import SlipwaySandbox

/// The GitLab personality over real loopback HTTP: tokens as `PRIVATE-TOKEN` or Bearer, nested
/// groups in project namespaces, offset and keyset pagination with GitLab's headers, branches with
/// their head commits, the per-minute limit and its text/plain 429, git's refs at a nested path,
/// hooks that need `api`, and `Push Hook` deliveries proved by `X-Gitlab-Token`.
@Suite("Sandbox GitLab personality", .timeLimit(.minutes(2)))
struct GitLabPersonalityTests {
    struct Harness {
        let server: SandboxServer
        let transport = CurlTransport()

        static func start(_ configure: (inout SandboxOptions) -> Void = { _ in }) async throws -> Harness {
            var options = SandboxOptions()
            options.seed = 8
            options.workspaces = 5
            options.reposPerWorkspace = 3
            options.branchesPerRepo = 3
            options.largeRepositories = false
            options.personalities = [.gitlab]
            configure(&options)
            return Harness(server: try await SandboxServer.start(options: options))
        }

        func stop() async {
            transport.shutdown()
            await server.stop()
        }

        var api: String { server.gitlab.apiURL }
        var web: String { server.gitlab.webURL }

        func get(_ pathOrURL: String, headers extra: [String: String]? = nil) async throws -> HTTPResponse {
            var headers = HTTPHeaders()
            for (name, value) in extra ?? ["PRIVATE-TOKEN": server.service.gitlab.token] { headers.add(name, value) }
            return try await transport.perform(HTTPRequest(url: pathOrURL.hasPrefix("http") ? pathOrURL : api + pathOrURL, headers: headers))
        }

        func json(_ response: HTTPResponse) throws -> Any { try JSONSerialization.jsonObject(with: response.body) }
    }

    @Test("tokens as PRIVATE-TOKEN or Bearer; a wrong one is GitLab's 401; the token says its scopes")
    func authentication() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        let user = try #require(try h.json(try await h.get("/user")) as? [String: Any])
        #expect(user["username"] as? String == "sandbox-user" && user["email"] as? String == "sandbox@example.com")
        #expect(try await h.get("/user", headers: ["Authorization": "Bearer \(h.server.service.gitlab.token)"]).status == 200)
        let wrong = try await h.get("/user", headers: ["PRIVATE-TOKEN": "glpat-wrong"])
        let message = (try h.json(wrong) as? [String: Any])?["message"] as? String
        #expect(wrong.status == 401 && message == "401 Unauthorized")
        let own = try #require(try h.json(try await h.get("/personal_access_tokens/self", headers: ["PRIVATE-TOKEN": h.server.service.gitlab.readOnlyToken])) as? [String: Any])
        #expect(own["scopes"] as? [String] == ["read_api", "read_repository", "read_user"])
    }

    @Test("projects carry nested namespaces by full path and the user's access level; keyset pages by id_after; offset pages with x-* headers")
    func projectsAndPaging() async throws {
        let h = try await Harness.start()
        defer { Task { await h.stop() } }
        var next: String? = h.api + "/projects?membership=true&per_page=4&pagination=keyset&order_by=id&sort=asc"
        var projects: [[String: Any]] = []
        var pages = 0
        while let url = next {
            let response = try await h.get(url)
            projects += try #require(try h.json(response) as? [[String: Any]])
            next = NextPage.linkHeader(response)
            #expect(response.headers["x-total"] == nil)
            pages += 1
        }
        #expect(projects.count == 15 && pages == 4)
        #expect(projects.map { $0["id"] as! Int } == projects.map { $0["id"] as! Int }.sorted())
        let paths = Set(projects.compactMap { ($0["namespace"] as? [String: Any])?["full_path"] as? String })
        #expect(paths == ["sandbox-user", "acme-corp", "acme-corp/platform", "acme-corp/platform/infra", "globex"])
        let nested = try #require(projects.first { ($0["path_with_namespace"] as? String)?.hasPrefix("acme-corp/platform/infra/") == true })
        let namespace = try #require(nested["namespace"] as? [String: Any])
        #expect(namespace["kind"] as? String == "group" && namespace["parent_id"] is Int)
        #expect((nested["permissions"] as? [String: Any])?["group_access"] is [String: Any])

        let offset = try await h.get("/projects?membership=true&per_page=4&page=2")
        #expect(offset.headers["x-page"] == "2" && offset.headers["x-next-page"] == "3" && offset.headers["x-prev-page"] == "1")
        #expect(offset.headers["x-total"] == "15" && offset.headers["x-total-pages"] == "4")
        #expect(offset.headers["Link"]?.contains(#"rel="last""#) == true)
        // A project by its URL-encoded full path, and its branches with their head commits.
        let id = (nested["path_with_namespace"] as! String).replacingOccurrences(of: "/", with: "%2F")
        let branches = try #require(try h.json(try await h.get("/projects/\(id)/repository/branches?per_page=100")) as? [[String: Any]])
        let head = try #require(branches.first?["commit"] as? [String: Any])
        #expect(branches.count == 3 && (head["id"] as? String)?.count == 40 && head["author_name"] is String && head["committed_date"] is String)
    }

    @Test("the REST limit is per minute: RateLimit-* on every answer, then a text/plain 429 'Retry later' with Retry-After; git's refs at a nested path")
    func limitsAndGit() async throws {
        let h = try await Harness.start { $0.rateLimits[.gitlab] = 180 }   // 3 a minute
        defer { Task { await h.stop() } }
        for _ in 0..<3 {
            let ok = try await h.get("/user")
            #expect(ok.status == 200 && ok.headers["RateLimit-Limit"] == "3" && ok.headers["RateLimit-Name"] == "throttle_authenticated_api")
        }
        let limited = try await h.get("/user")
        #expect(limited.status == 429 && limited.text == "Retry later\n" && limited.headers["Content-Type"]?.hasPrefix("text/plain") == true)
        #expect(limited.headers["RateLimit-Remaining"] == "0" && Int(limited.headers["Retry-After"] ?? "") ?? 0 > 0)
        let name = try #require(h.server.service.repositoryNames(on: .gitlab).first { $0.hasPrefix("acme-corp/platform/infra/") })
        let basic = "Basic " + Data("oauth2:\(h.server.service.gitlab.token)".utf8).base64EncodedString()
        let refs = try await h.get("\(h.web)/\(name).git/info/refs?service=git-upload-pack", headers: ["Authorization": basic])
        #expect(refs.status == 200)
        let heads = try RefsAdvertisement.parse(refs.body).branches
        let parts = name.split(separator: "/")
        #expect(heads == h.server.service.branches(workspace: parts.dropLast().joined(separator: "/"), repository: String(parts.last!), on: .gitlab))
    }

    /// A small GitLab world whose deliveries go to `receiver`.
    static func hookService(receiver: ScriptedReceiver, version: String = SandboxOptions().gitlabVersion) throws -> SandboxService {
        var options = SandboxOptions()
        options.seed = 8
        options.workspaces = 2
        options.reposPerWorkspace = 2
        options.branchesPerRepo = 2
        options.personalities = [.gitlab]
        options.gitlabVersion = version
        return try SandboxService(options: options, webhookTransport: { receiver })
    }

    @Test("hooks need api and maintainer; a push is delivered as a Push Hook with the hook's token and an Idempotency-Key")
    func hooksAndDeliveries() async throws {
        let receiver = ScriptedReceiver(answers: [200])
        let service = try Self.hookService(receiver: receiver)
        let name = try #require(service.repositoryNames(on: .gitlab).first { $0.hasPrefix("sandbox-user/") })
        let id = name.replacingOccurrences(of: "/", with: "%2F")
        let body = Data(#"{"url":"http://127.0.0.1:9/webhooks/gitlab","push_events":true,"token":"s3cret"}"#.utf8)
        func create(_ token: String) -> (status: Int, body: Data) {
            let reply = service.respond(method: "POST", url: "http://127.0.0.1:7000/api/v4/projects/\(id)/hooks",
                                        headers: ["PRIVATE-TOKEN": token, "Content-Type": "application/json"], body: body, as: .gitlab)
            return (reply.status, reply.body)
        }
        let refused = create(service.gitlab.readOnlyToken)
        #expect(refused.status == 403 && String(decoding: refused.body, as: UTF8.self).contains("insufficient_scope"))
        let created = create(service.gitlab.token)
        #expect(created.status == 201)
        let hook = try #require(try JSONSerialization.jsonObject(with: created.body) as? [String: Any])
        #expect(hook["token_present"] as? Bool == true && hook["push_events"] as? Bool == true && hook["token"] == nil)

        var push: SandboxPush?
        for _ in 0..<40 where push == nil { push = service.push(repository: name, on: .gitlab).flatMap { $0.kind == .commit ? $0 : nil } }
        let pushed = try #require(push)
        await service.webhooks.drain()
        let delivered = try #require(receiver.received.last)
        #expect(delivered.headers["X-Gitlab-Event"] == "Push Hook" && delivered.headers["X-Gitlab-Token"] == "s3cret")
        #expect(delivered.headers["Idempotency-Key"]?.count == 36 && delivered.headers["X-Gitlab-Event-UUID"] != nil)
        let event = try GitLabWebhookDialect().decodePush(delivered.body ?? Data())
        #expect(event.repositoryFullName == name && event.changes.first?.branch == pushed.branch && event.changes.first?.newHead?.hash == pushed.new)
        #expect(event.changes.first?.newHead?.author?.contains("<") == true)
    }

    @Test("from GitLab 19.0 a hook takes a whsec_ signing token and signs its deliveries (Standard Webhooks); before, the token is ignored",
          arguments: ["19.1.0", "17.9.0"])
    func signingTokens(version: String) async throws {
        let receiver = ScriptedReceiver(answers: [200])
        let service = try Self.hookService(receiver: receiver, version: version)
        let name = try #require(service.repositoryNames(on: .gitlab).first { $0.hasPrefix("sandbox-user/") })
        let id = name.replacingOccurrences(of: "/", with: "%2F")
        func create(signingToken: String, path: String = "given") throws -> (status: Int, json: [String: Any]) {
            let body = try JSONSerialization.data(withJSONObject: ["url": "http://127.0.0.1:9/\(path)", "push_events": true,
                                                                   "token": "s3cret", "signing_token": signingToken])
            let reply = service.respond(method: "POST", url: "http://127.0.0.1:7000/api/v4/projects/\(id)/hooks",
                                        headers: ["PRIVATE-TOKEN": service.gitlab.token, "Content-Type": "application/json"], body: body, as: .gitlab)
            return (reply.status, try JSONSerialization.jsonObject(with: reply.body) as? [String: Any] ?? [:])
        }
        let modern = version.hasPrefix("19")
        // A key that is not 32 bytes, or lacks its prefix, is refused where signing tokens exist.
        let key = Data((0..<32).map { UInt8($0 * 7 % 256) })
        #expect(try create(signingToken: "whsec_" + Data(count: 16).base64EncodedString(), path: "short").status == (modern ? 400 : 201))
        #expect(try create(signingToken: key.base64EncodedString(), path: "bare").status == (modern ? 400 : 201))
        let created = try create(signingToken: "whsec_" + key.base64EncodedString())
        #expect(created.status == 201 && created.json["signing_token"] == nil)
        #expect(created.json["signing_token_present"] as? Bool == (modern ? true : nil))
        #expect(try create(signingToken: GitLabWebhookDialect.signingToken(for: "s3cret"), path: "slipway").status == 201)

        var push: SandboxPush?
        for _ in 0..<40 where push == nil { push = service.push(repository: name, on: .gitlab).flatMap { $0.kind == .commit ? $0 : nil } }
        _ = try #require(push)
        await service.webhooks.drain()
        func delivery(_ path: String) throws -> HTTPRequest { try #require(receiver.received.last { $0.url.hasSuffix("/\(path)") }) }
        let given = try delivery("given")
        #expect(given.headers["User-Agent"] == "GitLab/\(version)" && given.headers["X-Gitlab-Token"] == "s3cret")
        // The hook Slipway would make: its signature proves it where GitLab signs, its token where not.
        let slipway = try delivery("slipway")
        let lowered = Dictionary(slipway.headers.map { ($0.name.lowercased(), $0.value) }) { first, _ in first }
        #expect(GitLabWebhookDialect().verifies(body: slipway.body ?? Data(), headers: lowered, secret: "s3cret", signed: modern, now: Date()))
        let signature = given.headers["webhook-signature"]
        guard modern else {
            #expect(signature == nil)
            return
        }
        #expect(given.headers["webhook-id"] == given.headers["Idempotency-Key"])
        let timestamp = try #require(given.headers["webhook-timestamp"].flatMap(Int.init))
        #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 60)
        let givenKey = try #require(StandardWebhookSignature.key(fromSecret: "whsec_" + key.base64EncodedString()))
        #expect(StandardWebhookSignature.verify(id: given.headers["webhook-id"], timestamp: given.headers["webhook-timestamp"],
                                                signatures: signature, body: given.body ?? Data(), key: givenKey, now: Date()) == .valid)
    }

    @Test("last_activity_at moves at most once an hour, as GitLab's does: discovery may lag a push")
    func activityLags() throws {
        let clock = ManualClock()
        var options = SandboxOptions()
        options.seed = 8
        options.workspaces = 1
        options.reposPerWorkspace = 2
        options.personalities = [.gitlab]
        let service = try SandboxService(options: options, now: { clock.now })
        let name = try #require(service.repositoryNames(on: .gitlab).first)
        func activity() throws -> String? {
            let reply = service.respond(method: "GET", url: "http://127.0.0.1:7000/api/v4/projects/\(name.replacingOccurrences(of: "/", with: "%2F"))",
                                        headers: ["PRIVATE-TOKEN": service.gitlab.token], body: Data(), as: .gitlab)
            return (try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["last_activity_at"] as? String
        }
        let before = try activity()
        _ = service.push(repository: name, on: .gitlab)
        let first = try activity()
        #expect(first != before && first == GitLabWireFormat.time(clock.now))
        clock.advance(600)
        _ = service.push(repository: name, on: .gitlab)
        #expect(try activity() == first, "a push ten minutes later leaves it")
        clock.advance(3000)
        _ = service.push(repository: name, on: .gitlab)
        #expect(try activity() == GitLabWireFormat.time(clock.now), "an hour on, a push moves it again")
    }
}
