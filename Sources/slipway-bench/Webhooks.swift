import ArgumentParser
import Foundation
import GRDB
import SlipwayCore
import SlipwaySandbox
import SlipwayProviders

/// Issue 11's benchmark, end to end with real processes: the sandbox (in this process) delivers
/// signed `repo:push` webhooks to a `slipway daemon`; this process reads the store as a second
/// process would. Latency: push → new head visible, over many pushes, beside repositories without
/// a hook (found by polling). Load: deliveries at a fixed rate, then none lost and the store equal
/// to the sandbox.
struct WebhooksBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Push-to-visible latency through webhooks (and through polling), and delivery load on the daemon."
    )

    @Option(help: "The slipway binary (default: the one beside this benchmark).") var binary: String?
    @Option(help: "The provider whose webhooks are timed: bitbucket, github, gitlab, or all (one account on each, one daemon, pushes taken in turn).") var provider = "bitbucket"
    @Option(help: "Pushes timed through webhooks.") var pushes = 200
    @Option(help: "Pushes timed on repositories without a hook (polling).") var pollingPushes = 10
    @Option(help: "Deliveries a second in the load phase.") var rate = 500
    @Option(help: "Seconds of load.") var seconds = 10.0
    @Option(help: "Repositories in the sandbox's workspace.") var repos = 16
    @Option(help: "Seed.") var seed: UInt64 = 5

    struct Failure: Error, CustomStringConvertible { var description: String }

    func validate() throws {
        guard ["bitbucket", "github", "gitlab", "all"].contains(provider) else { throw ValidationError("--provider is bitbucket, github, gitlab or all") }
    }

    var kinds: [ProviderKind] { provider == "all" ? [.bitbucket, .github, .gitlab] : [ProviderKind(rawValue: provider) ?? .bitbucket] }

    /// A repository pushes are sent to, and where the daemon mirrors it.
    struct Target {
        var kind: ProviderKind
        var personality: SandboxPersonalityName
        var workspace: String
        var slug: String
        var repositoryID: Int64
        var fullName: String { "\(workspace)/\(slug)" }
    }

    func run() async throws {
        let slipway = binary ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("slipway").path
        let home = FileManager.default.temporaryDirectory.path + "/slipway-bench-hooks-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let environment = ["SLIPWAY_HOME": home, "HOME": home, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LANG": "C.UTF-8"]
        func slipwayRun(_ arguments: [String], stdin: String? = nil) async throws -> String {
            let (status, output) = await Self.run(slipway, arguments, environment: environment, stdin: stdin)
            guard status == 0 else { throw Failure(description: "slipway \(arguments.joined(separator: " ")) exited \(status): \(output)") }
            return output
        }

        var options = SandboxOptions()
        options.seed = seed
        options.workspaces = 1
        options.reposPerWorkspace = repos
        options.branchesPerRepo = 5
        options.largeRepositories = false
        options.rateLimitPerHour = 0
        options.gitRateLimitPerHour = 0
        options.personalities = kinds.compactMap { SandboxPersonalityName(rawValue: $0.rawValue) }
        let server = try await SandboxServer.start(options: options)
        defer { Task { await server.stop() } }
        for kind in kinds {
            let (endpoint, token) = switch kind {
            case .github: (server.github, server.service.github.classicToken)
            case .gitlab: (server.gitlab, server.service.gitlab.token)
            default: (server.bitbucket, server.service.bitbucket.accessToken)
            }
            _ = try await slipwayRun(["link", kind.rawValue, "--api-url", endpoint.apiURL, "--web-url", endpoint.webURL, "--token-file", "-"],
                                     stdin: token + "\n")
        }
        _ = try await slipwayRun(["sync", "--once"])
        try "[webhooks]\nlisten = \"127.0.0.1:0\"\n".write(toFile: home + "/config.toml", atomically: true, encoding: .utf8)

        let paths = try SlipwayPaths.resolve(homeFlag: home, environment: environment)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: slipway)
        daemon.arguments = ["daemon"]
        daemon.environment = environment
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer { if daemon.isRunning { daemon.terminate() } }
        var listener: String?
        for _ in 0..<200 where listener == nil {
            listener = EngineLock.holder(path: paths.engineLockFile)?.webhookListener
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        guard let listener else { throw Failure(description: "the daemon's receiver did not start") }

        // Hooks on every repository the sandbox user administers; the others stay on polling.
        let store = try Store(path: paths.databaseFile)
        var hooked: [Target] = []
        var polled: [Target] = []
        for kind in kinds {
            guard let personality = SandboxPersonalityName(rawValue: kind.rawValue) else { continue }
            let workspace = server.service.workspaceSlugs(on: personality)[0]
            for slug in server.service.repositorySlugs(workspace: workspace, on: personality) {
                guard let repository = try store.repository(at: MirrorPath(provider: kind, workspace: workspace, repository: slug)) else {
                    throw Failure(description: "\(kind.rawValue)/\(workspace)/\(slug) is not in the mirror")
                }
                let target = Target(kind: kind, personality: personality, workspace: workspace, slug: slug, repositoryID: repository.id!)
                if repository.isAdmin {
                    _ = try await slipwayRun(["webhooks", "install", "\(kind.rawValue)/\(workspace)/\(slug)", "--url", "http://\(listener)"])
                    hooked.append(target)
                } else {
                    polled.append(target)
                }
            }
        }
        guard !hooked.isEmpty else { throw Failure(description: "no repository to hook in this world; try another --seed") }
        // Taken in turn across providers, so a mixed load alternates dialects delivery by delivery.
        hooked = Self.interleaved(hooked)
        print("sandbox (\(kinds.map(\.rawValue).joined(separator: ", "))): \(hooked.count) repositories with a hook, \(polled.count) without; daemon pid \(daemon.processIdentifier) on \(listener)")

        let webhook = try await measure(pushes: pushes, targets: hooked, server: server, store: store, timeout: 10)
        print(Self.line("push → visible, webhook", webhook))
        if !polled.isEmpty && pollingPushes > 0 {
            let polling = try await measure(pushes: pollingPushes, targets: polled, server: server, store: store, timeout: 120)
            print(Self.line("push → visible, polling", polling))
        }
        try await load(server: server, store: store, targets: hooked, daemon: daemon.processIdentifier)
    }

    /// Targets of several providers taken one of each in turn.
    static func interleaved(_ targets: [Target]) -> [Target] {
        var byKind: [[Target]] = Dictionary(grouping: targets, by: \.kind).sorted { $0.key.rawValue < $1.key.rawValue }.map(\.value)
        var result: [Target] = []
        while byKind.contains(where: { !$0.isEmpty }) {
            for index in byKind.indices where !byKind[index].isEmpty { result.append(byKind[index].removeFirst()) }
        }
        return result
    }

    /// Pushes one at a time and waits for each to be visible in the store.
    func measure(pushes: Int, targets: [Target], server: SandboxServer, store: Store, timeout: TimeInterval) async throws -> (samples: [Double], lost: Int) {
        var samples: [Double] = []
        var lost = 0
        for index in 0..<pushes {
            let target = targets[index % targets.count]
            let started = Date()
            guard let push = server.service.push(repository: target.fullName, on: target.personality) else { continue }
            let repositoryID = target.repositoryID
            var seen = false
            while Date().timeIntervalSince(started) < timeout {
                let head = try store.read { db in
                    try String.fetchOne(db, sql: "SELECT head_hash FROM branches WHERE repository_id = ? AND name = ?", arguments: [repositoryID, push.branch])
                }
                if head == push.new { seen = true; break }
                try await Task.sleep(nanoseconds: 500_000)
            }
            if seen { samples.append(Date().timeIntervalSince(started) * 1000) } else { lost += 1 }
        }
        return (samples, lost)
    }

    /// `rate` pushes a second for `seconds`, then: every delivery answered, every one recorded
    /// once, and the store's heads equal to the sandbox's.
    func load(server: SandboxServer, store: Store, targets: [Target], daemon: Int32) async throws {
        await server.service.webhooks.drain()
        let cpuBefore = (daemon: Self.cpuSeconds(pid: daemon), bench: Self.cpuSeconds(pid: getpid()))
        let before = server.service.webhooks.statistics
        let confirmationsBefore = try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM commands WHERE requested_by = 'webhook'") ?? 0 }
        let recordedBefore = try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_deliveries") ?? 0 }
        let total = Int(Double(rate) * seconds)
        let started = Date()
        var sent = 0
        while sent < total {
            // Catch up to the schedule every millisecond or so.
            let due = min(total, Int(Date().timeIntervalSince(started) * Double(rate)) + 1)
            while sent < due {
                let target = targets[sent % targets.count]
                server.service.push(repository: target.fullName, on: target.personality)
                sent += 1
            }
            try await Task.sleep(nanoseconds: 1_000_000)
        }
        let pushedIn = Date().timeIntervalSince(started)
        await server.service.webhooks.drain()
        let drainedIn = Date().timeIntervalSince(started)
        let after = server.service.webhooks.statistics
        let cpu = (daemon: Self.cpuSeconds(pid: daemon) - cpuBefore.daemon, bench: Self.cpuSeconds(pid: getpid()) - cpuBefore.bench)
        let recorded = try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_deliveries") ?? 0 } - recordedBefore
        // Consistent: every hooked repository's heads as the sandbox has them.
        var consistentAfter: Double?
        while Date().timeIntervalSince(started) < pushedIn + 120 {
            var equal = true
            for target in targets where equal {
                let stored = Dictionary(uniqueKeysWithValues: try store.branches(repositoryID: target.repositoryID).map { ($0.name, $0.headHash) })
                equal = stored == server.service.branches(workspace: target.workspace, repository: target.slug, on: target.personality)
            }
            if equal { consistentAfter = Date().timeIntervalSince(started) - drainedIn; break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        print(String(format: "load: %d pushes at %d/s sent in %.2f s, all answered after %.2f s", total, rate, pushedIn, drainedIn))
        print("  deliveries accepted \(after.delivered - before.delivered), failed \(after.failed - before.failed), retried \(after.retries - before.retries); recorded by the daemon \(recorded)")
        print(String(format: "  CPU: daemon %.2f s (%.0f µs a delivery), sandbox and sender %.2f s, on %d cores", cpu.daemon,
                     cpu.daemon / Double(max(1, recorded)) * 1_000_000, cpu.bench, ProcessInfo.processInfo.activeProcessorCount))
        let confirmations = try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM commands WHERE requested_by = 'webhook'") ?? 0 } - confirmationsBefore
        print("  confirming fetches queued: \(confirmations) (one waits per repository at a time)")
        print(consistentAfter.map { String(format: "  store equal to the sandbox %.2f s after the last answer (the confirming fetches)", $0) } ?? "  store NOT equal to the sandbox after 120 s")
    }

    /// User + system CPU of a process so far, from /proc.
    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func line(_ name: String, _ result: (samples: [Double], lost: Int)) -> String {
        let s = DashboardBench.summary(result.samples)
        return String(format: "%@: n=%d p50 %.1f ms  p95 %.1f ms  max %.1f ms  lost %d", name, result.samples.count, s["p50"]!, s["p95"]!, s["max"]!, result.lost)
    }

    /// A child process to its end, waited for on a thread of its own (not the concurrency pool,
    /// which the in-process sandbox needs to answer it).
    static func run(_ program: String, _ arguments: [String], environment: [String: String], stdin: String?) async -> (Int32, String) {
        await withCheckedContinuation { continuation in
            Thread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: program)
                process.arguments = arguments
                process.environment = environment
                let output = Pipe()
                let input = Pipe()
                process.standardOutput = output
                process.standardError = output
                process.standardInput = input
                do {
                    try process.run()
                } catch {
                    continuation.resume(returning: (127, "\(error)"))
                    return
                }
                if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
                try? input.fileHandleForWriting.close()
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            }.start()
        }
    }
}
