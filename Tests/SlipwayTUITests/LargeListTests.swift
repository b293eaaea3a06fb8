import Foundation
import GRDB
import SlipwayCore
import Testing
@testable import SlipwayTUI
import SlipwayProviders

/// Lists of thousands of branches are filtered and paged in memory; they must show exactly what
/// the SQL path shows.
@Suite("Large branch lists")
struct LargeListTests {
    let fixture: DashboardFixture

    init() throws {
        fixture = try DashboardFixture(empty: true)
        let now = DashboardFixture.now
        try fixture.store.write { db in
            var account = Account(provider: .bitbucket, username: "ada", apiURL: "https://api.bitbucket.org/2.0", webURL: "https://bitbucket.org",
                                  auth: .token, createdAt: now)
            try account.insert(db)
            var workspace = Workspace(accountID: account.id!, slug: "acme", name: "Acme", updatedAt: now)
            try workspace.insert(db)
            let authors = ["Ada Lovelace <ada@example.com>", "Grace Hopper <grace@example.com>", "李小龙 <li@example.cn>"]
            for r in 0..<6 {
                var repository = Repository(workspaceID: workspace.id!, slug: "svc-\(r)", name: "Svc \(r)", fullName: "acme/svc-\(r)", updatedAt: now)
                try repository.insert(db)
                for b in 0..<1000 {
                    var branch = Branch(repositoryID: repository.id!, name: ["feature", "Bugfix", "release"][b % 3] + "/\(r)-\(b)",
                                        headHash: String(format: "%040x", r * 1000 + b), headDate: now.addingTimeInterval(-Double(b) * 60),
                                        headAuthor: authors[b % 3], headMessage: "Change \(b)\nsecond line mentions zebra", updatedAt: now)
                    try branch.insert(db)
                }
            }
            // A second workspace repeating a repository slug, and heads that are odd: no date, no
            // author, a hash that is not 40 hex digits (or is, in capitals), names alike but for case.
            var beta = Workspace(accountID: account.id!, slug: "beta", name: "Beta", updatedAt: now)
            try beta.insert(db)
            var twin = Repository(workspaceID: beta.id!, slug: "svc-0", name: "Svc 0", fullName: "beta/svc-0", updatedAt: now)
            try twin.insert(db)
            let hashes = ["ABCDEF" + String(repeating: "0", count: 34), "not-a-hash-00003e", String(repeating: "d", count: 64)]
            for b in 0..<30 {
                var branch = Branch(repositoryID: twin.id!, name: ["Feature/0-\(b)", "feature/0-\(b)", "MAIN"][b % 3] + (b % 3 == 2 ? "\(b)" : ""),
                                    headHash: hashes[b % 3], headDate: b % 4 == 0 ? nil : now.addingTimeInterval(-Double(b) * 60),
                                    headAuthor: b % 5 == 0 ? nil : authors[b % 3], headMessage: "Odd \(b)", updatedAt: now)
                try branch.insert(db)
            }
        }
    }

    func ids(_ items: [Item]) -> [Int64] { items.compactMap { if case let .branch(row) = $0 { row.branch.id } else { nil } } }

    /// Every needle in one test per sort, so the index is read four times, not once a needle
    /// (each read holds a test thread, and the pool is shared with every other test).
    static let needles = ["", "feat", "BUGFIX/3-1", "grace", "李小龙", "change 99", "zebra", "no-such-branch",
                          // a repository's name, the provider in its path, a hash's middle, an author's address
                          "svc-4", "bitbucket/acme/svc-2", "00003e", "li@example", "a",
                          // hashes: a capital one, one kept as text, a 64-digit one; digits at odd offsets
                          "abcdef000", "NOT-A-HASH", "ddddddddddddddddddddddddddddddddddddddddd", "3e8", "0"]

    @Test("filtering and paging in memory match SQL, ASCII case-insensitively, by name, author and subject, in every sort",
          arguments: Store.BrowseSort.allCases)
    func matchesSQL(sort: Store.BrowseSort) throws {
        let source = fixture.source()
        let kind = LevelKind.branches(accountID: 1, repositoryID: nil)
        for needle in Self.needles {
            for (offset, limit) in [(0, 50), (1200, 40), (5990, 50)] {
                let query = Store.BrowseQuery(filter: needle, sort: sort, offset: offset, limit: limit)
                let large = try source.load(kind, query: query)
                let sql = try fixture.store.branchWindow(accountID: 1, repositoryID: nil, query)
                // The subject only is searched in memory: "zebra" lives on a second line.
                if needle == "zebra" {
                    #expect(large.total == 0)
                    continue
                }
                #expect(large.total == sql.total, "\(needle) total")
                #expect(ids(large.items) == sql.rows.map { $0.branch.id! }, "\(needle) at \(offset)")
            }
        }
    }

    @Test("typing on narrows the last answer and deleting back reuses it: every step still matches SQL")
    func typingMatchesSQL() throws {
        let source = fixture.source()
        let kind = LevelKind.branches(accountID: 1, repositoryID: nil)
        var typed = ""
        var steps: [String] = []
        for character in "svc-3/bugfix" { typed.append(character); steps.append(typed) }
        steps += steps.reversed().dropFirst() + ["grace", "grace h", "gr", "3-99", "3-9"]
        for needle in steps {
            let query = Store.BrowseQuery(filter: needle, sort: .recent, offset: 0, limit: 30)
            let large = try source.load(kind, query: query)
            let sql = try fixture.store.branchWindow(accountID: 1, repositoryID: nil, query)
            #expect(large.total == sql.total, "\(needle) total")
            #expect(ids(large.items) == sql.rows.map { $0.branch.id! }, "\(needle)")
        }
    }

    @Test("the index follows the mirror: a new branch shows once the index is older than its age; other writes read nothing again")
    func refreshes() throws {
        let clock = TestClock(DashboardFixture.now)
        let source = StoreSource(store: fixture.store, home: "~", host: "buildhost", clock: { clock.now }, engine: { .embedded })
        let kind = LevelKind.branches(accountID: 1, repositoryID: nil)
        let query = Store.BrowseQuery(filter: "brand-new", sort: .name, offset: 0, limit: 10)
        #expect(try source.load(kind, query: query).total == 0)
        let first = try #require(source.largeListIndexBuiltAt())
        // A write that is not the mirror's (a command queued): the index stays as read.
        _ = try source.requestRefresh(path: "bitbucket/acme")
        clock.advance(StoreSource.indexMaxAge + 1)
        _ = try source.load(kind, query: query)
        #expect(source.largeListIndexBuiltAt() == first)
        try fixture.store.write { db in
            var branch = Branch(repositoryID: 1, name: "brand-new", headHash: String(repeating: "f", count: 40), updatedAt: DashboardFixture.now)
            try branch.insert(db)
        }
        // The index is past its age and the mirror moved: read again, the new branch is there.
        #expect(try source.load(kind, query: query).total == 1)
        let second = try #require(source.largeListIndexBuiltAt())
        #expect(second != first)
        // Within its age the list may lag behind the mirror; after it, it catches up.
        try fixture.store.write { db in
            var branch = Branch(repositoryID: 1, name: "brand-new-2", headHash: String(repeating: "e", count: 40), updatedAt: DashboardFixture.now)
            try branch.insert(db)
        }
        #expect(try source.load(kind, query: query).total == 1)
        clock.advance(StoreSource.indexMaxAge + 1)
        #expect(try source.load(kind, query: query).total == 2)
    }
}

/// A clock the test moves by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date) { current = start }
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}
