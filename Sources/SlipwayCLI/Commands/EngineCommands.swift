import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwayTUI

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
        let context = try global.context()
        // The Git hosts' mirror: a deploy target has none.
        let linked = try context.store.accounts()
        let accounts = linked.filter(\.isGitHost)
        guard !accounts.isEmpty else {
            throw SlipwayCLIError.failure(linked.isEmpty ? "no accounts linked; run 'slipway link bitbucket --token-file -' first"
                                          : "no Git host is linked, only a deploy target; run 'slipway link bitbucket --token-file -' first")
        }
        guard once else {
            return try await EngineHost(context: context, role: "sync").run(printChanges: !output.json, banner: "syncing in the foreground; Ctrl-C to stop")
        }
        // One engine per home: a one-off cycle holds the lock while it writes the mirror; with an
        // engine running, that engine is asked for the cycle.
        let lock: EngineLock
        do {
            lock = try EngineLock.acquire(path: context.paths.engineLockFile,
                                          info: EngineInfo(pid: getpid(), since: Date(), host: "sync --once"))
        } catch {
            guard case .alreadyHeld = error else { throw SlipwayCLIError.failure(error.description) }
            return try await askEngine(context: context)
        }
        defer { lock.release() }

        let started = Date()
        let end = deadline.map { started.addingTimeInterval($0) }
        let factory = ProviderFactory(context: context)
        let showProgress = isatty(STDERR_FILENO) == 1 && !output.json
        let config = context.config
        let outcome = await SyncCycle.run(store: context.store, accounts: accounts, lane: .background, deadline: end,
                                          concurrency: { config.maxInFlight($0.provider) },
                                          makeProvider: { account in try factory.provider(for: account) },
                                          progress: { line in
                                              if showProgress { Terminal.progress("syncing " + TerminalText.sanitize(line)) }
                                          })
        var report = outcome.report
        let stoppedAt = report.resumeAt
        let fatal = outcome.fatal
        for account in accounts where account.status != .needsRelink {
            report.rateLimit[account.provider.rawValue] = try factory.rateLimit(for: account)
        }
        if showProgress { Terminal.progress(nil) }
        report.requests = factory.counter.total
        report.durationMs = Int(Date().timeIntervalSince(started) * 1000)

        if output.json {
            try printJSON(report)
        } else {
            let seconds = String(format: "%.1f", Double(report.durationMs) / 1000)
            Terminal.out("synced \(report.workspaces) workspaces, \(report.repositories) repositories, \(report.branches) branches: "
                         + "\(report.changes.count) changes, \(report.requests) requests in \(seconds) s")
            for change in report.changes.prefix(50) {
                Terminal.out("  \(change.kind.rawValue.replacingOccurrences(of: "_", with: " ")) \(TerminalText.sanitize(change.path))"
                             + (change.new.map { " → \($0.prefix(7))" } ?? ""))
            }
            if report.changes.count > 50 { Terminal.out("  … and \(report.changes.count - 50) more") }
            for failure in report.errors { Terminal.warning("\(TerminalText.sanitize(failure.path)): \(failure.message)") }
        }
        if let fatal { throw SlipwayCLIError.failure(fatal) }
        if outcome.anyAccountFailed {
            let first = report.errors.first.map { " (first: \(TerminalText.sanitize($0.path)): \(TerminalText.sanitize($0.message)))" } ?? ""
            throw SlipwayCLIError.failure("the cycle did not complete: \(report.errors.count) part\(report.errors.count == 1 ? "" : "s") could not be read\(first); "
                                          + "what was synced is kept; run 'slipway sync --once' again")
        }
        if let stoppedAt {
            throw SlipwayCLIError.rateLimited("rate limited: stopped before the deadline; what was synced is kept; it may resume at \(JSONOutput.timestamp(stoppedAt))")
        }
    }
}

extension SyncCommand {
    /// Leaves a sync-cycle command for the running engine and waits for its report.
    func askEngine(context: CommandContext) async throws {
        let end = deadline.map { Date().addingTimeInterval($0) }
        let request = EngineRequest(context: context)
        let id = try request.enqueue(SyncCyclePayload(deadline: end))
        if !output.json { Terminal.error("an engine runs for this home; asked it for a cycle (command \(id))") }
        // The engine enforces the deadline itself; this waits for its report, however long.
        guard let command = try await request.finished(id, until: nil, every: 0.2) else {
            throw SlipwayCLIError.failure("the engine stopped before running the cycle; run 'slipway sync --once' again")
        }
        let text = command.result ?? "{}"
        if output.json {
            Terminal.out(text)
        } else if let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] {
            Terminal.out("synced by the engine: \((object["changes"] as? [Any])?.count ?? 0) changes, \(object["requests"] as? Int ?? 0) requests")
        } else {
            Terminal.out(text)
        }
        if command.status == .failed { throw ExitCode(1) }
        if (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["resume_at"] is String {
            throw SlipwayCLIError.rateLimited("rate limited: the engine stopped the cycle before the deadline; what was synced is kept")
        }
    }
}

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run the engine, webhook receiver and deployer in the foreground (see contrib/slipway.service)."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let context = try global.context()
        try await EngineHost(context: context, role: "daemon", listensForWebhooks: true).run(
            printChanges: false,
            banner: "daemon: engine running for \(context.paths.home ?? context.paths.dataDirectory) (pid \(getpid())); SIGINT or SIGTERM stops it")
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
        /// The latest news from the providers: a full cycle or a sweep, whichever came last.
        var lastSyncAt: Date?
        var lastFullSyncAt: Date?
        var lastSweepAt: Date?
        var home: String
        var database: String

        enum CodingKeys: String, CodingKey { case running, pid, host, since, webhookListener, lastSyncAt, lastFullSyncAt, lastSweepAt, home, database }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(running, forKey: .running)
            try c.encode(pid, forKey: .pid)
            try c.encode(host, forKey: .host)
            try c.encode(since, forKey: .since)
            try c.encode(webhookListener, forKey: .webhookListener)
            try c.encode(lastSyncAt, forKey: .lastSyncAt)
            try c.encode(lastFullSyncAt, forKey: .lastFullSyncAt)
            try c.encode(lastSweepAt, forKey: .lastSweepAt)
            try c.encode(home, forKey: .home)
            try c.encode(database, forKey: .database)
        }
    }

    func run() async throws {
        let context = try global.context()
        let holder = EngineLock.holder(path: context.paths.engineLockFile)
        let full = try context.store.lastSyncAt()
        let sweep = try context.store.lastSweepAt()
        let report = Report(running: holder != nil, pid: holder?.pid, host: holder?.host, since: holder?.since,
                            webhookListener: holder?.webhookListener, lastSyncAt: [full, sweep].compactMap { $0 }.max(),
                            lastFullSyncAt: full, lastSweepAt: sweep,
                            home: context.paths.home ?? context.paths.dataDirectory, database: context.paths.databaseFile)
        if output.json { return try printJSON(report) }
        if let holder {
            Terminal.out("engine: running (pid \(holder.pid), \(holder.host), since \(RelativeTime.withTimestamp(holder.since)))")
            Terminal.out("webhooks: " + (holder.webhookListener.map { "listening on \($0)" } ?? "no listener"))
        } else {
            Terminal.out("engine: not running")
        }
        Terminal.out("last sync: " + (report.lastSyncAt.map { RelativeTime.withTimestamp($0) } ?? "never")
                     + (report.lastSweepAt.map { "; last sweep \(RelativeTime.text($0) ?? "")" } ?? "")
                     + (report.lastFullSyncAt.map { "; last full cycle \(RelativeTime.text($0) ?? "")" } ?? ""))
        Terminal.out("home: \(report.home)")
    }
}
