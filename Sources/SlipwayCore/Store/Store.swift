import Foundation
import CSQLiteTuning
import GRDB

/// Failures of the store, each a sentence a user can act on.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case newerSchema(path: String, found: Int, supported: Int)
    case notFound(String)
    case conflict(String)
    case failed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            "cannot open the database at \(path): \(reason)"
        case let .newerSchema(path, found, supported):
            "the database at \(path) has schema v\(found), newer than this slipway understands (v\(supported)); upgrade slipway"
        case let .notFound(what):
            what
        case let .conflict(what):
            what
        case let .failed(path, reason):
            "the database at \(path) failed: \(reason)"
        }
    }
}

/// The SQLite store every process shares: one WAL database, short write transactions, a busy
/// timeout so writers from several processes queue instead of failing.
public final class Store: Sendable {
    public let path: String
    public let pool: DatabasePool

    /// How long a writer waits for another process's transaction before giving up.
    public static let busyTimeout: TimeInterval = 5

    /// `observeStatements`, when given, hears the SQL of every statement run (benchmarks and
    /// tests count an engine step's queries and check their plans with it).
    public init(path: String, observeStatements: (@Sendable (String) -> Void)? = nil) throws {
        _ = Self.tuneSQLite
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(Store.busyTimeout)
        config.foreignKeysEnabled = true
        config.label = "slipway"
        config.prepareDatabase { db in
            // WAL with NORMAL is consistent after a crash; only the last commits may roll back on power loss.
            // Room for the small allocations of a write of thousands of rows (default 100 × 1,200 B).
            _ = slw_sqlite_set_lookaside(UnsafeMutableRawPointer(db.sqliteConnection), 1200, 500)
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // The writer's statement journals stay in memory (a statement with triggers in a
            // batch of repositories opened, wrote and unlinked a temporary file); readers keep
            // the default, so a sort of a million branches may still spill to disk, not to RAM.
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA temp_store = MEMORY") }
            if let observeStatements {
                db.trace(options: .statement) { event in
                    if case let .statement(statement) = event { observeStatements(statement.sql) }
                }
            }
        }
        let existed = FileManager.default.fileExists(atPath: path)
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw StoreError.cannotOpen(path: path, reason: Store.describe(error))
        }
        if !existed {
            // The database holds mirrored data and ciphertext: owner only.
            chmod(path, 0o600)
        }
        try migrate()
    }

    /// Once per process, before the first connection: SQLite's allocation statistics (a global
    /// mutex on every malloc and free) off — nothing reads them.
    private static let tuneSQLite: Void = { _ = slw_sqlite_disable_memstatus() }()

    private func migrate() throws {
        let migrator = Schema.migrator
        // Two processes opening a new home at once (a daemon and a CLI) would both find nothing
        // applied and both create the tables: migrations run one process at a time.
        let lock = open(path + "-migrate.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        if lock >= 0 { flock(lock, LOCK_EX) }
        defer { if lock >= 0 { flock(lock, LOCK_UN); close(lock) } }
        do {
            let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
            let known = Set(migrator.migrations)
            if !applied.isSubset(of: known) {
                let found = try pool.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0 }
                throw StoreError.newerSchema(path: path, found: found, supported: Schema.currentVersion)
            }
            try migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.cannotOpen(path: path, reason: Store.describe(error))
        }
    }

    /// A short sentence for a database error, never a bare SQLite code.
    static func describe(_ error: any Error) -> String {
        guard let dbError = error as? DatabaseError else { return "\(error)" }
        switch dbError.resultCode {
        case .SQLITE_FULL: return "the disk is full"
        case .SQLITE_READONLY: return "the database is read-only"
        case .SQLITE_CANTOPEN: return "the file cannot be opened (check the folder exists and its permissions)"
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: return "the file is not a valid Slipway database (corrupt or foreign)"
        case .SQLITE_BUSY, .SQLITE_LOCKED: return "the database is busy in another process; try again"
        case .SQLITE_PERM, .SQLITE_AUTH: return "permission denied"
        default: return dbError.message ?? "database error"
        }
    }

    // MARK: - Facts about the database

    public func schemaVersion() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0 }
    }

    public func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    public func sqliteVersion() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") ?? "" }
    }

    public func integrityCheck() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") ?? "" }
    }

    public func tableNames() throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY name")
        }
    }

    public func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch let error as DatabaseError {
            throw StoreError.failed(path: path, reason: Store.describe(error))
        }
    }

    public func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch let error as DatabaseError {
            throw StoreError.failed(path: path, reason: Store.describe(error))
        }
    }
}
