import CSpawn
import Foundation

/// One line of `slipway doctor`: what was checked, what was found and, when it is wrong, how to fix it.
public struct DoctorCheck: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case ok, warn, fail
    }

    public var name: String
    public var status: Status
    public var detail: String
    public var fix: String?

    public init(_ name: String, _ status: Status, _ detail: String, fix: String? = nil) {
        self.name = name
        self.status = status
        self.detail = detail
        self.fix = fix
    }
}

public struct DoctorReport: Sendable, Codable {
    public var ok: Bool { !checks.contains { $0.status == .fail } }
    public var checks: [DoctorCheck]
    public var paths: [String: String]
    public var versions: [String: String]

    public init(checks: [DoctorCheck], paths: [String: String], versions: [String: String]) {
        self.checks = checks
        self.paths = paths
        self.versions = versions
    }

    enum CodingKeys: String, CodingKey { case ok, checks, paths, versions }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ok, forKey: .ok)
        try c.encode(checks, forKey: .checks)
        try c.encode(paths, forKey: .paths)
        try c.encode(versions, forKey: .versions)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        checks = try c.decode([DoctorCheck].self, forKey: .checks)
        paths = try c.decode([String: String].self, forKey: .paths)
        versions = try c.decode([String: String].self, forKey: .versions)
    }
}

/// The checks of the home: folders, config, database, vault key, log file, engine.
public enum HomeDoctor {
    /// The key must open every sealed secret the store holds; a missing key is fine only while
    /// nothing is sealed yet.
    static func vaultCheck(keyFile: String, store: Store?) -> DoctorCheck {
        let sealed = (try? store?.allSealedSecrets()) ?? []
        let vault: Vault
        switch Result(catching: { () throws(VaultError) -> Vault in try Vault.open(keyFile: keyFile, create: false) }) {
        case let .success(opened):
            vault = opened
        case .failure(.keyMissing) where sealed.isEmpty:
            return DoctorCheck("vault key", .ok, "\(keyFile) not created yet; made when an account is linked")
        case .failure(.keyMissing):
            return DoctorCheck("vault key", .fail, "\(keyFile) is missing while \(sealed.count) secret\(sealed.count == 1 ? " is" : "s are") stored sealed with it",
                               fix: "restore the key file from a backup, or unlink and link the accounts again")
        case let .failure(error):
            let fix: String? = if case let .keyTooOpen(path, _) = error { "chmod 600 \(path)" } else { nil }
            return DoctorCheck("vault key", .fail, error.description, fix: fix)
        }
        let closed = sealed.filter { (try? vault.open($0.ciphertext, context: $0.context)) == nil }
        if !closed.isEmpty {
            let names = closed.prefix(3).map(\.name).joined(separator: ", ") + (closed.count > 3 ? " and \(closed.count - 3) more" : "")
            return DoctorCheck("vault key", .fail, "\(keyFile) does not open \(closed.count) of \(sealed.count) stored secrets (\(names)): it is not the key they were sealed with",
                               fix: "restore the original key file, or unlink and link the accounts again")
        }
        return DoctorCheck("vault key", .ok, "\(keyFile) (0600) opens \(sealed.count) stored secret\(sealed.count == 1 ? "" : "s")")
    }

    public static func checks(paths: SlipwayPaths) -> (checks: [DoctorCheck], sqliteVersion: String?) {
        var checks: [DoctorCheck] = []

        // Folders: create what is missing, then verify modes.
        do {
            try paths.createDirectories()
            var loose: [String] = []
            for dir in Set([paths.home, paths.configDirectory, paths.dataDirectory, paths.logsDirectory].compactMap { $0 }).sorted() {
                if let mode = mode(of: dir), mode & 0o077 != 0 { loose.append("\(dir) (\(String(mode, radix: 8)))") }
            }
            if loose.isEmpty {
                checks.append(DoctorCheck("home", .ok, paths.home ?? paths.dataDirectory))
            } else {
                checks.append(DoctorCheck("home", .fail, "open to group or others: " + loose.joined(separator: ", "),
                                          fix: "chmod 700 " + loose.map { String($0.split(separator: " ")[0]) }.joined(separator: " ")))
            }
        } catch {
            checks.append(DoctorCheck("home", .fail, "\(error)", fix: "choose a writable home with --home DIR or SLIPWAY_HOME"))
        }

        // Config.
        do {
            let loaded = try ConfigLoader.load(path: paths.configFile)
            if !loaded.fileExists {
                checks.append(DoctorCheck("config", .ok, "\(paths.configFile) not present; using defaults"))
            } else if loaded.warnings.isEmpty {
                checks.append(DoctorCheck("config", .ok, paths.configFile))
            } else {
                checks.append(DoctorCheck("config", .warn, loaded.warnings.map(\.description).joined(separator: "; "),
                                          fix: "remove or correct the keys named; the README lists every key"))
            }
        } catch {
            checks.append(DoctorCheck("config", .fail, error.description, fix: "correct the file at the line shown"))
        }

        // Database.
        var sqliteVersion: String?
        var opened: Store?
        do {
            let store = try Store(path: paths.databaseFile)
            opened = store
            sqliteVersion = try store.sqliteVersion()
            let journal = try store.journalMode()
            let version = try store.schemaVersion()
            let integrity = try store.integrityCheck()
            if journal.lowercased() != "wal" {
                checks.append(DoctorCheck("database", .fail, "\(paths.databaseFile) is in \(journal) mode, not WAL",
                                          fix: "the folder may be on a network filesystem; choose a local home"))
            } else if integrity != "ok" {
                checks.append(DoctorCheck("database", .fail, "\(paths.databaseFile) failed its integrity check: \(integrity)",
                                          fix: "move the file away and run 'slipway sync --once' to rebuild the mirror"))
            } else {
                checks.append(DoctorCheck("database", .ok, "\(paths.databaseFile) (schema v\(version), WAL, SQLite \(sqliteVersion ?? "?"))"))
            }
        } catch {
            checks.append(DoctorCheck("database", .fail, "\(error)", fix: "check the folder's permissions and free space"))
        }

        // Vault key: only checked, never created here — and proved against what it must open.
        checks.append(vaultCheck(keyFile: paths.keyFile, store: opened))

        // Log file.
        do {
            _ = try LogFile(path: paths.logFile)
            checks.append(DoctorCheck("log file", .ok, paths.logFile))
        } catch {
            checks.append(DoctorCheck("log file", .fail, "\(error)", fix: "make \(paths.logsDirectory) writable"))
        }

        // Engine.
        let holder = EngineLock.holder(path: paths.engineLockFile)
        if let holder {
            checks.append(DoctorCheck("engine", .ok, "running (pid \(holder.pid), \(holder.host))"))
        } else {
            checks.append(DoctorCheck("engine", .ok, "not running (a dashboard starts one; or run 'slipway daemon')"))
        }
        if let store = opened, let check = webhookCheck(store: store, listener: holder?.webhookListener) { checks.append(check) }
        return (checks, sqliteVersion)
    }

    /// Installed hooks need a receiver, and a failing one needs attention.
    static func webhookCheck(store: Store, listener: String?) -> DoctorCheck? {
        guard let accounts = try? store.accounts() else { return nil }
        var hooks: [(path: String, subscription: WebhookSubscription)] = []
        for account in accounts {
            for hook in (try? store.installedWebhooks(accountID: account.id!)) ?? [] {
                hooks.append((MirrorPath(provider: account.provider, workspace: hook.workspaceSlug, repository: hook.repositorySlug).description, hook.subscription))
            }
        }
        guard !hooks.isEmpty else {
            return DoctorCheck("webhooks", .ok, "none installed; pushes arrive by polling ('slipway webhooks install P/W/R' makes them instant)")
        }
        guard let listener else {
            return DoctorCheck("webhooks", .warn, "\(hooks.count) installed, but no receiver is listening: deliveries fail and pushes wait for polling",
                               fix: "run 'slipway daemon' (contrib/slipway.service keeps it running)")
        }
        let failing = hooks.filter { $0.subscription.state == .failing }
        let waiting = hooks.filter { $0.subscription.state == .waiting }.count
        guard failing.isEmpty else {
            let named = failing.prefix(3).map { "\($0.path): \($0.subscription.lastFailureMessage ?? "failing")" }.joined(separator: "; ")
            return DoctorCheck("webhooks", .warn, "\(failing.count) of \(hooks.count) failing (\(named))",
                               fix: "check that webhooks.public_url reaches the receiver on \(listener), then 'slipway webhooks install P/W/R' again")
        }
        let pending = waiting == 0 ? "" : " (\(waiting) waiting for a first push)"
        return DoctorCheck("webhooks", .ok, "\(hooks.count) installed\(pending), none failing; receiver on \(listener)")
    }

    static func mode(of path: String) -> UInt16? {
        let mode = slw_file_mode(path, 1)
        guard mode >= 0 else { return nil }
        return UInt16(mode & 0o777)
    }
}
