import ArgumentParser
import Foundation
import SlipwayCore

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync the mirror: one cycle with --once, else keep syncing until Ctrl-C."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: JSONFlag
    @Flag(help: "Run one full cycle, print a summary and exit.") var once = false
    @Option(help: ArgumentHelp("With --once: stop (exit 3) rather than wait past this many seconds for a rate limit.", valueName: "SECONDS"))
    var deadline: Double?

    func validate() throws {
        if deadline != nil && !once { throw ValidationError("--deadline goes with --once") }
        if let deadline, deadline <= 0 { throw ValidationError("--deadline must be more than 0 seconds") }
    }

    func run() async throws {
        _ = try global.context()
        throw SlipwayCLIError.unavailable(command: "sync", capability: "the sync engine")
    }
}

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run the engine, webhook receiver and deployer in the foreground (see contrib/slipway.service)."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = try global.context()
        throw SlipwayCLIError.unavailable(command: "daemon", capability: "the sync engine")
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Say whether an engine runs for this home, and how the sync stands."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: JSONFlag

    struct Report: Encodable {
        var running: Bool
        var pid: Int32?
        var host: String?
        var since: Date?
        var webhookListener: String?
        var lastSyncAt: Date?
        var home: String
        var database: String

        enum CodingKeys: String, CodingKey { case running, pid, host, since, webhookListener, lastSyncAt, home, database }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(running, forKey: .running)
            try c.encode(pid, forKey: .pid)
            try c.encode(host, forKey: .host)
            try c.encode(since, forKey: .since)
            try c.encode(webhookListener, forKey: .webhookListener)
            try c.encode(lastSyncAt, forKey: .lastSyncAt)
            try c.encode(home, forKey: .home)
            try c.encode(database, forKey: .database)
        }
    }

    func run() async throws {
        let context = try global.context()
        let holder = EngineLock.holder(path: context.paths.engineLockFile)
        let report = Report(running: holder != nil, pid: holder?.pid, host: holder?.host, since: holder?.since,
                            webhookListener: holder?.webhookListener, lastSyncAt: try context.store.lastSyncAt(),
                            home: context.paths.home ?? context.paths.dataDirectory, database: context.paths.databaseFile)
        if output.json { return try printJSON(report) }
        if let holder {
            Terminal.out("engine: running (pid \(holder.pid), \(holder.host), since \(JSONOutput.timestamp(holder.since)))")
            Terminal.out("webhooks: " + (holder.webhookListener.map { "listening on \($0)" } ?? "no listener"))
        } else {
            Terminal.out("engine: not running")
        }
        Terminal.out("last sync: " + (report.lastSyncAt.map(JSONOutput.timestamp) ?? "never"))
        Terminal.out("home: \(report.home)")
    }
}
