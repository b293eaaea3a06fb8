import Foundation
import GRDB
import GRDBSQLite
import SlipwayProviders

/// The mirror's per-branch statements and its change events, bound and stepped through SQLite's
/// C API: an initial sync writes tens of thousands of branches, and GRDB's `StatementArguments`
/// make an array of existential values per row before binding them. The statements are GRDB's
/// cached ones, so they are prepared once per connection, and a failure is GRDB's
/// `DatabaseError` as usual.
struct MirrorRowWriter {
    /// What is stored of a branch to decide whether a listing changes it.
    struct Stored {
        var id: Int64
        var hash: String
        var hasMessage: Bool
    }

    private let db: Database
    private let insert: Statement
    private let move: Statement
    private let delete: Statement
    private let select: Statement
    private let event: Statement

    init(_ db: Database) throws {
        self.db = db
        insert = try db.cachedStatement(sql: """
            INSERT INTO branches (repository_id, name, head_hash, head_date, head_author, head_message, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        move = try db.cachedStatement(sql: """
            UPDATE branches SET head_hash = ?, head_date = ?, head_author = ?, head_message = ?, updated_at = ? WHERE id = ?
            """)
        delete = try db.cachedStatement(sql: "DELETE FROM branches WHERE id = ?")
        select = try db.cachedStatement(sql: "SELECT id, name, head_hash, head_message IS NOT NULL FROM branches WHERE repository_id = ?")
        event = try db.cachedStatement(sql: "INSERT INTO change_events (kind, path, old, new, created_at) VALUES (?, ?, ?, ?, ?)")
    }

    /// The stored branches of a repository by name.
    func stored(repositoryID: Int64) throws -> [String: Stored] {
        let handle = select.sqliteStatement
        defer { sqlite3_reset(handle) }
        sqlite3_bind_int64(handle, 1, repositoryID)
        var found: [String: Stored] = [:]
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return found }
            guard code == SQLITE_ROW else { throw failure(code, select) }
            found[Self.text(handle, 1) ?? ""] = Stored(id: sqlite3_column_int64(handle, 0), hash: Self.text(handle, 2) ?? "",
                                                       hasMessage: sqlite3_column_int(handle, 3) != 0)
        }
    }

    func insert(repositoryID: Int64, name: String, head: ProviderCommit, stamp: String) throws {
        let handle = insert.sqliteStatement
        sqlite3_bind_int64(handle, 1, repositoryID)
        Self.bind(handle, 2, name)
        Self.bind(handle, 3, head.hash)
        Self.bind(handle, 4, head.date.map(StoredDate.text))
        Self.bind(handle, 5, head.author)
        Self.bind(handle, 6, head.message)
        Self.bind(handle, 7, stamp)
        try step(insert)
    }

    /// Sets a branch's head; details not given are cleared, not left stale (as `Branch.moveHead`).
    func move(id: Int64, head: ProviderCommit, stamp: String) throws {
        let handle = move.sqliteStatement
        Self.bind(handle, 1, head.hash)
        Self.bind(handle, 2, head.date.map(StoredDate.text))
        Self.bind(handle, 3, head.author)
        Self.bind(handle, 4, head.message)
        Self.bind(handle, 5, stamp)
        sqlite3_bind_int64(handle, 6, id)
        try step(move)
    }

    func delete(id: Int64) throws {
        sqlite3_bind_int64(delete.sqliteStatement, 1, id)
        try step(delete)
    }

    /// Appends the change events a write caused.
    func append(_ changes: [SyncReport.Change], stamp: String) throws {
        let handle = event.sqliteStatement
        for change in changes {
            Self.bind(handle, 1, change.kind.rawValue)
            Self.bind(handle, 2, change.path)
            Self.bind(handle, 3, change.old)
            Self.bind(handle, 4, change.new)
            Self.bind(handle, 5, stamp)
            try step(event)
        }
    }

    private func step(_ statement: Statement) throws {
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else { throw failure(code, statement) }
    }

    private func failure(_ code: Int32, _ statement: Statement) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: statement.sql)
    }

    /// SQLite copies the text before `bind` returns (SQLITE_TRANSIENT), so a Swift string's
    /// buffer need only live for the call.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    private static var emptyText: UnsafePointer<UInt8> { ("" as StaticString).utf8Start }

    private static func bind(_ handle: OpaquePointer, _ index: Int32, _ text: String?) {
        guard var text else {
            sqlite3_bind_null(handle, index)
            return
        }
        text.withUTF8 { bytes in
            // An empty buffer may have no address, and a null pointer would bind NULL, not "".
            let start = UnsafeRawPointer(bytes.baseAddress ?? emptyText).assumingMemoryBound(to: CChar.self)
            _ = sqlite3_bind_text(handle, index, start, Int32(bytes.count), transient)
        }
    }

    private static func text(_ handle: OpaquePointer, _ column: Int32) -> String? {
        guard let bytes = sqlite3_column_text(handle, column) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, column))), as: UTF8.self)
    }
}
