import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwaySandbox
import GRDB

/// Freshness at budget on a virtual clock: the real scheduler against the sandbox's data model,
/// in-process (no sockets, no waiting), side by side with two REST-only baselines.
struct Freshness: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freshness",
        abstract: "Push-to-store latency for the engine and two polling baselines, on a virtual clock."
    )

    @Option(help: "The provider: bitbucket, github or gitlab.") var provider = "bitbucket"
    @Option(help: "Workspaces.") var workspaces = 10
    @Option(help: "Repositories per workspace.") var repos = 100
    @Option(help: "Branches per repository.") var branches = 10
    @Option(help: "Simulated hours.") var hours = 2.0
    @Option(help: "Mean seconds between pushes.") var pushEvery = 10.0
    @Option(help: "Zipf exponent of which repositories get pushes.") var zipf = 1.1
    @Option(help: "REST requests per hour (default: the provider's — Bitbucket 1,000, GitHub 5,000, GitLab 18,000 as 300 a minute).") var restPerHour: Int?
    @Option(help: "GraphQL points per hour (GitHub; default 5,000).") var graphqlPerHour = 5000
    @Option(help: "git requests per hour (default: the provider's — Bitbucket 60,000, GitHub 5,000 and GitLab 60,000 by Slipway's choice).") var gitPerHour: Int?
    @Option(help: "Seed.") var seed: UInt64 = 3
    @Option(help: "Share of repositories (a seeded draw) that get Slipway's webhook; the report splits them from the rest.") var webhookShare = 0.0
    @Flag(help: "Draw the same repositories and split the report alike, but install no hooks (the run to compare with).") var hooksOff = false
    @Flag(help: "The account administers every repository, so a hook can go on each drawn one (else only where it is admin).") var administersAll = false
    @Option(help: "Seconds from a push to its delivery reaching the receiver (0: within the same simulated second).") var webhookDelay = 0.0

    func validate() throws {
        guard BaselineWire(provider) != nil else { throw ValidationError("--provider is bitbucket, github or gitlab") }
        guard (0...1).contains(webhookShare) else { throw ValidationError("--webhook-share is between 0 and 1") }
    }

    func run() async throws {
        let wire = BaselineWire(provider)!
        let restPerHour = self.restPerHour ?? wire.restPerHour
        let gitPerHour = self.gitPerHour ?? wire.gitPerHour
        let graphqlPerHour = self.graphqlPerHour
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let clock = VirtualClock(start: start)
        var options = SandboxOptions()
        options.seed = seed
        options.workspaces = workspaces
        options.reposPerWorkspace = repos
        options.branchesPerRepo = branches
        options.largeRepositories = false
        options.rateLimitPerHour = 0
        options.gitRateLimitPerHour = 0
        options.personalities = [wire.personality]
        options.administersAll = administersAll
        let now: @Sendable () -> Date = { clock.now }
        // One world per contender, identical, receiving the same pushes.
        let inbox = SimulatedWebhooks.Inbox(now: now)
        let hooksOn = webhookShare > 0 && !hooksOff
        let engineWorld = try SandboxService(options: options, now: now, webhookTransport: hooksOn ? inbox.transport : nil)
        let branchPollWorld = try SandboxService(options: options, now: now)
        let repoPollWorld = try SandboxService(options: options, now: now)
        let origin = "http://127.0.0.1:7990"

        // Slipway: the real engine over an in-process transport, budgets on the virtual clock.
        let home = FileManager.default.temporaryDirectory.path + "/slipway-bench-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = try Store(path: home + "/slipway.db")
        let counter = CountingTransport(InProcessTransport(service: engineWorld, personality: wire.personality))
        var configuration = HTTPClient.Configuration()
        configuration.limits = { key in
            BudgetLimits(hourlyAllowance: key.kind == .rest ? restPerHour : key.kind == .graphql ? graphqlPerHour : gitPerHour,
                         perMinute: key.kind == .rest ? wire.perMinute : nil, fraction: 0.8, maxInFlight: 4)
        }
        let http = HTTPClient(transport: counter, ledger: InMemoryBudgetLedger(), clock: clock, random: SeededRandom(seed: seed), configuration: configuration)
        let (apiURL, token) = wire.account(engineWorld, origin)
        let account = try store.write { db -> Account in
            var a = Account(provider: wire.kind, username: "bench", apiURL: apiURL, webURL: origin, auth: .token, createdAt: start)
            try a.insert(db)
            return a
        }
        let descriptor = ProviderRegistry.descriptor(for: wire.kind)!
        // The initial sync costs every contender the same; it is done beforehand, off the budget.
        let unbudgeted = descriptor.makeGitProvider(ProviderConnection(apiURL: apiURL, webURL: origin, credential: .bearer(token),
                                                            http: HTTPClient(transport: InProcessTransport(service: engineWorld, personality: wire.personality), clock: clock)))!
        _ = try await MirrorSync(store: store, account: account, provider: unbudgeted, now: now).run()
        // Hooks, like the sync, are installed beforehand and off the budget.
        let drawn = SimulatedWebhooks.hookedNames(engineWorld.repositoryNames(on: wire.personality), share: webhookShare, seed: seed)
        var hooked = drawn
        var hookReport: [String: Any] = ["share": webhookShare, "drawn": drawn.count, "installed": hooksOn ? 0 : "none (--hooks-off)"]
        var webhooks: SimulatedWebhooks?
        if hooksOn, let dialect = descriptor.webhookDialect, let hosting = unbudgeted as? any WebhookHosting {
            let keyFile = home + "/key"
            let (installed, refused) = try await SimulatedWebhooks.install(drawn, store: store, kind: wire.kind, provider: hosting,
                                                                           keyFile: keyFile, url: "http://127.0.0.1:8787" + dialect.route, now: now)
            hooked = installed
            hookReport["installed"] = installed.count
            hookReport["refused"] = refused
            webhooks = SimulatedWebhooks(inbox: inbox, dialect: dialect, store: store, keyFile: keyFile, delay: webhookDelay, now: now)
            // What the providers send on creation (GitHub's `ping`) proves a hook at once.
            await engineWorld.webhooks.drain()
            await webhooks?.deliver(now: clock.now)
        }
        var settings = SyncEngine.Settings()
        settings.backgroundWait = 0
        settings.restRequestsPerHour = restPerHour
        settings.gitRequestsPerHour = gitPerHour
        // A fresh adapter each step, as the engine's factory makes them.
        let engine = SyncEngine(store: store, settings: settings, clock: clock, requestClock: clock) { _ in
            descriptor.makeGitProvider(ProviderConnection(apiURL: apiURL, webURL: origin, credential: .bearer(token), http: http,
                                                          budgetCredential: account.budgetCredential))!
        }

        let branchPoller = BranchPoller(world: branchPollWorld, wire: wire, origin: origin, perHour: restPerHour, start: start)
        let repoPoller = RepositoryPoller(world: repoPollWorld, wire: wire, origin: origin, perHour: restPerHour, start: start)

        // Pushes: exponential gaps, repositories by a Zipf law.
        let random = SeededRandom(seed: seed &+ 99)
        let names = engineWorld.repositoryNames(on: wire.personality)
        let weights = (1...names.count).map { 1 / pow(Double($0), zipf) }
        let total = weights.reduce(0, +)
        var nextPush = start.addingTimeInterval(-log(1 - random.nextUnit()) * pushEvery)
        var pending: [Pending] = []
        var latencies: [String: [TimeInterval]] = ["slipway": [], "branch-poll": [], "repo-poll": []]
        if webhookShare > 0 { latencies["slipway-hooked"] = []; latencies["slipway-unhooked"] = [] }
        let end = start.addingTimeInterval(hours * 3600)

        while clock.now < end {
            while nextPush <= clock.now {
                var pick = random.nextUnit() * total
                var index = 0
                while index < weights.count - 1 && pick > weights[index] { pick -= weights[index]; index += 1 }
                // The three worlds share a seed, so the same push lands identically in each.
                let push = engineWorld.push(repository: names[index], on: wire.personality)
                _ = branchPollWorld.push(repository: names[index], on: wire.personality)
                _ = repoPollWorld.push(repository: names[index], on: wire.personality)
                if let push, push.kind == .commit, let hash = push.new {
                    pending.append(Pending(repository: push.repository, branch: push.branch, hash: hash, at: clock.now))
                } else if let push, push.kind == .branchDeleted {
                    // A commit on a branch that no longer exists can no longer be seen.
                    for i in pending.indices where pending[i].key == push.repository + "/" + push.branch { pending[i].branchDeleted = true }
                }
                nextPush = nextPush.addingTimeInterval(-log(1 - random.nextUnit()) * pushEvery)
            }
            if Int(clock.now.timeIntervalSince(start)) % 600 == 0 {
                FileHandle.standardError.write(Data("simulated \(Int(clock.now.timeIntervalSince(start)) / 60) min, \(pending.count) pushes\n".utf8))
            }
            await engineWorld.webhooks.drain()
            await webhooks?.deliver(now: clock.now)
            await engine.step()
            branchPoller.tick(now: clock.now)
            repoPoller.tick(now: clock.now)
            // Who has seen which push. Seeing a later push to the same branch counts for the
            // earlier ones too: the head moved past them.
            for i in pending.indices.reversed() {
                let p = pending[i]
                var marks: [String] = []
                if p.branchDeleted { continue }
                if p.seenBy["slipway"] == nil, try storeHead(store, p, kind: wire.kind) == p.hash { marks.append("slipway") }
                if p.seenBy["branch-poll"] == nil, branchPoller.seen[p.key] == p.hash { marks.append("branch-poll") }
                if p.seenBy["repo-poll"] == nil, repoPoller.seen[p.key] == p.hash { marks.append("repo-poll") }
                for name in marks {
                    for j in pending.indices[...i] where pending[j].key == p.key && pending[j].seenBy[name] == nil {
                        pending[j].seenBy[name] = clock.now
                    }
                }
            }
            clock.advance(by: 1)
        }
        // A push not seen by the end counts as missed only if it is older than ten minutes; the
        // newest ones were simply still on their way when the clock stopped.
        var missed: [String: Int] = [:]
        var inFlight: [String: Int] = [:]
        for i in pending.indices where webhookShare > 0 {
            pending[i].seenBy[hooked.contains(pending[i].repository) ? "slipway-hooked" : "slipway-unhooked"] = pending[i].seenBy["slipway"]
        }
        for p in pending {
            for name in latencies.keys {
                if name.hasPrefix("slipway-"), (name == "slipway-hooked") != hooked.contains(p.repository) { continue }
                if let seen = p.seenBy[name] {
                    latencies[name]!.append(seen.timeIntervalSince(p.at))
                } else if p.branchDeleted {
                    continue
                } else if end.timeIntervalSince(p.at) > 600 {
                    missed[name, default: 0] += 1
                } else {
                    inFlight[name, default: 0] += 1
                }
            }
        }
        let hoursRun = hours
        var result: [String: Any] = ["provider": wire.kind.rawValue, "pushes": pending.count, "repositories": names.count,
                                     "branches": engineWorld.summary.branches, "hours": hoursRun,
                                     "rest_budget": Double(restPerHour) * 0.8 * hoursRun, "git_budget": Double(gitPerHour) * 0.8 * hoursRun]
        if webhookShare > 0 {
            hookReport["receiver_answers"] = Dictionary(uniqueKeysWithValues: (webhooks?.answers ?? [:]).map { (String($0.key), $0.value) })
            hookReport["hooked_lane_at_end"] = try store.sweepLaneCounts(accountID: account.id!).filter { $0.lane == .hooked }.map(\.count).reduce(0, +)
            result["webhooks"] = hookReport
        }
        if wire.kind == .github { result["graphql_budget"] = Double(graphqlPerHour) * 0.8 * hoursRun }
        let requests: [String: [String: Int]] = ["slipway": counter.byKind, "branch-poll": ["rest": branchPoller.requests],
                                                 "repo-poll": ["rest": repoPoller.requests]]
        for (name, values) in latencies {
            let sorted = values.sorted()
            func pct(_ p: Double) -> Double? { sorted.isEmpty ? nil : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            result[name] = ["p50_s": pct(0.5) as Any, "p95_s": pct(0.95) as Any, "max_s": sorted.last as Any, "seen": sorted.count,
                            "missed_after_10_min": missed[name] ?? 0, "in_flight_at_end": inFlight[name] ?? 0,
                            "requests": requests[name] ?? [:]]
        }
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: data, as: UTF8.self))
    }

    struct Pending {
        var repository: String
        var branch: String
        var hash: String
        var at: Date
        var seenBy: [String: Date] = [:]
        var branchDeleted = false
        var key: String { repository + "/" + branch }
    }

    /// A world's `workspace/slug` as a mirror path. Nested namespaces (GitLab): the workspace is
    /// everything before the last segment.
    static func mirrorPath(_ fullName: String, kind: ProviderKind) -> MirrorPath {
        let parts = fullName.split(separator: "/")
        return MirrorPath(provider: kind, workspace: parts.dropLast().joined(separator: "/"), repository: String(parts.last!))
    }

    func storeHead(_ store: Store, _ p: Pending, kind: ProviderKind) throws -> String? {
        guard let repo = try store.repository(at: Self.mirrorPath(p.repository, kind: kind)) else { return nil }
        return try store.branch(repositoryID: repo.id!, name: p.branch)?.headHash
    }
}

/// The sandbox answering in-process.
struct InProcessTransport: HTTPTransport {
    let service: SandboxService
    var personality: SandboxPersonalityName = .bitbucket

    func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name] = field.value }
        let reply = await service.answer(method: request.method.rawValue, url: request.url, headers: headers, body: request.body ?? Data(), as: personality)
        return HTTPResponse(status: reply.status, headers: HTTPHeaders(reply.headers), body: reply.body, url: request.url)
    }
}

/// What the two REST baselines ask of a provider: one branch's head, or one repository's branches.
struct BaselineWire {
    let kind: ProviderKind
    let personality: SandboxPersonalityName
    let restPerHour: Int
    let gitPerHour: Int

    init?(_ name: String) {
        switch name {
        case "bitbucket": (kind, personality, restPerHour, gitPerHour) = (.bitbucket, .bitbucket, 1000, 60000)
        case "github": (kind, personality, restPerHour, gitPerHour) = (.github, .github, 5000, GitHubProvider.gitRequestsPerHour)
        case "gitlab": (kind, personality, restPerHour, gitPerHour) = (.gitlab, .gitlab, GitLabProvider.requestsPerMinute * 60, GitLabProvider.gitRequestsPerHour)
        default: return nil
        }
    }

    /// The account's API URL and token in a world.
    func account(_ world: SandboxService, _ origin: String) -> (String, String) {
        switch kind {
        case .github: (origin + "/api/v3", world.github.classicToken)
        case .gitlab: (origin + "/api/v4", world.gitlab.token)
        default: (origin + "/2.0", world.bitbucket.accessToken)
        }
    }

    /// GitLab meters per minute; the baselines keep to that window too.
    var perMinute: Int? { kind == .gitlab ? GitLabProvider.requestsPerMinute : nil }

    static func projectID(_ repository: String) -> String { repository.replacingOccurrences(of: "/", with: "%2F") }

    func token(_ world: SandboxService) -> String { account(world, "").1 }

    /// Bitbucket `commits/{branch}?pagelen=1`; GitHub `branches/{branch}` (what PyGithub's `get_branch` asks).
    func branchURL(_ origin: String, _ repository: String, _ branch: String) -> String {
        let encoded = branch.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? branch
        switch kind {
        case .github: return "\(origin)/api/v3/repos/\(repository)/branches/\(encoded)"
        case .gitlab: return "\(origin)/api/v4/projects/\(Self.projectID(repository))/repository/branches/\(encoded)"
        default: return "\(origin)/2.0/repositories/\(repository)/commits/\(encoded)?pagelen=1"
        }
    }

    func branchHead(_ body: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
        if kind == .github { return (object["commit"] as? [String: Any])?["sha"] as? String }
        if kind == .gitlab { return (object["commit"] as? [String: Any])?["id"] as? String }
        return (object["values"] as? [[String: Any]])?.first?["hash"] as? String
    }

    /// Bitbucket `refs/branches?pagelen=100`; GitHub `branches?per_page=100`.
    func branchesURL(_ origin: String, _ repository: String) -> String {
        switch kind {
        case .github: "\(origin)/api/v3/repos/\(repository)/branches?per_page=100"
        case .gitlab: "\(origin)/api/v4/projects/\(Self.projectID(repository))/repository/branches?per_page=100"
        default: "\(origin)/2.0/repositories/\(repository)/refs/branches?pagelen=100"
        }
    }

    func heads(_ body: Data) -> [String: String] {
        var heads: [String: String] = [:]
        if kind == .github || kind == .gitlab {
            let key = kind == .github ? "sha" : "id"
            for branch in (try? JSONSerialization.jsonObject(with: body) as? [[String: Any]]) ?? [] {
                if let name = branch["name"] as? String, let hash = (branch["commit"] as? [String: Any])?[key] as? String { heads[name] = hash }
            }
        } else if let page = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            for branch in page["values"] as? [[String: Any]] ?? [] {
                if let name = branch["name"] as? String, let hash = (branch["target"] as? [String: Any])?["hash"] as? String { heads[name] = hash }
            }
        }
        return heads
    }
}

/// Baseline 1: each branch's head in turn, REST only.
final class BranchPoller {
    let world: SandboxService
    let wire: BaselineWire
    let origin: String
    var bucket: TokenBucket
    var queue: [(String, String)] = []
    var index = 0
    var requests = 0
    var seen: [String: String] = [:]

    init(world: SandboxService, wire: BaselineWire, origin: String, perHour: Int, start: Date) {
        self.world = world
        self.wire = wire
        self.origin = origin
        bucket = TokenBucket(hourlyAllowance: perHour, perMinute: wire.perMinute, fraction: 0.8, now: start)
        for name in world.repositoryNames(on: wire.personality) {
            let parts = name.split(separator: "/").map(String.init)
            for branch in world.branches(workspace: parts.dropLast().joined(separator: "/"), repository: parts.last!, on: wire.personality).keys.sorted() {
                queue.append((name, branch))
            }
        }
    }

    func tick(now: Date) {
        while bucket.take(now: now) == nil {
            let (repository, branch) = queue[index % queue.count]
            index += 1
            requests += 1
            let reply = world.respond(method: "GET", url: wire.branchURL(origin, repository, branch),
                                      headers: ["Authorization": "Bearer \(wire.token(world))"], body: Data(), as: wire.personality)
            if let hash = wire.branchHead(reply.body) { seen[repository + "/" + branch] = hash }
        }
    }
}

/// Baseline 2: each repository's branch list in turn, REST only.
final class RepositoryPoller {
    let world: SandboxService
    let wire: BaselineWire
    let origin: String
    var bucket: TokenBucket
    let names: [String]
    var index = 0
    var requests = 0
    var seen: [String: String] = [:]

    init(world: SandboxService, wire: BaselineWire, origin: String, perHour: Int, start: Date) {
        self.world = world
        self.wire = wire
        self.origin = origin
        bucket = TokenBucket(hourlyAllowance: perHour, perMinute: wire.perMinute, fraction: 0.8, now: start)
        names = world.repositoryNames(on: wire.personality)
    }

    func tick(now: Date) {
        while bucket.take(now: now) == nil {
            let repository = names[index % names.count]
            index += 1
            requests += 1
            let reply = world.respond(method: "GET", url: wire.branchesURL(origin, repository),
                                      headers: ["Authorization": "Bearer \(wire.token(world))"], body: Data(), as: wire.personality)
            for (name, hash) in wire.heads(reply.body) { seen[repository + "/" + name] = hash }
        }
    }
}
