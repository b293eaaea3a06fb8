import Foundation
import Testing
import SlipwayHTTP
import SlipwayProviders
import SlipwaySandbox

/// Public Git's adapter over real loopback HTTP (libcurl) and real git against the sandbox's
/// plain git host: no credential ever sent, heads from the refs advertisement, details and
/// history from partial fetches into a cache, a budget per host.
@Suite("Public Git adapter", .timeLimit(.minutes(2)))
struct PublicGitAdapterTests {
    struct Rig {
        let server: SandboxServer
        let transport: RecordingTransport
        let ledger: InMemoryBudgetLedger
        let http: HTTPClient
        let cacheDirectory: String

        func provider(_ paths: [String], cacheLimit: Int64 = 200 << 20) throws -> PublicGitProvider {
            PublicGitProvider(repositories: try paths.map { try PublicGitURL.parse("\(server.git.origin)/\($0).git") }, http: http,
                              budgetCredential: "account:1", cache: GitObjectCache(directory: cacheDirectory, limitBytes: cacheLimit))
        }
    }

    func rig() async throws -> Rig {
        var options = SandboxOptions()
        options.personalities = [.git]
        let server = try await SandboxServer.start(options: options)
        let transport = RecordingTransport()
        let ledger = InMemoryBudgetLedger()
        var configuration = HTTPClient.Configuration()
        configuration.limits = { _ in BudgetLimits(hourlyAllowance: 600, fraction: 0.8, maxInFlight: 2) }
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-git-cache-\(UUID().uuidString.prefix(8))").path
        return Rig(server: server, transport: transport, ledger: ledger, http: HTTPClient(transport: transport, ledger: ledger, configuration: configuration),
                   cacheDirectory: cache)
    }

    @Test("the listing and branches of added repositories, heads with details, no Authorization anywhere, spent from the host's git budget")
    func mirror() async throws {
        let rig = try await rig()
        defer { Task { await rig.server.stop() }; rig.transport.inner.shutdown(); try? FileManager.default.removeItem(atPath: rig.cacheDirectory) }
        let git = try rig.provider(["demo/hello-web", "demo/flaky-api"])
        let host = "127.0.0.1:\(rig.server.git.port)"
        #expect(try await git.workspaces().map(\.slug) == [host])
        let repositories = try await git.repositories(in: host)
        #expect(repositories.map(\.slug) == ["demo/hello-web", "demo/flaky-api"] && repositories.allSatisfy { $0.mainBranch == "main" && !$0.isPrivate })
        let branches = try await git.branches(workspace: host, repository: "demo/hello-web")
        let head = try #require(branches.first { $0.name == "main" }?.head)
        #expect(head.hash == rig.server.service.branches(workspace: "demo", repository: "hello-web", on: .git)["main"])
        #expect(head.author == "Demo Bot <demo@example.com>" && head.message == "Start Hello web" && head.date != nil)
        #expect(rig.transport.headers.allSatisfy { $0["Authorization"] == nil })
        // Two advertisements and one fetch (git's own two requests) from this host's bucket.
        let bucket = try #require(await rig.ledger.bucket(BudgetKey(host: host, credential: "account:1", kind: .git)))
        #expect(Int((bucket.capacity - bucket.tokens).rounded()) == 4)
    }

    @Test("a repository that asks for credentials is lost access, never a rejected account; a missing one is gone")
    func refusals() async throws {
        let rig = try await rig()
        defer { Task { await rig.server.stop() }; rig.transport.inner.shutdown() }
        let git = try rig.provider(["private/internal", "demo/missing"])
        do {
            _ = try await git.branchHeads(cloneURL: "\(rig.server.git.origin)/private/internal.git")
            Issue.record("a private repository answered")
        } catch {
            #expect(git.classify(error) == .lostAccess, "\(error)")
        }
        do {
            _ = try await git.branchHeads(cloneURL: "\(rig.server.git.origin)/demo/missing.git")
            Issue.record("a missing repository answered")
        } catch {
            #expect(git.classify(error) == .gone, "\(error)")
        }
    }

    @Test("history comes from a shallow fetch: the new commits since the stored head, newest first, with parents; details of moved heads in one fetch")
    func history() async throws {
        let rig = try await rig()
        defer { Task { await rig.server.stop() }; rig.transport.inner.shutdown(); try? FileManager.default.removeItem(atPath: rig.cacheDirectory) }
        let host = "127.0.0.1:\(rig.server.git.port)"
        let first = try #require(rig.server.service.branches(workspace: "demo", repository: "hello-web", on: .git)["main"])
        let second = try #require(await rig.server.service.pushDemo("hello-web", on: .git))
        let third = try #require(await rig.server.service.pushDemo("hello-web", on: .git))
        let git = try rig.provider(["demo/hello-web"])
        let heads = try await git.branchHeads(cloneURL: "\(rig.server.git.origin)/demo/hello-web.git")
        #expect(heads["main"] == third.new)
        let details = try await git.commits(workspace: host, repository: "demo/hello-web", hashes: [third.new!])
        #expect(details[third.new!]?.message == "Release v4" && details[third.new!]?.parents == [second.new!])
        let commits = try await git.commits(workspace: host, repository: "demo/hello-web", revision: third.new!, exclude: [first], limit: 10)
        #expect(commits.map(\.hash) == [third.new!, second.new!] && commits.last?.parents == [first])
    }

    @Test("past cache_mb the least recently used repository is removed, never the one in use")
    func pruning() async throws {
        let rig = try await rig()
        defer { Task { await rig.server.stop() }; rig.transport.inner.shutdown(); try? FileManager.default.removeItem(atPath: rig.cacheDirectory) }
        let host = "127.0.0.1:\(rig.server.git.port)"
        let git = try rig.provider(["demo/hello-web", "demo/flaky-api"], cacheLimit: 1)
        _ = try await git.branches(workspace: host, repository: "demo/hello-web")
        func cached() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: rig.cacheDirectory)) ?? []).filter { $0.hasSuffix(".git") } }
        #expect(cached().count == 1 && cached().first?.hasPrefix("hello-web-") == true)
        _ = try await git.branches(workspace: host, repository: "demo/flaky-api")
        #expect(cached().count == 1 && cached().first?.hasPrefix("flaky-api-") == true, "\(cached())")
    }
}
