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
    /// them in). The rows are read once, unsorted — sorting a million wide rows was most of
    /// SQLite's time — and ordered in memory by small numbers: each distinct name, author and
    /// repository ranked once. Nil when the scope has fewer than `atLeast` branches (a short list
    /// is better read a window at a time).
    public func branchSearchIndex(accountID: Int64?, repositoryID: Int64?, sort: BrowseSort, atLeast: Int = 0) throws -> BranchSearchIndex? {
        let scope = Self.scope("b.repository_id", repositoryID, accountID: accountID)
        return try read { db in
            IndexTiming.mark("start")
            let expected = try Self.branchCount(db, accountID: accountID, repositoryID: repositoryID)
            guard expected >= atLeast else { return nil }
            let generation = try Self.mirrorGeneration(db)
            var repositories = IndexedRepositories()
            let repositoryScope = repositoryID.map { _ in "r.id = ?" } ?? (accountID == nil ? "1 = 1" : "w.account_id = ?")
            try Self.eachRow(db, sql: """
                SELECT r.id, a.provider || '/' || w.slug || '/' || r.slug, r.slug, a.provider FROM repositories r
                JOIN workspaces w ON w.id = r.workspace_id JOIN accounts a ON a.id = w.account_id WHERE \(repositoryScope)
                """, arguments: scope.arguments) { row in
                repositories.append(id: sqlite3_column_int64(row, 0), key: BranchIndexBuilder.text(row, 1),
                                    slug: BranchIndexBuilder.text(row, 2), provider: BranchIndexBuilder.text(row, 3))
            }
            var builder = BranchIndexBuilder(expected: expected, sort: sort)
            try Self.eachRow(db, sql: """
                SELECT b.id, b.repository_id, b.name, b.head_hash, b.head_message, b.head_author, b.head_date
                \(Self.branchFrom) WHERE \(scope.sql)
                """, arguments: scope.arguments) { row in
                builder.append(row: row, repository: repositories.number(of: sqlite3_column_int64(row, 1)))
            }
            IndexTiming.mark("scanned")
            let index = builder.finish(repositories: repositories, generation: generation)
            IndexTiming.mark("finished")
            return index
        }
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

/// The repositories of an index's scope: each numbered once, with the folded key the filter
/// matches (`provider/workspace/slug`) and what the sorts order by (slug, provider).
struct IndexedRepositories {
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

enum IndexTiming {
    nonisolated(unsafe) static var last = Date()
    static func mark(_ what: String) {
        guard let path = ProcessInfo.processInfo.environment["SLIPWAY_INDEX_TIMING"] else { return }
        let now = Date()
        let line = "\(what) \(Int(now.timeIntervalSince(last) * 1000)) ms\n"
        last = now
        if let handle = FileHandle(forWritingAtPath: path) { handle.seekToEndOfFile(); handle.write(Data(line.utf8)); try? handle.close() }
    }
}
