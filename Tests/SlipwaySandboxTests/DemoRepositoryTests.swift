import Foundation
import Testing
@testable import SlipwaySandbox

/// The demo workspace is backed by real git repositories: only real commits may move its heads.
@Suite("Demo repositories", .timeLimit(.minutes(3)))
struct DemoRepositoryTests {
    static func git(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": FileManager.default.temporaryDirectory.path, "GIT_CONFIG_NOSYSTEM": "1"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// git on a thread of its own: the sandbox answering it needs the concurrency pool.
    static func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    @Test("200 random pushes never touch a real repository; every demo head is a commit git has, and each clones and passes fsck")
    func randomPushesSpareRealRepositories() async throws {
        let harness = try await SandboxHarness.start { $0.demoRepositories = true; $0.reposPerWorkspace = 2 }
        defer { Task { await harness.stop() } }
        let service = harness.server.service
        let before = Dictionary(uniqueKeysWithValues: DemoRepositories.projects.map { ($0.slug, service.branches(workspace: "demo", repository: $0.slug)) })
        let pushes = service.push(count: 200)
        #expect(pushes.count == 200)
        #expect(!pushes.contains { $0.repository.hasPrefix("demo/") }, "a simulated push moved a real repository")
        await service.pushDemo()   // a real push still moves one
        let scratch = FileManager.default.temporaryDirectory.path + "/demo-clone-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var moved = 0
        for project in DemoRepositories.projects {
            let heads = service.branches(workspace: "demo", repository: project.slug)
            if heads != before[project.slug] { moved += 1 }
            let clone = "\(scratch)/\(project.slug)"
            let basic = Data("x-token-auth:\(service.bitbucket.accessToken)".utf8).base64EncodedString()
            let cloned = try await Self.offThePool {
                try Self.git(["-c", "http.extraHeader=Authorization: Basic \(basic)", "clone", "-q", "\(harness.server.bitbucket.origin)/git/demo/\(project.slug).git", clone])
            }
            #expect(cloned.status == 0, "\(project.slug): \(cloned.output)")
            for (branch, hash) in heads {
                let has = try Self.git(["-C", clone, "cat-file", "-e", "\(hash)^{commit}"])
                #expect(has.status == 0, "\(project.slug) \(branch) names \(hash), which git does not have")
            }
            let fsck = try Self.git(["-C", clone, "fsck", "--no-progress"])
            #expect(fsck.status == 0, "\(project.slug): \(fsck.output)")
        }
        #expect(moved == 1)
    }
}
