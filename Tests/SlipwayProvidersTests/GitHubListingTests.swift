import Foundation
import Synchronization
import Testing
@testable import SlipwayProviders

/// The listing's bookkeeping, with its requests stood in for: chains start together once the
/// first page says there are more, each is waited on only by the owners it lists, a failed one is
/// asked again, refs are handed out once.
@Suite("GitHub listing chains", .timeLimit(.minutes(1)))
struct GitHubListingTests {
    static func repository(_ fullName: String) -> GitHubWire.GraphRepository {
        let owner = String(fullName.split(separator: "/")[0])
        return GitHubWire.GraphRepository(databaseId: nil, name: String(fullName.split(separator: "/")[1]), nameWithOwner: fullName,
                                          owner: .init(login: owner, __typename: nil), isPrivate: true, viewerPermission: "ADMIN",
                                          pushedAt: nil, updatedAt: nil, url: nil, defaultBranchRef: nil,
                                          refs: GitHubWire.Refs(totalCount: 0, nodes: [], pageInfo: .init(hasNextPage: false, endCursor: nil)))
    }

    static let head = GitHubListing.Head(viewer: "me", organizations: [.init(login: "fast", name: nil), .init(login: "slow", name: nil)],
                                         firstPage: [repository("fast/a")], complete: false)

    @Test("every chain starts with the first page; an owner's chain answers while another's is still out; the slow one arrives when released")
    func ownersWaitOnlyForTheirChains() async throws {
        let started = Mutex<[String]>([])
        let (released, release) = AsyncStream<Void>.makeStream()
        let listing = GitHubListing()
        let chain: GitHubListing.Chain = { organization in
            started.withLock { $0.append(organization ?? "") }
            switch organization {
            case nil: return [Self.repository("me/own"), Self.repository("bob/shared")]
            case "slow"?:
                for await _ in released { break }
                return [Self.repository("slow/late")]
            default: return [Self.repository("\(organization!)/a")]
            }
        }
        _ = try await listing.head(fetch: { Self.head }, chain: chain)
        _ = try await listing.head(fetch: { Issue.record("the first page was asked twice"); return Self.head }, chain: chain)
        #expect(try await listing.chain(organization: nil).map(\.nameWithOwner) == ["me/own", "bob/shared"])
        #expect(try await listing.chain(organization: "fast").map(\.nameWithOwner) == ["fast/a"])
        #expect(Set(started.withLock { $0 }) == ["", "fast", "slow"])
        let slow = Task { try await listing.chain(organization: "slow") }
        release.yield()
        #expect(try await slow.value.map(\.nameWithOwner) == ["slow/late"])
        #expect(started.withLock { $0.count } == 3)
        // Refs once: the first page's and the chains' that were waited on.
        #expect(await listing.takeRefs("fast/a") != nil)
        #expect(await listing.takeRefs("fast/a") == nil)
        #expect(await listing.takeRefs("slow/late") != nil)
    }

    @Test("a chain that failed is asked again by the next caller; a complete first page starts none")
    func failedChainsAreAskedAgain() async throws {
        let attempts = Mutex(0)
        let listing = GitHubListing()
        _ = try await listing.head(fetch: { Self.head }, chain: { organization in
            guard organization == "fast" else { return [] }
            let attempt = attempts.withLock { $0 += 1; return $0 }
            if attempt == 1 { throw URLError(.timedOut) }
            return [Self.repository("fast/b")]
        })
        await #expect(throws: URLError.self) { try await listing.chain(organization: "fast") }
        #expect(try await listing.chain(organization: "fast").map(\.nameWithOwner) == ["fast/b"])
        #expect(attempts.withLock { $0 } == 2)

        var small = Self.head
        small.complete = true
        let none = GitHubListing()
        let smallHead = small
        _ = try await none.head(fetch: { smallHead }, chain: { _ in Issue.record("a complete listing started a chain"); return [] })
        #expect(try await none.chain(organization: nil).isEmpty)
    }

    @Test("callers arriving together, each asking for the head and then the viewer's chain, all get it from one first page and one chain")
    func callersTogether() async throws {
        let asked = Mutex((heads: 0, chains: 0))
        let listing = GitHubListing()
        let fetch: @Sendable () async throws -> GitHubListing.Head = {
            asked.withLock { $0.heads += 1 }
            await Task.yield()
            return Self.head
        }
        let chain: GitHubListing.Chain = { organization in
            if organization == nil { asked.withLock { $0.chains += 1 } }
            return organization == nil ? [Self.repository("me/own")] : []
        }
        let found = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<10 {
                group.addTask {
                    _ = try await listing.head(fetch: fetch, chain: chain)
                    return try await listing.chain(organization: nil).map(\.nameWithOwner)
                }
            }
            var all: [[String]] = []
            for try await names in group { all.append(names) }
            return all
        }
        #expect(found.count == 10 && found.allSatisfy { $0 == ["me/own"] })
        #expect(asked.withLock { $0.heads } == 1 && asked.withLock { $0.chains } == 1)
    }
}
