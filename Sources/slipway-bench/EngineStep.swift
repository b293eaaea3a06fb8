import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayProviders
import SlipwaySandbox
import SlipwayHTTP
import GRDB

/// What one scheduler step costs the engine itself — CPU, SQL statements, looks — with the
/// repositories spread over Bitbucket, GitHub and GitLab accounts whose hosts answer from memory
/// (no wire, no server time in the figure), on a virtual clock at one step a second.
struct EngineStepBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-step",
        abstract: "A scheduler step's CPU and queries at several repository counts, hosts in memory."
    )

    @Option(parsing: .upToNextOption, help: "Repository counts to measure, each split over the three providers.") var repos: [Int] = [1000, 10000]
    @Option(help: "Branches per repository.") var branches = 10
    @Option(help: "Unmeasured steps first (the sweep settles into its pace).") var warmup = 600
    @Option(help: "Measured steps.") var steps = 600
    @Option(help: "A push to some repository every this many steps.") var pushEvery = 3

    final class Statements: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func heard(_: String) { lock.withLock { count += 1 } }
        var total: Int { lock.withLock { count } }
    }

    func run() async throws {
        var results: [[String: Any]] = []
        for count in repos { results.append(try await measure(repositories: count)) }
        let data = try JSONSerialization.data(withJSONObject: ["runs": results], options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: data, as: UTF8.self))
    }

    func measure(repositories: Int) async throws -> [String: Any] {
        let home = FileManager.default.temporaryDirectory.path + "/slipway-bench-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let statements = Statements()
        let store = try Store(path: home + "/slipway.db", observeStatements: { statements.heard($0) })
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let clock = VirtualClock(start: start)
        var settings = SyncEngine.Settings()
        var hosts: [Int64: MemoryGitProvider] = [:]
        // Each provider at its own git pace, as the CLI configures them.
        let kinds: [(ProviderKind, Int)] = [(.bitbucket, 60000), (.github, GitHubProvider.gitRequestsPerHour), (.gitlab, GitLabProvider.gitRequestsPerHour)]
        for (index, (kind, gitPerHour)) in kinds.enumerated() {
            let share = repositories / kinds.count + (index < repositories % kinds.count ? 1 : 0)
            let host = MemoryGitProvider(kind: kind, workspaces: 10, repositories: max(1, share / 10), branches: branches)
            let account = try store.write { db -> Account in
                var account = Account(provider: kind, username: "bench", apiURL: "http://127.0.0.1:1/api", webURL: "http://127.0.0.1:1", auth: .token,
                                      createdAt: start)
                try account.insert(db)
                return account
            }
            _ = try await MirrorSync(store: store, account: account, provider: host, now: { clock.now }).run()
            try store.recordSync(accountID: account.id!, success: true, error: nil, now: start)
            hosts[account.id!] = host
            settings.perProvider[kind] = .init(restRequestsPerHour: 5000, gitRequestsPerHour: gitPerHour, concurrency: 4)
        }
        let providers = hosts
        let engine = SyncEngine(store: store, settings: settings, clock: clock, requestClock: clock) { account in providers[account.id!]! }
        let ordered = hosts.sorted { $0.key < $1.key }.map(\.value)
        var pushes = 0
        func tick(_ step: Int) async {
            clock.advance(by: 1)
            if step % pushEvery == 0 {
                pushes += 1
                let host = ordered[pushes % ordered.count]
                let perWorkspace = max(1, (repositories / kinds.count) / 10)
                // Zipf-like: low-numbered repositories get most pushes.
                let repository = Int(Double(perWorkspace) * pow(Double((pushes * 7919) % 1000) / 1000, 3))
                host.push(workspace: "\(host.kind.rawValue)-ws-\(pushes % 10)", repository: "repo-\(repository)")
            }
            await engine.step()
        }
        for step in 0..<warmup { await tick(step) }
        let looksBefore = ordered.reduce(0) { $0 + $1.headLookups }
        let statementsBefore = statements.total
        let cpuBefore = Self.cpuSeconds()
        let wallBefore = DispatchTime.now().uptimeNanoseconds
        for step in 0..<steps { await tick(warmup + step) }
        let cpu = Self.cpuSeconds() - cpuBefore
        let wall = Double(DispatchTime.now().uptimeNanoseconds - wallBefore) / 1e9
        let looks = ordered.reduce(0) { $0 + $1.headLookups } - looksBefore
        let queries = statements.total - statementsBefore
        return ["repositories": repositories, "branches": repositories * branches, "steps": steps,
                "cpu_ms_per_step": cpu * 1000 / Double(steps), "wall_ms_per_step": wall * 1000 / Double(steps),
                "statements_per_step": Double(queries) / Double(steps), "looks_per_step": Double(looks) / Double(steps),
                "cpu_us_per_look": looks == 0 ? 0 : cpu * 1e6 / Double(looks), "statements_per_look": looks == 0 ? 0 : Double(queries) / Double(looks)]
    }

    /// User and system CPU of this process so far.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
