import Foundation
import Testing
import SlipwayHTTP
@testable import SlipwaySandbox

@Suite("Sandbox behaviour", .timeLimit(.minutes(3)))
struct BehaviourTests {
    @Test("pagination walks every repository and branch exactly once; pagelen is clamped to 10…100")
    func pagination() async throws {
        let h = try await SandboxHarness.start { $0.reposPerWorkspace = 23 }
        defer { Task { await h.stop() } }
        let ws = h.server.service.workspaceSlugs()[0]
        let repos = try await h.allValues("/2.0/repositories/\(ws)?pagelen=10")
        #expect(repos.count == 23)
        #expect(Set(repos.compactMap { $0["slug"] as? String }) == Set(h.server.service.repositorySlugs(workspace: ws)))

        let page = try await h.json("/2.0/repositories/\(ws)?pagelen=3")
        #expect(page["pagelen"] as? Int == 10)
        #expect(page["size"] as? Int == 23)
        let huge = try await h.json("/2.0/repositories/\(ws)?pagelen=500")
        #expect(huge["pagelen"] as? Int == 100)
        let second = try await h.json("/2.0/repositories/\(ws)?page=2")
        #expect((second["previous"] as? String)?.hasPrefix(h.server.bitbucket.origin) == true)
        #expect((second["next"] as? String)?.contains("page=3") == true)

        // Repository index 3 has 125 extra branches, so its listing needs two pages of 100.
        let big = h.server.service.repositorySlugs(workspace: ws)[3]
        let expected = h.server.service.branches(workspace: ws, repository: big)
        #expect(expected.count == 130)
        let branches = try await h.allValues("/2.0/repositories/\(ws)/\(big)/refs/branches?pagelen=100&fields=values.name,values.target.hash,next")
        #expect(branches.count == 130)
        var seen: [String: String] = [:]
        for branch in branches {
            let name = try #require(branch["name"] as? String)
            #expect(seen[name] == nil)
            seen[name] = (branch["target"] as? [String: Any])?["hash"] as? String
            #expect(branch["links"] == nil)   // fields= kept only what was asked for
        }
        #expect(seen == expected)
    }

    @Test("commits: newest first, iterator pagination with an opaque next, exclude= stops at the old head")
    func commits() async throws {
        let h = try await SandboxHarness.start()
        defer { Task { await h.stop() } }
        let ws = h.server.service.workspaceSlugs()[0]
        let repo = h.server.service.repositorySlugs(workspace: ws)[0]
        let main = h.server.service.branches(workspace: ws, repository: repo).keys.first { $0 == "main" || $0 == "master" }!
        let first = try await h.json("/2.0/repositories/\(ws)/\(repo)/commits/\(main)?pagelen=10")
        #expect(first["size"] == nil && first["page"] == nil)
        let all = try await h.allValues("/2.0/repositories/\(ws)/\(repo)/commits/\(main)?pagelen=10")
        let dates = all.compactMap { $0["date"] as? String }
        #expect(dates == dates.sorted(by: >))
        #expect(Set(all.compactMap { $0["hash"] as? String }).count == all.count)

        let oldHead = try #require(all.first?["hash"] as? String)
        let pushes = try await h.post("/_sandbox/control", json: ["push": 40])
        #expect((pushes["pushed"] as? [Any])?.count == 40)
        let newHead = try #require(h.server.service.branches(workspace: ws, repository: repo)[main])
        let newer = try await h.allValues("/2.0/repositories/\(ws)/\(repo)/commits/\(main)?exclude=\(oldHead)")
        #expect(newer.allSatisfy { ($0["hash"] as? String) != oldHead })
        if newHead == oldHead { #expect(newer.isEmpty) } else { #expect(newer.first?["hash"] as? String == newHead) }

        let single = try await h.json("/2.0/repositories/\(ws)/\(repo)/commit/\(oldHead.prefix(12))")
        #expect(single["hash"] as? String == oldHead)
        let unknown = try await h.get("/2.0/repositories/\(ws)/\(repo)/commits/no-such-branch")
        #expect(unknown.status == 404)
    }

    @Test("role=admin, sort=-updated_on and q= filter repositories")
    func filters() async throws {
        let h = try await SandboxHarness.start { $0.reposPerWorkspace = 12 }
        defer { Task { await h.stop() } }
        let ws = h.server.service.workspaceSlugs()[0]
        let all = try await h.allValues("/2.0/repositories/\(ws)")
        let admin = try await h.allValues("/2.0/repositories/\(ws)?role=admin")
        #expect(!admin.isEmpty && admin.count < all.count)
        let recent = try await h.allValues("/2.0/repositories/\(ws)?sort=-updated_on&fields=values.slug,values.updated_on,next")
        let stamps = recent.compactMap { $0["updated_on"] as? String }.map { String($0.prefix(19)) }
        #expect(stamps == stamps.sorted(by: >))
        let named = try await h.allValues("/2.0/repositories/\(ws)?q=" + #"name ~ "api""#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        #expect(!named.isEmpty && named.allSatisfy { ($0["name"] as? String)?.lowercased().contains("api") == true })
        let since = try await h.allValues("/2.0/repositories/\(ws)?q=" + "updated_on > 2100-01-01T00:00:00".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        #expect(since.isEmpty)
        let bad = try await h.get("/2.0/repositories/\(ws)?q=" + "colour = 1".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        #expect(bad.status == 400)
    }

    @Test("auth: bearer and e-mail + API token work; anything else is a 401 like Bitbucket's")
    func auth() async throws {
        let h = try await SandboxHarness.start()
        defer { Task { await h.stop() } }
        #expect(try await h.get("/2.0/user").status == 200)
        let basic = try await h.get("/2.0/user", auth: "basic")
        #expect(basic.status == 200)
        #expect(basic.headers["X-RateLimit-Limit"] == nil)   // only access tokens get them
        #expect(try await h.get("/2.0/user").headers["X-RateLimit-Limit"] == "1000")

        let none = try await h.get("/2.0/user", auth: nil)
        #expect(none.status == 401)
        #expect(none.headers["Content-Type"]?.hasPrefix("text/plain") == true)
        #expect(none.headers["WWW-Authenticate"]?.hasPrefix("Basic") == true)
        let wrong = try await h.get("/2.0/user", auth: "Bearer nope")
        #expect(wrong.status == 401)
        #expect(wrong.headers["Content-Type"]?.hasPrefix("application/json") == true)
        #expect(wrong.text.contains(#""type":"error""#))
    }

    @Test("the token is derived from the seed")
    func tokens() async throws {
        #expect(BitbucketPersonality.tokens(seed: 1).access == BitbucketPersonality.tokens(seed: 1).access)
        #expect(BitbucketPersonality.tokens(seed: 1).access != BitbucketPersonality.tokens(seed: 2).access)
        let h = try await SandboxHarness.start { $0.seed = 99 }
        defer { Task { await h.stop() } }
        #expect(h.server.service.bitbucket.accessToken == BitbucketPersonality.tokens(seed: 99).access)
    }

    @Test("the same seed builds the same world")
    func deterministic() throws {
        var options = SandboxOptions()
        options.seed = 5
        let a = try SandboxService(options: options), b = try SandboxService(options: options)
        let ws = a.workspaceSlugs()[0]
        #expect(a.workspaceSlugs() == b.workspaceSlugs())
        for repo in a.repositorySlugs(workspace: ws) {
            #expect(a.branches(workspace: ws, repository: repo) == b.branches(workspace: ws, repository: repo))
        }
        #expect(a.push(count: 5) == b.push(count: 5))
    }

    @Test("a rolling-hour limit per credential: 429 as text/plain, Retry-After only when asked for")
    func rateLimit() async throws {
        let h = try await SandboxHarness.start { $0.rateLimitPerHour = 3 }
        defer { Task { await h.stop() } }
        for _ in 0..<3 { #expect(try await h.get("/2.0/user").status == 200) }
        let limited = try await h.get("/2.0/user")
        #expect(limited.status == 429)
        #expect(limited.text == "Rate limit for this resource has been exceeded")
        #expect(limited.headers["Content-Type"]?.hasPrefix("text/plain") == true)
        #expect(limited.headers["Retry-After"] == nil)
        #expect(limited.headers["X-RateLimit-NearLimit"] == "true")
        // Another credential has its own window.
        #expect(try await h.get("/2.0/user", auth: "basic").status == 200)
        let stats = try await h.json("/_sandbox/stats")
        #expect(stats["rate_limited"] as? Int == 1)

        let withRetry = try await SandboxHarness.start { $0.rateLimitPerHour = 1; $0.retryAfterSeconds = 42 }
        defer { Task { await withRetry.stop() } }
        _ = try await withRetry.get("/2.0/user")
        #expect(try await withRetry.get("/2.0/user").headers["Retry-After"] == "42")
    }

    @Test("git ls-remote lists every branch from the refs advertisement, within its own budget")
    func gitLsRemote() async throws {
        let h = try await SandboxHarness.start { $0.rateLimitPerHour = 1 }
        defer { Task { await h.stop() } }
        let ws = h.server.service.workspaceSlugs()[0]
        let repo = h.server.service.repositorySlugs(workspace: ws)[1]
        _ = try await h.get("/2.0/user")   // spends the whole REST budget
        let url = "http://x-token-auth:\(h.server.service.bitbucket.accessToken)@127.0.0.1:\(h.server.bitbucket.port)/git/\(ws)/\(repo).git"
        let output = try await DemoRepositoryTests.offThePool { try runGit(["ls-remote", "--heads", url]) }
        var listed: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            listed[String(parts[1].dropFirst("refs/heads/".count))] = String(parts[0])
        }
        #expect(listed == h.server.service.branches(workspace: ws, repository: repo))
        let parsed = try RefsAdvertisement.parse(try await h.get("/git/\(ws)/\(repo).git/info/refs?service=git-upload-pack",
                                                                 auth: "Basic " + Data("x-token-auth:\(h.server.service.bitbucket.accessToken)".utf8).base64EncodedString()).body)
        #expect(parsed.branches == listed)
        #expect(try await h.get("/git/\(ws)/\(repo).git/info/refs?service=git-upload-pack", auth: nil).status == 401)
    }

    @Test("faults: bursts of 503, resets, truncated and malformed bodies, every-Nth and path patterns")
    func faults() async throws {
        let h = try await SandboxHarness.start { $0.faults = ["503x2@/2.0/user", "reset@/2.0/workspaces/*", "truncate/2@/2.0/repositories/*", "malformed@/2.0/user/workspaces"] }
        defer { Task { await h.stop() } }
        #expect(try await h.get("/2.0/user").status == 503)
        #expect(try await h.get("/2.0/user").status == 503)
        #expect(try await h.get("/2.0/user").status == 200)
        let ws = h.server.service.workspaceSlugs()[0]
        await #expect(throws: HTTPError.self) { _ = try await h.get("/2.0/workspaces/\(ws)") }
        #expect(try await h.get("/2.0/repositories/\(ws)").status == 200)
        await #expect(throws: HTTPError.self) { _ = try await h.get("/2.0/repositories/\(ws)") }
        let malformed = try await h.get("/2.0/user/workspaces")
        #expect(malformed.status == 200)
        #expect((try? JSONSerialization.jsonObject(with: malformed.body)) == nil)
        let stats = try await h.json("/_sandbox/stats")
        let fired = try #require(stats["faults_fired"] as? [String: Int])
        #expect(fired["503x2@/2.0/user"] == 2)

        // Faults change at run time; a delay holds the answer.
        _ = try await h.post("/_sandbox/control", json: ["faults": ["delay:0.3@/2.0/user"]])
        let start = Date()
        #expect(try await h.get("/2.0/user").status == 200)
        #expect(Date().timeIntervalSince(start) >= 0.3)
        let badSpec = try await h.post("/_sandbox/control", json: ["faults": ["explode"]])
        #expect((badSpec["error"] as? String)?.contains("explode") == true)
    }

    @Test("fault specs parse or say what is wrong", arguments: [
        ("503", true), ("503x3", true), ("reset~0.25@/2.0/repositories/*", true), ("delay:2.5@/git/*", true), ("truncate/4", true),
        ("malformed", true), ("429x1", true), ("explode", false), ("200", false), ("503~1.5", false), ("reset/0", false), ("503@", false),
    ])
    func faultSpecs(spec: String, valid: Bool) {
        #expect(((try? FaultSpec(parsing: spec)) != nil) == valid)
    }

    @Test("pushes move heads and bump updated_on, unless told not to")
    func pushes() async throws {
        for bump in [true, false] {
            var options = SandboxOptions()
            options.bumpUpdatedOn = bump
            options.workspaces = 1
            options.reposPerWorkspace = 1
            let clock = TestNow()
            let service = try SandboxService(options: options, now: { clock.now })
            let ws = service.workspaceSlugs()[0]
            let repo = service.repositorySlugs(workspace: ws)[0]
            let before = service.branches(workspace: ws, repository: repo)
            clock.advance(3600)
            let events = service.push(count: 10)
            #expect(events.count == 10)
            let after = service.branches(workspace: ws, repository: repo)
            #expect(after != before)
            for event in events where event.kind == .commit {
                #expect(event.old != nil && event.new != nil && event.old != event.new)
            }
            let request = SandboxRequest(method: "GET", uri: "/2.0/repositories/\(ws)/\(repo)",
                                         headers: ["authorization": "Bearer \(service.bitbucket.accessToken)"], body: Data(), origin: "http://127.0.0.1")
            let reply = service.handle(request, for: .bitbucket)
            let object = try JSONSerialization.jsonObject(with: reply.body) as? [String: Any]
            let updated = try #require(object?["updated_on"] as? String)
            let expectedPrefix = WireFormat.microseconds(clock.now).prefix(19)
            #expect(updated.hasPrefix(expectedPrefix) == bump)
        }
    }
}

final class TestNow: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Date(timeIntervalSince1970: 1_800_000_000)
    var now: Date { lock.withLock { value } }
    func advance(_ seconds: TimeInterval) { lock.withLock { value += seconds } }
}

func runGit(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    process.arguments = arguments
    process.environment = ["GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin", "HOME": "/tmp"]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw HarnessError("git \(arguments.first ?? "") failed: \(String(decoding: errors, as: UTF8.self))")
    }
    return String(decoding: data, as: UTF8.self)
}

@Suite("Sandbox worlds")
struct WorldRoleTests {
    @Test("--administers-all: the account administers every repository on every host; otherwise some are not its")
    func administersAll() {
        var options = SandboxOptions()
        options.workspaces = 6
        options.reposPerWorkspace = 5
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        func roles(_ options: SandboxOptions) -> [Set<String>] {
            [WorldGenerator.build(options: options, start: start), WorldGenerator.buildGitHub(options: options, start: start),
             WorldGenerator.buildGitLab(options: options, start: start)].map { Set($0.repositories.values.map(\.role)) }
        }
        for set in roles(options) { #expect(set.count > 1 && set.contains("admin")) }
        options.administersAll = true
        for set in roles(options) { #expect(set == ["admin"]) }
        let world = WorldGenerator.buildGitHub(options: options, start: start)
        let administered = world.workspaces.values.allSatisfy { $0.isAdmin }
        #expect(administered)
    }
}
