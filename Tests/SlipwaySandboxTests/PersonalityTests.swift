import Foundation
import SlipwayHTTP
import Testing
@testable import SlipwaySandbox

@Suite("Sandbox world and personalities")
struct PersonalityTests {
    @Test("the world is served by each chosen personality at a base URL of its own, with its link line")
    func endpoints() async throws {
        let h = try await SandboxHarness.start { $0.personalities = [.bitbucket] }
        defer { Task { await h.stop() } }
        #expect(h.server.endpoints.map(\.personality) == [.bitbucket])
        let endpoint = h.server.bitbucket
        #expect(endpoint.port > 0 && endpoint.origin == "http://127.0.0.1:\(endpoint.port)")
        #expect(endpoint.apiURL == endpoint.origin + "/2.0" && endpoint.webURL == endpoint.origin)
        #expect(endpoint.linkCommand == "slipway link bitbucket --api-url \(endpoint.apiURL) --web-url \(endpoint.webURL) --token-file -")
        let link = try #require(endpoint.banner.first { $0.label == "link" })
        #expect(link.value.hasSuffix(endpoint.linkCommand) && link.value.contains(h.server.service.bitbucket.accessToken))
        #expect(h.server.endpoint(.github) == nil)
        let stats = try await h.json("/_sandbox/stats")
        #expect(stats["personalities"] as? [String] == ["bitbucket"])
        #expect((stats["requests_by_personality"] as? [String: Int]) == [:])
        _ = try await h.get("/2.0/user")
        #expect((try await h.json("/_sandbox/stats")["requests_by_personality"] as? [String: Int])?["bitbucket"] == 1)
    }

    @Test("personalities the sandbox does not have are refused with the ones it has, before anything starts")
    func unknownPersonalities() throws {
        #expect(throws: SandboxOptions.ValidationError.self) { try SandboxPersonalityName.parseList("bitbucket,gitlub") }
        do {
            _ = try SandboxPersonalityName.parse("gitlub")
            Issue.record("parsed an unknown name")
        } catch {
            #expect(error.description == "unknown sandbox personality 'gitlub'; choose from bitbucket, github, gitlab, git, digitalocean")
        }
        #expect(try SandboxPersonalityName.parseList(" bitbucket , bitbucket ") == [.bitbucket])
        var options = SandboxOptions()
        options.personalities = []
        #expect(throws: SandboxOptions.ValidationError.self) { try options.validate() }
        options.personalities = [.bitbucket]
        options.port = 65535
        #expect(throws: Never.self) { try options.validate() }
        options.gitlabVersion = "latest"
        #expect(throws: SandboxOptions.ValidationError.version("--gitlab-version latest is not a release number like 17.9.0")) { try options.validate() }
    }

    @Test("a rate limit may name a personality; it wins over the one for all of them, and control can change it")
    func perPersonalityLimits() async throws {
        var parsed = SandboxOptions()
        try parsed.applyRateLimit("500", git: false)
        try parsed.applyRateLimit("bitbucket=2", git: false)
        try parsed.applyRateLimit("bitbucket=0", git: true)
        #expect(parsed.rateLimitPerHour == 500 && parsed.rateLimits == [.bitbucket: 2] && parsed.gitRateLimits == [.bitbucket: 0])
        #expect(throws: SandboxOptions.ValidationError.self) { try parsed.applyRateLimit("bitbucket=-1", git: false) }
        #expect(throws: SandboxOptions.ValidationError.self) { try parsed.applyRateLimit("gitlub=5", git: false) }

        let h = try await SandboxHarness.start { _ = try? $0.applyRateLimit("bitbucket=2", git: false) }
        defer { Task { await h.stop() } }
        #expect(try await h.get("/2.0/user").status == 200)
        let second = try await h.get("/2.0/user")
        #expect(second.status == 200 && second.headers["X-RateLimit-Limit"] == "2")
        #expect(try await h.get("/2.0/user").status == 429)
        let stats = try await h.json("/_sandbox/stats")
        #expect((stats["rate_limits"] as? [String: Int]) == ["bitbucket": 2])
        // Raised at run time for that personality, the window counts on.
        let changed = try await h.post("/_sandbox/control", json: ["rate_limits": ["bitbucket": 10]])
        #expect((changed["rate_limits"] as? [String: Int]) == ["bitbucket": 10])
        #expect(try await h.get("/2.0/user").status == 200)
        let refused = try await h.post("/_sandbox/control", json: ["rate_limits": ["gitlab": 10]])
        #expect((refused["error"] as? String)?.contains("gitlab") == true)
    }

    @Test("a fault may name a personality: it fires there, and a fault for all fires everywhere")
    func perPersonalityFaults() async throws {
        let spec = try FaultSpec(parsing: "bitbucket:503x1@/2.0/user")
        #expect(spec.personality == .bitbucket && spec.kind == .status(503) && spec.pattern == "/2.0/user")
        #expect(try FaultSpec(parsing: "delay:2@/git/*").kind == .delay(2))
        #expect(throws: FaultSpec.ParseError.self) { try FaultSpec(parsing: "gitlub:503") }
        var options = SandboxOptions()
        options.faults = ["bitbucket:"]
        #expect(throws: SandboxOptions.ValidationError.self) { try options.validate() }

        let h = try await SandboxHarness.start { $0.faults = ["bitbucket:503x1@/2.0/user", "429x1@/2.0/user/workspaces"] }
        defer { Task { await h.stop() } }
        #expect(try await h.get("/2.0/user").status == 503)
        #expect(try await h.get("/2.0/user").status == 200)
        let limited = try await h.get("/2.0/user/workspaces")
        #expect(limited.status == 429 && limited.text == "Rate limit for this resource has been exceeded")
        let fired = try #require(try await h.json("/_sandbox/stats")["faults_fired"] as? [String: Int])
        #expect(fired == ["bitbucket:503x1@/2.0/user": 1, "429x1@/2.0/user/workspaces": 1])
    }

    @Test("a push moves its host's part of the world; the same seed pushes the same way")
    func pushesCarryTheirHost() async throws {
        let service = try SandboxService(options: SandboxOptions())
        let pushes = service.push(count: 5)
        #expect(pushes.count == 5 && pushes.allSatisfy { $0.host == .bitbucket })
        for push in pushes where push.new != nil {
            let (workspace, slug) = (String(push.repository.split(separator: "/")[0]), String(push.repository.split(separator: "/")[1]))
            #expect(service.branches(workspace: workspace, repository: slug, on: .bitbucket)[push.branch] != nil
                    || pushes.contains { $0.repository == push.repository && $0.branch == push.branch && $0.kind == .branchDeleted })
        }
        // The same seed pushes the same way: one host draws no extra numbers.
        let again = try SandboxService(options: SandboxOptions())
        #expect(again.push(count: 5) == pushes)
    }
}
