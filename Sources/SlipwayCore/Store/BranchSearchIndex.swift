import Foundation
import GRDB
import GRDBSQLite

extension Store {
    /// Every branch of a scope in the order a sort gives, with the lowercased text the dashboard
    /// filters on (the columns shown: name, author, repository, hash, subject), packed for a
    /// million branches: each branch keeps its own name, hash and subject back to back, while
    /// repositories and authors — shared by many branches — are kept once each and referred to
    /// by number. The dashboard filters in memory from this, then reads only the visible rows.
    public struct BranchSearchIndex: Sendable {
        public var ids: [Int64]
        /// Every branch's own key (name, 1, hash, 1, subject, 0) back to back; `starts[i]` is
        /// where branch i's begins.
        public var keys: [UInt8]
        public var starts: [UInt32]
        /// Branch i's repository and author: entries of `repositoryKeys` and `authorKeys`.
        public var repositories: [UInt32]
        public var authors: [UInt32]
        public var repositoryKeys: SharedKeys
        public var authorKeys: SharedKeys

        public var count: Int { ids.count }

        /// Keys many branches share, each once, each ended by a 0 byte.
        public struct SharedKeys: Sendable {
            public var bytes: [UInt8] = []
            public var starts: [UInt32] = []
            public var count: Int { starts.count }
        }
    }

    public func branchSearchIndex(accountID: Int64?, repositoryID: Int64?, sort: BrowseSort) throws -> BranchSearchIndex {
        let scope = Self.scope("b.repository_id", repositoryID, accountID: accountID)
        return try read { db in
            // Repositories first (a few thousand): their keys once each, numbered densely.
            var repositoryKeys = BranchSearchIndex.SharedKeys()
            var repositoryNumbers: [Int64: UInt32] = [:]
            let repositoryScope = repositoryID.map { _ in "r.id = ?" } ?? (accountID == nil ? "1 = 1" : "w.account_id = ?")
            try Self.eachRow(db, sql: """
                SELECT r.id, a.provider || '/' || w.slug || '/' || r.slug FROM repositories r JOIN workspaces w ON w.id = r.workspace_id
                JOIN accounts a ON a.id = w.account_id WHERE \(repositoryScope)
                """, arguments: scope.arguments) { row in
                repositoryNumbers[sqlite3_column_int64(row, 0)] = UInt32(repositoryKeys.count)
                IndexBuilder.appendShared(IndexBuilder.text(row, 1), to: &repositoryKeys)
            }
            let expected = try Int.fetchOne(db, sql: "SELECT COUNT(*) \(Self.branchFrom) WHERE \(scope.sql)", arguments: scope.arguments) ?? 0
            var builder = IndexBuilder(expected: expected)
            try Self.eachRow(db, sql: """
                SELECT b.id, b.repository_id, b.name, b.head_hash, b.head_message, b.head_author
                \(Self.branchFrom) WHERE \(scope.sql) ORDER BY \(Self.branchOrder(sort))
                """, arguments: scope.arguments) { row in
                builder.append(id: sqlite3_column_int64(row, 0), repository: repositoryNumbers[sqlite3_column_int64(row, 1)] ?? 0, row: row)
            }
            return builder.finish(repositoryKeys: repositoryKeys)
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

/// Builds a search index without a Swift string per column and without a doubling copy of the
/// large buffer: keys gather in fixed chunks, copied once into an exact buffer at the end.
private struct IndexBuilder {
    static let chunkSize = 4 << 20

    var ids: [Int64] = []
    var starts: [UInt32] = []
    var repositories: [UInt32] = []
    var authors: [UInt32] = []
    var authorKeys = Store.BranchSearchIndex.SharedKeys()
    var authorNumbers: [Data: UInt32] = [:]
    var chunks: [[UInt8]] = []
    var current: [UInt8] = []
    var length = 0

    init(expected: Int) {
        ids.reserveCapacity(expected)
        starts.reserveCapacity(expected)
        repositories.reserveCapacity(expected)
        authors.reserveCapacity(expected)
        current.reserveCapacity(Self.chunkSize)
    }

    /// ASCII case folding; the separators (0, 1) never appear inside a key.
    @inline(__always) static func fold(_ byte: UInt8) -> UInt8 {
        byte < 2 ? 32 : byte &+ (byte &- 65 < 26 ? 32 : 0)
    }

    /// A text column's bytes, valid until the row steps on.
    static func text(_ row: OpaquePointer, _ column: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let bytes = sqlite3_column_text(row, column) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(row, column)))
    }

    /// Appends `text` folded, then `end`.
    @inline(__always) static func append(_ text: UnsafeBufferPointer<UInt8>, end: UInt8, to bytes: inout [UInt8]) {
        if !text.isEmpty {
            let from = bytes.count
            bytes.append(contentsOf: text)
            bytes.withUnsafeMutableBufferPointer { buffer in
                for index in from..<buffer.count { buffer[index] = fold(buffer[index]) }
            }
        }
        bytes.append(end)
    }

    static func appendShared(_ text: UnsafeBufferPointer<UInt8>, to keys: inout Store.BranchSearchIndex.SharedKeys) {
        keys.starts.append(UInt32(keys.bytes.count))
        append(text, end: 0, to: &keys.bytes)
    }

    /// One branch from its row: name (2), hash (3), message (4), author (5).
    mutating func append(id: Int64, repository: UInt32, row: OpaquePointer) {
        ids.append(id)
        repositories.append(repository)
        let author = Self.text(row, 5)
        // Authors repeat across many branches: looked up by their bytes, kept once.
        let authorKey = Data(buffer: author)
        if let known = authorNumbers[authorKey] {
            authors.append(known)
        } else {
            let number = UInt32(authorKeys.count)
            authorNumbers[authorKey] = number
            Self.appendShared(author, to: &authorKeys)
            authors.append(number)
        }
        let name = Self.text(row, 2), hash = Self.text(row, 3)
        // The subject only: the message's first line.
        var subject = Self.text(row, 4)
        if let newline = subject.firstIndex(of: 10) { subject = UnsafeBufferPointer(rebasing: subject[..<newline]) }
        let size = name.count + hash.count + subject.count + 3
        if current.count + size > Self.chunkSize, !current.isEmpty {
            chunks.append(current)
            current = []
            current.reserveCapacity(max(Self.chunkSize, size))
        }
        starts.append(UInt32(length))
        Self.append(name, end: 1, to: &current)
        Self.append(hash, end: 1, to: &current)
        Self.append(subject, end: 0, to: &current)
        length += size
    }

    mutating func finish(repositoryKeys: Store.BranchSearchIndex.SharedKeys) -> Store.BranchSearchIndex {
        chunks.append(current)
        current = []
        var parts = chunks
        chunks = []
        let keys = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            var offset = 0
            for index in parts.indices {
                parts[index].withUnsafeBufferPointer { part in
                    guard let base = part.baseAddress, let target = buffer.baseAddress else { return }
                    (target + offset).initialize(from: base, count: part.count)
                    offset += part.count
                }
                // Each chunk goes as soon as it is copied: the peak is one buffer, not two.
                parts[index] = []
            }
            initialized = offset
        }
        return Store.BranchSearchIndex(ids: ids, keys: keys, starts: starts, repositories: repositories, authors: authors,
                                       repositoryKeys: repositoryKeys, authorKeys: authorKeys)
    }
}
