import Foundation
import GRDB
import GRDBSQLite

extension Store {
    public func mirrorGeneration() throws -> MirrorGeneration {
        try read { db in try Self.mirrorGeneration(db) }
    }

    static func mirrorGeneration(_ db: Database) throws -> MirrorGeneration {
        let row = try Row.fetchOne(db, sql: "SELECT (SELECT MAX(id) FROM change_events), (SELECT MAX(id) FROM branches), (SELECT COUNT(*) FROM accounts)")
        return MirrorGeneration(lastEvent: row?[0] ?? 0, lastBranch: row?[1] ?? 0, accounts: row?[2] ?? 0)
    }

    /// The search index of a scope's branches in `sort`'s order (the order `branchWindow` lists
    /// them in). The rows are read unsorted — sorting a million wide rows was most of SQLite's
    /// time — in two halves by id on two cores for a large scope, and ordered in memory by small
    /// numbers: each distinct name, author and repository ranked once. Nil when the scope has
    /// fewer than `atLeast` branches (a short list is better read a window at a time). Scopes of
    /// at least `partRows` branches are read in halves.
    public func branchSearchIndex(accountID: Int64?, repositoryID: Int64?, sort: BrowseSort, atLeast: Int = 0,
                                  partRows: Int = Store.indexPartRows) throws -> BranchSearchIndex? {
        let scope = BranchIndexScope(accountID: accountID, repositoryID: repositoryID)
        guard let plan = try read({ db in try Self.indexPlan(db, scope, atLeast: atLeast) }) else { return nil }
        let partCount = repositoryID == nil && plan.expected >= partRows ? max(1, min(2, ProcessInfo.processInfo.activeProcessorCount)) : 1
        // Ids are kept as 32-bit offsets from the first: a mirror whose ids span more is listed by SQL.
        guard plan.lastID - plan.firstID <= Int64(UInt32.max) else { return nil }
        // Each part in its own read transaction, kept only when it saw the plan's generation. The
        // first reserves room for all, so the others are copied into place, not regrown.
        let parts = IndexParts(count: partCount)
        DispatchQueue.concurrentPerform(iterations: partCount) { part in
            let low = plan.firstID + (plan.lastID - plan.firstID + 1) * Int64(part) / Int64(partCount)
            let high = plan.firstID + (plan.lastID - plan.firstID + 1) * Int64(part + 1) / Int64(partCount) - 1
            let expected = (part == 0 ? plan.expected : plan.expected / partCount) + 1024
            parts.set(part, Result { try self.read { db in
                (try Self.mirrorGeneration(db), try Self.scanBranches(db, scope, ids: low...high, plan: plan, sort: sort, expected: expected))
            } })
        }
        // A part that failed is read again below, in one transaction, which reports a real error.
        if var results = try? parts.take(), results.allSatisfy({ $0.0 == plan.generation }) {
            var builder = results.removeFirst().1
            while !results.isEmpty {
                var other = results.removeFirst().1
                builder.absorb(&other)
            }
            return builder.finish(repositories: plan.repositories, generation: plan.generation)
        }
        // The mirror moved between the plan and a part: everything again in one transaction.
        return try read { db in
            guard let plan = try Self.indexPlan(db, scope, atLeast: atLeast), plan.lastID - plan.firstID <= Int64(UInt32.max) else { return nil }
            var builder = try Self.scanBranches(db, scope, ids: plan.firstID...plan.lastID, plan: plan, sort: sort, expected: plan.expected)
            return builder.finish(repositories: plan.repositories, generation: plan.generation)
        }
    }

    /// Scopes at least this large are read in halves on two cores.
    public static let indexPartRows = 200_000

    private static func indexPlan(_ db: Database, _ scope: BranchIndexScope, atLeast: Int) throws -> IndexPlan? {
        let expected = try branchCount(db, accountID: scope.accountID, repositoryID: scope.repositoryID)
        guard expected >= atLeast else { return nil }
        let generation = try mirrorGeneration(db)
        var repositories = IndexedRepositories()
        try eachRow(db, sql: """
            SELECT r.id, a.provider || '/' || w.slug || '/' || r.slug, r.slug, a.provider FROM repositories r
            JOIN workspaces w ON w.id = r.workspace_id JOIN accounts a ON a.id = w.account_id WHERE \(scope.repositories)
            """, arguments: scope.arguments) { row in
            repositories.append(id: sqlite3_column_int64(row, 0), key: BranchIndexBuilder.text(row, 1),
                                slug: BranchIndexBuilder.text(row, 2), provider: BranchIndexBuilder.text(row, 3))
        }
        // Two subqueries: asked together in one, MIN and MAX scan the table.
        let range = try Row.fetchOne(db, sql: "SELECT (SELECT MIN(id) FROM branches), (SELECT MAX(id) FROM branches)")
        return IndexPlan(expected: expected, generation: generation, repositories: repositories,
                         firstID: range?[0] ?? 0, lastID: range?[1] ?? 0)
    }

    /// The scope's branches with ids in `ids`, read in storage order.
    private static func scanBranches(_ db: Database, _ scope: BranchIndexScope, ids: ClosedRange<Int64>, plan: IndexPlan,
                                     sort: BrowseSort, expected: Int) throws -> BranchIndexBuilder {
        var repositories = plan.repositories
        var builder = BranchIndexBuilder(expected: expected, sort: sort, idBase: plan.firstID)
        // The date only where the sort needs it.
        try eachRow(db, sql: """
            SELECT b.id, b.repository_id, b.name, b.head_hash, b.head_message, b.head_author, \(sort == .recent ? "b.head_date" : "NULL")
            \(scope.branches) AND b.id BETWEEN ? AND ?
            """, arguments: scope.arguments + [ids.lowerBound, ids.upperBound]) { row in
            // The plan's range holds every id of this snapshot; one outside it means the mirror moved.
            guard builder.append(row: row, repository: repositories.number(of: sqlite3_column_int64(row, 1))) else { throw IndexMoved() }
        }
        return builder
    }

    /// Steps a statement through SQLite's C API, the row handed over as is: a million rows
    /// read without a Swift value per column.
    private static func eachRow(_ db: Database, sql: String, arguments: StatementArguments, _ body: (OpaquePointer) throws -> Void) throws {
        let statement = try db.makeStatement(sql: sql)
        try statement.setArguments(arguments)
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
            }
            try body(handle)
        }
    }
}

/// Which branches an index covers, as SQL. Every branch (no join: a branch always has its
/// repository), an account's (the branches scanned by id, each joined to its workspace), or one
/// repository's.
struct BranchIndexScope {
    let accountID: Int64?
    let repositoryID: Int64?

    var branches: String {
        if repositoryID != nil { return "FROM branches b WHERE b.repository_id = ?" }
        if accountID != nil {
            return "FROM branches b CROSS JOIN repositories r ON r.id = b.repository_id CROSS JOIN workspaces w ON w.id = r.workspace_id WHERE w.account_id = ?"
        }
        return "FROM branches b WHERE 1 = 1"
    }

    var repositories: String { repositoryID != nil ? "r.id = ?" : accountID != nil ? "w.account_id = ?" : "1 = 1" }
    var arguments: StatementArguments { StatementArguments([repositoryID ?? accountID].compactMap { $0 }) }
}

/// A row outside the range the plan read: the mirror changed under the read.
struct IndexMoved: Error {}

/// What an index is read against: the scope's size, the mirror's generation, its repositories
/// and the range of branch ids to scan.
struct IndexPlan: Sendable {
    let expected: Int
    let generation: Store.MirrorGeneration
    let repositories: IndexedRepositories
    let firstID: Int64
    let lastID: Int64
}

/// The parts of a read (halves on two cores), each set by its own worker.
private final class IndexParts: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<(Store.MirrorGeneration, BranchIndexBuilder), Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ part: Int, _ result: Result<(Store.MirrorGeneration, BranchIndexBuilder), Error>) {
        lock.withLock { results[part] = result }
    }

    /// The parts, let go of here (so each can be freed as soon as it is merged).
    func take() throws -> [(Store.MirrorGeneration, BranchIndexBuilder)] {
        let taken = lock.withLock {
            defer { results = [] }
            return results
        }
        return try taken.map { try $0!.get() }
    }
}

/// The repositories of an index's scope: each numbered once, with the folded key the filter
/// matches (`provider/workspace/slug`) and what the sorts order by (slug, provider).
struct IndexedRepositories: Sendable {
    var keys = Store.BranchSearchIndex.SharedKeys()
    private var numbers: [Int64: UInt32] = [:]
    private var slugs: [[UInt8]] = []
    private var providers: [[UInt8]] = []
    // Branches arrive grouped by repository: the last answer usually serves the next row.
    private var lastID: Int64 = .min
    private var lastNumber: UInt32 = 0

    mutating func append(id: Int64, key: UnsafeBufferPointer<UInt8>, slug: UnsafeBufferPointer<UInt8>, provider: UnsafeBufferPointer<UInt8>) {
        numbers[id] = UInt32(keys.count)
        BranchIndexBuilder.appendShared(key, to: &keys)
        slugs.append(Array(slug))
        providers.append(Array(provider))
    }

    @inline(__always) mutating func number(of id: Int64) -> UInt32 {
        if id != lastID {
            lastID = id
            lastNumber = numbers[id] ?? 0
        }
        return lastNumber
    }

    /// Each repository's place when ordered by slug (SQLite's BINARY: bytes, then length).
    func slugRanks() -> [UInt32] { Self.ranks(slugs) }
    func providerRanks() -> [UInt32] { Self.ranks(providers) }

    private static func ranks(_ values: [[UInt8]]) -> [UInt32] {
        BranchIndexOrder.ranks(count: values.count) { values[$0].lexicographicallyPrecedes(values[$1]) } equal: { values[$0] == values[$1] }
    }
}

