import Foundation
import GRDB
import Testing
@testable import SlipwayCore
import SlipwayProviders

/// The mirror's hot writes (branches bound through SQLite's C API, several repositories to a
/// transaction): what they store, the changes they report, and that a batch is all or nothing.
@Suite("Mirror writes")
struct MirrorWritesTests {
    let tmp = TemporaryDirectory()
    let now = Date(timeIntervalSince1970: 1_790_000_000.123)

    func open() throws -> (Store, Workspace) {
        let store = try Store(path: tmp.file("slipway.db"))
        return (store, try store.linkedWorkspace(now: now).1)
    }

    func listing(_ slug: String, _ branches: [ProviderBranch]) -> Store.RepositoryListing {
        Store.RepositoryListing(path: "bitbucket/acme/\(slug)",
                                remote: ProviderRepository(id: "{\(slug)}", slug: slug, name: slug, fullName: "acme/\(slug)", mainBranch: "main",
                                                           isPrivate: true, updatedOn: now, cloneURL: nil, webURL: nil),
                                isAdmin: false, branches: branches)
    }

    static func hash(_ c: Character) -> String { String(repeating: c, count: 40) }

    @Test("a batch stores every repository and branch as given — empty, absent and hostile text kept apart — with one event per new repository")
    func batch() throws {
        let (store, workspace) = try open()
        let date = Date(timeIntervalSince1970: 1_780_000_000.4567)
        let hostile = "feat/\u{1B}[2J\r\u{202E}évil"
        let branches = [
            ProviderBranch(name: "main", head: ProviderCommit(hash: Self.hash("a"), date: date, author: "Ann <ann@x>", message: "first\nline")),
            ProviderBranch(name: hostile, head: ProviderCommit(hash: Self.hash("b"), date: nil, author: nil, message: "")),
            ProviderBranch(name: "", head: ProviderCommit(hash: Self.hash("c"))),
        ]
        let changes = try store.applyRepositories([listing("api", branches), listing("web", [branches[0]])], workspaceID: workspace.id!, now: now)
        #expect(changes.map(\.kind) == [.repositoryAdded, .repositoryAdded])
        #expect(changes.map(\.path) == ["bitbucket/acme/api", "bitbucket/acme/web"])

        let repositories = try store.repositories(workspaceID: workspace.id!)
        #expect(repositories.map(\.slug).sorted() == ["api", "web"])
        let api = try #require(repositories.first { $0.slug == "api" })
        let stored = try store.branches(repositoryID: api.id!).sorted { $0.name < $1.name }
        #expect(stored.map(\.name) == ["", "feat/\u{1B}[2J\r\u{202E}évil", "main"])
        #expect(stored[0].headMessage == nil && stored[0].headAuthor == nil && stored[0].headDate == nil)
        #expect(stored[1].headMessage == "" && stored[1].headHash == Self.hash("b"))
        #expect(stored[2].headAuthor == "Ann <ann@x>" && stored[2].headMessage == "first\nline")
        // Dates go in as GRDB's own text, to the millisecond, and read back as GRDB reads them.
        #expect(abs(try #require(stored[2].headDate).timeIntervalSince(date)) < 0.001)
        #expect(abs(stored[2].updatedAt.timeIntervalSince(now)) < 0.001)

        let events = try store.changeEvents(after: 0)
        #expect(events.map(\.kind) == [.repositoryAdded, .repositoryAdded])
        #expect(events.allSatisfy { abs($0.createdAt.timeIntervalSince(now)) < 0.001 })
    }

    @Test("listing a known repository again writes only what changed: moved, created, deleted, details filled in; unchanged rows untouched")
    func relisting() throws {
        let (store, workspace) = try open()
        let first = [
            ProviderBranch(name: "main", head: ProviderCommit(hash: Self.hash("a"), message: "m")),
            ProviderBranch(name: "keep", head: ProviderCommit(hash: Self.hash("k"), message: "k")),
            ProviderBranch(name: "gone", head: ProviderCommit(hash: Self.hash("g"))),
            ProviderBranch(name: "bare", head: ProviderCommit(hash: Self.hash("h"))),
        ]
        _ = try store.applyRepositories([listing("api", first)], workspaceID: workspace.id!, now: now)
        let later = now.addingTimeInterval(60)
        let second = [
            ProviderBranch(name: "main", head: ProviderCommit(hash: Self.hash("b"), author: "Bo <b@x>", message: "moved")),
            ProviderBranch(name: "keep", head: ProviderCommit(hash: Self.hash("k"), message: "k")),
            ProviderBranch(name: "bare", head: ProviderCommit(hash: Self.hash("h"), message: "now with a message")),
            ProviderBranch(name: "new", head: ProviderCommit(hash: Self.hash("n"))),
        ]
        let changes = try store.applyRepository(workspaceID: workspace.id!, path: "bitbucket/acme/api", listing("api", second).remote,
                                                isAdmin: false, branches: second, now: later)
        let byKind = Dictionary(grouping: changes, by: \.kind)
        #expect(byKind[.headMoved]?.map { [$0.path, $0.old, $0.new] } == [["bitbucket/acme/api/main", Self.hash("a"), Self.hash("b")]])
        #expect(byKind[.branchCreated]?.map(\.path) == ["bitbucket/acme/api/new"])
        #expect(byKind[.branchDeleted]?.map { [$0.path, $0.old] } == [["bitbucket/acme/api/gone", Self.hash("g")]])
        #expect(changes.count == 3, "filling in a message is no news")

        let api = try #require(try store.repositories(workspaceID: workspace.id!).first)
        let stored = Dictionary(uniqueKeysWithValues: try store.branches(repositoryID: api.id!).map { ($0.name, $0) })
        #expect(stored.keys.sorted() == ["bare", "keep", "main", "new"])
        #expect(stored["main"]?.headMessage == "moved" && stored["main"]?.headAuthor == "Bo <b@x>")
        #expect(stored["bare"]?.headMessage == "now with a message")
        #expect(abs(try #require(stored["keep"]).updatedAt.timeIntervalSince(now)) < 0.001, "an unchanged branch is not rewritten")
        #expect(abs(try #require(stored["main"]).updatedAt.timeIntervalSince(later)) < 0.001)
        #expect(try store.changeEvents(after: 0).map(\.kind).filter { $0 != .repositoryAdded }.count == 3)
    }

    @Test("a batch that fails part way stores none of it, and says which constraint failed")
    func allOrNothing() throws {
        let (store, workspace) = try open()
        let twice = [ProviderBranch(name: "main", head: ProviderCommit(hash: Self.hash("a"))),
                     ProviderBranch(name: "main", head: ProviderCommit(hash: Self.hash("b")))]
        do {
            _ = try store.applyRepositories([listing("fine", [twice[0]]), listing("broken", twice)], workspaceID: workspace.id!, now: now)
            Issue.record("a branch listed twice must violate the unique key")
        } catch {
            #expect("\(error)".contains("UNIQUE constraint failed: branches.repository_id, branches.name"))
        }
        #expect(try store.repositories(workspaceID: workspace.id!).isEmpty)
        #expect(try store.changeEvents(after: 0).isEmpty)
        // The connection's statements are reset: the next batch goes in.
        _ = try store.applyRepositories([listing("fine", [twice[0]])], workspaceID: workspace.id!, now: now)
        #expect(try store.repositories(workspaceID: workspace.id!).map(\.slug) == ["fine"])
    }
}

extension MirrorWritesTests {
    @Test("branches keep the unique (repository, name) key and the recency index, not a third on the repository alone")
    func branchIndexes() throws {
        let (store, _) = try open()
        let indexes = try store.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'branches' AND sql IS NOT NULL") }
        #expect(indexes == ["branches_by_recency"])
        let plan = try store.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT id, name FROM branches WHERE repository_id = 1").map { $0["detail"] as String }.joined(separator: " ")
        }
        #expect(plan.hasPrefix("SEARCH branches USING"), "lookups by repository still search an index: \(plan)")
    }
}

extension MirrorWritesTests {
    @Test("the writer keeps temporary files in memory; readers keep SQLite's default")
    func tempStore() throws {
        let (store, _) = try open()
        #expect(try store.write { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") } == 2)
        #expect(try store.read { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") } == 0)
    }
}

import CSQLiteTuning

extension MirrorWritesTests {
    @Test("the SQLite tuning calls reach SQLite: lookaside is set on a fresh connection; statistics can only be turned off before SQLite starts")
    func sqliteTuning() throws {
        let (store, _) = try open()
        let queue = try DatabaseQueue(path: tmp.file("other.db"))
        let code = try queue.inDatabase { db in slw_sqlite_set_lookaside(UnsafeMutableRawPointer(db.sqliteConnection), 1200, 500) }
        #expect(code == 0 || code == 5, "SQLITE_OK, or SQLITE_BUSY when GRDB's own statements hold lookaside: \(code)")
        // SQLite is running (the store is open): too late, and it says so rather than changing anything.
        #expect(slw_sqlite_disable_memstatus() == 21)
        _ = store
    }
}
