import Foundation
import Testing
import SlipwayHTTP
@testable import SlipwaySandbox

/// The sandbox's plain public git host: real repositories anyone may clone, a private path that
/// asks for credentials, 404 for anything else, pushes that make real commits, and one window for
/// anonymous clients.
@Suite("Sandbox git personality", .timeLimit(.minutes(2)))
struct GitPersonalityTests {
    static func start(_ configure: (inout SandboxOptions) -> Void = { _ in }) async throws -> SandboxServer {
        var options = SandboxOptions()
        options.personalities = [.git]
        configure(&options)
        return try await SandboxServer.start(options: options)
    }

    @Test("git clones a public repository with no credentials; a push is a real commit that ls-remote sees")
    func cloneAndPush() async throws {
        let server = try await Self.start()
        defer { Task { await server.stop() } }
        let scratch = FileManager.default.temporaryDirectory.path + "/git-personality-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let url = "\(server.git.origin)/demo/hello-web.git"
        let clone = try await DemoRepositoryTests.offThePool { try DemoRepositoryTests.git(["clone", "-q", url, scratch]) }
        #expect(clone.status == 0, "\(clone.output)")
        #expect(FileManager.default.fileExists(atPath: scratch + "/Makefile"))
        let push = try #require(await server.service.pushDemo("hello-web", on: .git))
        let remote = try await DemoRepositoryTests.offThePool { try DemoRepositoryTests.git(["ls-remote", url, "refs/heads/main"]) }
        #expect(remote.status == 0 && remote.output.hasPrefix(push.new ?? "-"), "\(remote.output)")
        #expect(server.service.branches(workspace: "demo", repository: "hello-web", on: .git)["main"] == push.new)
    }

    @Test("a private path asks for credentials (401, WWW-Authenticate), anything else is 404; no credential is ever needed or looked at")
    func refusals() async throws {
        let server = try await Self.start()
        defer { Task { await server.stop() } }
        let service = server.service
        func get(_ path: String, headers: [String: String] = [:]) -> (status: Int, headers: [(String, String)]) {
            let reply = service.respond(method: "GET", url: "\(server.git.origin)\(path)", headers: headers, body: Data(), as: .git)
            return (reply.status, reply.headers)
        }
        let open = get("/demo/hello-web.git/info/refs?service=git-upload-pack")
        #expect(open.status == 200 && open.headers.contains { $0 == ("Content-Type", "application/x-git-upload-pack-advertisement") })
        let locked = get("/private/internal.git/info/refs?service=git-upload-pack", headers: ["Authorization": "Basic eDp5"])
        #expect(locked.status == 401 && locked.headers.contains { $0.0 == "WWW-Authenticate" && $0.1.hasPrefix("Basic") })
        #expect(get("/demo/missing.git/info/refs?service=git-upload-pack").status == 404)
        #expect(get("/demo/hello-web.git/info/refs?service=git-receive-pack").status == 403)
        #expect(get("/api/v4/projects").status == 404)
    }

    @Test("anonymous clients share one git window: past it, 429 with Retry-After")
    func window() async throws {
        let server = try await Self.start { $0.gitRateLimits = [.git: 2] }
        defer { Task { await server.stop() } }
        let statuses = (0..<3).map { _ in
            server.service.respond(method: "GET", url: "\(server.git.origin)/demo/flaky-api.git/info/refs?service=git-upload-pack",
                                   headers: [:], body: Data(), as: .git).status
        }
        #expect(statuses == [200, 200, 429])
    }
}
