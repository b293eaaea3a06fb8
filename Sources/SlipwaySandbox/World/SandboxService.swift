import Foundation
import SlipwayHTTP

/// The sandbox's one world, independent of the HTTP server: the data every personality serves,
/// pushes into it, faults, rate windows, the webhook outbox and the control endpoints. Each
/// personality speaks its service's wire format over it; the server feeds requests to
/// `handle(_:for:)`, and tests and simulations may too.
public final class SandboxService: @unchecked Sendable {
    public let options: SandboxOptions
    /// The personalities this world is served as (`--only`), in `SandboxPersonalityName` order.
    public let served: [SandboxPersonalityName]
    /// Bitbucket Cloud's wire format (its credentials are the ones most tests link with).
    public let bitbucket: BitbucketPersonality
    /// GitHub's wire format (its tokens).
    public let github: GitHubPersonality
    public let gitlab: GitLabPersonality
    /// A plain public git host (no credentials, no API).
    public let git: GitPersonality
    /// App Platform's API.
    public let digitalocean: DigitalOceanPersonality
    /// Sends the deliveries pushes owe to hooks (statistics and `drain()` for tests).
    public let webhooks: WebhookSender

    let now: @Sendable () -> Date
    private let lock = NSLock()
    /// Guarded by `lock`, as is every personality's own state.
    private var state: WorldState
    private let personalities: [SandboxPersonalityName: any SandboxPersonality]

    /// `webhookTransport` replaces libcurl for deliveries (tests script the receiver's answers).
    public init(options: SandboxOptions, now: @escaping @Sendable () -> Date = { Date() },
                webhookTransport: (@Sendable () -> any HTTPTransport)? = nil) throws(SandboxOptions.ValidationError) {
        try options.validate()
        self.options = options
        self.now = now
        served = options.personalities
        webhooks = webhookTransport.map { WebhookSender(makeTransport: $0) } ?? WebhookSender()
        bitbucket = BitbucketPersonality(options: options)
        github = GitHubPersonality(options: options)
        gitlab = GitLabPersonality(options: options)
        git = GitPersonality(options: options)
        digitalocean = DigitalOceanPersonality(options: options)
        personalities = [.bitbucket: bitbucket, .github: github, .gitlab: gitlab, .git: git, .digitalocean: digitalocean]
        let start = now()
        var hosts: [SandboxPersonalityName: SandboxWorld] = [.bitbucket: WorldGenerator.build(options: options, start: start)]
        if options.personalities.contains(.github) { hosts[.github] = WorldGenerator.buildGitHub(options: options, start: start) }
        if options.personalities.contains(.gitlab) { hosts[.gitlab] = WorldGenerator.buildGitLab(options: options, start: start) }
        // A public host's repositories are real ones, attached when the server starts.
        if options.personalities.contains(.git) { hosts[.git] = WorldGenerator.buildPublicGit(options: options, start: start) }
        state = WorldState(options: options, now: start, hosts: hosts,
                           random: SandboxRandom(seed: options.seed &+ 0x7075_7368),   // pushes draw from their own stream
                           limits: SandboxLimits(options: options),
                           faults: FaultTable(options.faults.compactMap { try? FaultSpec(parsing: $0) }))
    }

    /// One App Platform log by the token its URL carries, as it stands now (the log server asks).
    func appPlatformLog(token: String) -> (lines: [String], finished: Bool)? {
        lock.withLock {
            state.now = now()
            return digitalocean.log(token: token, now: state.now)
        }
    }

    /// Where the App Platform log server listens; requests that reached it carrying a credential.
    func setAppPlatformLogOrigin(_ origin: String) { lock.withLock { digitalocean.logOrigin = origin } }
    public var logRequestsWithCredentials: Int { lock.withLock { state.stats.logRequestsWithCredentials } }
    func countLogRequestWithCredential() { lock.withLock { state.stats.logRequestsWithCredentials += 1 } }

    /// The world under the lock, as one inout value: its parts may then be changed side by side
    /// (a class's stored property allows one access at a time, however disjoint).
    private func withState<T>(_ body: (inout WorldState) -> T) -> T {
        lock.withLock { body(&state) }
    }

    func personality(_ name: SandboxPersonalityName) -> any SandboxPersonality {
        personalities[name]!
    }

    func setOrigin(_ origin: String, for name: SandboxPersonalityName) {
        lock.withLock { personality(name).origin = origin }
    }

    /// `HOST:PORT` the personality is served at (for requests that name no host).
    func authority(of name: SandboxPersonalityName) -> String {
        lock.withLock { String(personality(name).origin.dropFirst("http://".count)) }
    }

    /// The e-mail of the sandbox's user on Bitbucket (its API token's Basic user name).
    public var email: String { lock.withLock { state.hosts[.bitbucket]?.user.email ?? "" } }

    // MARK: The demo workspace (real git)

    /// Adds the `demo` workspace, whose repositories are real (cloned and fetched over smart HTTP).
    func attachDemo(_ repositories: DemoRepositories, on host: SandboxPersonalityName = .bitbucket) throws {
        let created = now().addingTimeInterval(-3600)
        var workspace = SandboxWorkspace(uuid: "{00000000-0000-4000-8000-00000000d3e0}", slug: DemoRepositories.workspace, name: "Demo apps",
                                         isPrivate: true, isAdmin: true, createdOn: created)
        var repos: [SandboxRepository] = []
        for (index, project) in DemoRepositories.projects.enumerated() {
            var repository = SandboxRepository(uuid: "{00000000-0000-4000-8000-00000000d3e\(index + 1)}", workspace: workspace.slug, slug: project.slug,
                                               name: project.name, description: "A tiny project the demo deploys", language: "make",
                                               isPrivate: true, role: "admin", createdOn: created, updatedOn: created, mainBranch: "main")
            repository.number = 900_000 + index
            for commit in try repositories.commits(project.slug) { repository.commits[commit.hash] = commit }
            repository.branches["main"] = try repositories.commits(project.slug).last?.hash
            workspace.repositories.append(project.slug)
            repos.append(repository)
        }
        workspace.number = 29_000_000
        lock.withLock {
            for repository in repos { state.hosts[host]?.repositories[repository.fullName] = repository }
            state.hosts[host]?.workspaces[workspace.slug] = workspace
            state.hosts[host]?.workspaceOrder.append(workspace.slug)
            state.demo[host] = repositories
        }
    }

    /// A real push to a demo repository (a new version on main); nil without the demo workspace.
    /// Without a host, the hosts with one take turns. git runs on a thread of its own, never
    /// blocking the concurrency pool the server needs.
    @discardableResult
    public func pushDemo(_ slug: String? = nil, on host: SandboxPersonalityName? = nil) async -> SandboxPush? {
        await SandboxServer.offThePool { self.pushDemoBlocking(slug, on: host) }
    }

    func pushDemoBlocking(_ slug: String?, on named: SandboxPersonalityName? = nil) -> SandboxPush? {
        let (host, demo, target) = lock.withLock { () -> (SandboxPersonalityName?, DemoRepositories?, String) in
            if slug == nil || named == nil { state.demoPushes += 1 }
            let hosts = state.demo.keys.sorted()
            let host = named ?? (hosts.isEmpty ? nil : hosts[state.demoPushes % hosts.count])
            let target = slug ?? DemoRepositories.projects[(state.demoPushes / max(1, hosts.count)) % DemoRepositories.projects.count].slug
            return (host, host.flatMap { state.demo[$0] }, target)
        }
        guard let host, let demo else { return nil }
        guard demo.contains(target), let commit = try? demo.push(target) else { return nil }
        defer { flushOutbox() }
        return withState { state -> SandboxPush? in
            state.now = now()
            let fullName = "\(DemoRepositories.workspace)/\(target)"
            guard var repository = state.hosts[host]?.repositories[fullName] else { return nil }
            let old = repository.branches["main"]
            repository.commits[commit.hash] = commit
            repository.branches["main"] = commit.hash
            if options.bumpUpdatedOn { repository.updatedOn = state.now }
            state.hosts[host]?.repositories[fullName] = repository
            state.hosts[host]?.pushes += 1
            state.pushes += 1
            let push = SandboxPush(kind: .commit, repository: fullName, branch: "main", old: old, new: commit.hash, host: host)
            queueDeliveries(for: push, in: &state)
            return push
        }
    }

    var hasDemo: Bool { lock.withLock { !state.demo.isEmpty } }

    // MARK: Simulated pushes

    /// Performs `count` simulated pushes; returns what happened.
    @discardableResult
    public func push(count: Int = 1) -> [SandboxPush] {
        defer { flushOutbox() }
        return withState { state in
            state.now = now()
            return (0..<count).compactMap { _ in pushLocked(in: &state) }
        }
    }

    /// A push to one repository (`workspace/slug`), for benchmarks that choose where pushes land.
    @discardableResult
    public func push(repository: String, on host: SandboxPersonalityName = .bitbucket) -> SandboxPush? {
        defer { flushOutbox() }
        return withState { state in
            state.now = now()
            return pushLocked(repository: repository, on: host, in: &state)
        }
    }

    /// A push into the world, and the deliveries its repository's hooks are owed. Lock held.
    /// Without a named host, one of the served ones (with repositories) is drawn.
    private func pushLocked(repository: String? = nil, on named: SandboxPersonalityName? = nil, in state: inout WorldState) -> SandboxPush? {
        let hosts = served.filter { !(state.hosts[$0]?.repositories.isEmpty ?? true) }
        guard !hosts.isEmpty else { return nil }
        // A draw only when there is a choice, so a one-host world pushes as it always has.
        let host = named ?? (hosts.count == 1 ? hosts[0] : state.random.pick(hosts))
        // Taken out while it changes, so the change is made in place, not on a copy.
        guard var world = state.hosts.removeValue(forKey: host) else { return nil }
        let real = Set(DemoRepositories.projects.map(\.slug).filter { state.demo[host]?.contains($0) == true }.map { "\(DemoRepositories.workspace)/\($0)" })
        let push = world.push(random: &state.random, now: state.now, bumpUpdatedOn: options.bumpUpdatedOn, repository: repository, excluding: real)
        state.hosts[host] = world
        guard var push else { return nil }
        push.host = host
        state.pushes += 1
        queueDeliveries(for: push, in: &state)
        return push
    }

    /// What the pushed repository's hooks are owed, in its personality's dialect, and what App
    /// Platform starts for it (its apps that deploy on push). Lock held.
    private func queueDeliveries(for push: SandboxPush, in state: inout WorldState) {
        if served.contains(.digitalocean) { digitalocean.pushed(push, in: &state) }
        guard let personality = personalities[push.host] else { return }
        let owed = personality.deliveries(for: push, in: &state)
        state.outbox += owed
    }

    /// Sends what pushes made under the lock are owed; called after the lock is released.
    private func flushOutbox() {
        let pending = lock.withLock { () -> [OutboundDelivery] in
            defer { state.outbox = [] }
            return state.outbox
        }
        webhooks.send(pending)
    }

    /// Stops the delivery client (the server calls this on stop).
    func shutdown() {
        webhooks.shutdown()
        // The demo's real repositories live in a temporary folder: gone with the sandbox. Under
        // the lock, so a second shutdown (a signal's and the command's) returns only once it is.
        lock.withLock {
            for demo in state.demo.values { demo.remove() }
            state.demo = [:]
        }
    }

    // MARK: Looking at the world (tests, benchmarks, the banner)

    /// Every repository's full name on a host, sorted.
    public func repositoryNames(on host: SandboxPersonalityName = .bitbucket, publicOnly: Bool = false) -> [String] {
        lock.withLock { state.hosts[host]?.repositories.filter { !publicOnly || !$0.value.isPrivate }.keys.sorted() ?? [] }
    }

    /// Workspaces, repositories and branches, over every served host.
    public var summary: (workspaces: Int, repositories: Int, branches: Int) {
        lock.withLock {
            served.compactMap { state.hosts[$0] }.reduce((0, 0, 0)) { total, world in
                (total.0 + world.workspaces.count, total.1 + world.repositories.count, total.2 + world.branchCount)
            }
        }
    }

    /// Branch heads of a repository (for tests and the demo).
    public func branches(workspace: String, repository: String, on host: SandboxPersonalityName = .bitbucket) -> [String: String] {
        lock.withLock { state.hosts[host]?.repository(workspace, repository)?.branches ?? [:] }
    }

    public func workspaceSlugs(on host: SandboxPersonalityName = .bitbucket) -> [String] {
        lock.withLock { state.hosts[host]?.workspaceOrder ?? [] }
    }

    public func repositorySlugs(workspace: String, on host: SandboxPersonalityName = .bitbucket) -> [String] {
        lock.withLock { state.hosts[host]?.workspaces[workspace]?.repositories ?? [] }
    }

    // MARK: Requests

    /// Answers a request without a socket (simulations on a virtual clock). `url` is absolute;
    /// its host becomes the origin of the links in the answer.
    public func respond(method: String, url: String, headers: [String: String], body: Data,
                        as name: SandboxPersonalityName = .bitbucket) -> (status: Int, headers: [(String, String)], body: Data) {
        let reply = handle(Self.request(method: method, url: url, headers: headers, body: body), for: name)
        return (reply.status, reply.headers, reply.body)
    }

    /// The same, finishing answers that work outside the world's lock (GraphQL): what an
    /// in-process client awaits.
    public func answer(method: String, url: String, headers: [String: String], body: Data,
                       as name: SandboxPersonalityName = .bitbucket) async -> (status: Int, headers: [(String, String)], body: Data) {
        var reply = handle(Self.request(method: method, url: url, headers: headers, body: body), for: name)
        if let work = reply.deferred { reply = await work() }
        return (reply.status, reply.headers, reply.body)
    }

    /// A request as the server would hand it over, from an absolute URL (its host becomes the origin).
    private static func request(method: String, url: String, headers: [String: String], body: Data) -> SandboxRequest {
        let components = URLComponents(string: url)
        let authority = components.flatMap { c in c.host.map { h in c.port.map { "\(h):\($0)" } ?? h } } ?? "127.0.0.1"
        var lowered = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        lowered["host"] = authority
        let path = (components?.percentEncodedPath ?? "/") + (components?.percentEncodedQuery.map { "?" + $0 } ?? "")
        return SandboxRequest(method: method, uri: path, headers: lowered, body: body, origin: "http://\(authority)")
    }

    func handle(_ request: SandboxRequest, for name: SandboxPersonalityName) -> SandboxReply {
        defer { flushOutbox() }
        return withState { state in
            state.now = now()
            return handleLocked(request, personality: personality(name), in: &state)
        }
    }

    /// git's upload-pack POST, when it is for one of the personality's real repositories.
    func uploadPack(_ request: SandboxRequest, for name: SandboxPersonalityName) -> UploadPackDecision {
        withState { state in
            state.now = now()
            let personality = personality(name)
            let decision = personality.uploadPack(request, in: &state)
            if case .notHere = decision { return decision }
            count(request, kind: .git, personality: personality, in: &state)
            return decision
        }
    }

    private func count(_ request: SandboxRequest, kind: RequestKind, personality: any SandboxPersonality, in state: inout WorldState) {
        state.stats.byPath[personality.template(request.segments), default: 0] += 1
        state.stats.byKind[kind.rawValue, default: 0] += 1
        state.stats.byPersonality[personality.name.rawValue, default: 0] += 1
    }

    private func handleLocked(_ request: SandboxRequest, personality: any SandboxPersonality, in state: inout WorldState) -> SandboxReply {
        if request.segments.first == "_sandbox" {
            state.stats.byPath["/" + request.segments.joined(separator: "/"), default: 0] += 1
            state.stats.byKind["control", default: 0] += 1
            return control(request, in: &state)
        }
        let kind = personality.kind(of: request)
        count(request, kind: kind, personality: personality, in: &state)
        var delay: TimeInterval = 0
        if kind.faultable, let fault = state.faults.fire(path: request.rawPath, personality: personality.name, random: &state.random) {
            switch fault {
            case .reset:
                return SandboxReply(status: 200, transport: .reset)
            case let .delay(seconds):
                delay = seconds
            case .truncate:
                var reply = personality.respond(to: request, in: &state)
                reply.transport = .truncate
                return reply
            case .status, .rateLimitForbidden, .malformed:
                return personality.faultReply(fault, in: &state)
            }
        }
        var reply = personality.respond(to: request, in: &state)
        reply.delay = delay
        return reply
    }

    // MARK: Control (served beside every personality)

    private func control(_ request: SandboxRequest, in state: inout WorldState) -> SandboxReply {
        switch (request.method, request.segments.dropFirst().first) {
        case ("GET", "stats"):
            var object: [String: Any] = [
                "requests_by_path": state.stats.byPath, "requests_by_kind": state.stats.byKind,
                "requests_by_credential": state.stats.byCredential, "requests_by_personality": state.stats.byPersonality,
                "rate_limited": state.stats.rateLimited, "unauthorized": state.stats.unauthorized, "faults_fired": state.faults.firedCounts,
                "pushes": state.pushes, "rate_limit": state.limits.rest ?? NSNull(), "rate_limits": state.limits.restByPersonality(served),
                "personalities": served.map(\.rawValue),
                "webhook_deliveries": ["delivered": webhooks.statistics.delivered, "failed": webhooks.statistics.failed,
                                       "attempts": webhooks.statistics.attempts, "retries": webhooks.statistics.retries],
            ]
            // Each personality's own figures, by name; the first's also at the top (as before there were several).
            var own: [String: Any] = [:]
            for name in served {
                let figures = personality(name).statistics(in: state)
                own[name.rawValue] = figures
                object.merge(figures) { current, _ in current }
            }
            object["by_personality"] = own
            return .json(200, object)
        case ("POST", "control"):
            guard let object = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any] else {
                return .json(400, ["error": "expected a JSON object"])
            }
            var events: [[String: Any]] = []
            if let pushes = object["push"] as? Int {
                for _ in 0..<max(0, min(pushes, 10_000)) {
                    if let e = pushLocked(in: &state) {
                        events.append(["personality": e.host.rawValue, "kind": e.kind.rawValue, "repository": e.repository,
                                       "branch": e.branch, "old": e.old ?? NSNull(), "new": e.new ?? NSNull()])
                    }
                }
            }
            // A push to one repository (benchmarks drive a branch an app builds from).
            if let target = object["push_to"] as? [String: Any], let repository = target["repository"] as? String {
                let host = (target["personality"] as? String).flatMap(SandboxPersonalityName.init(rawValue:))
                if let e = pushLocked(repository: repository, on: host, in: &state) {
                    events.append(["personality": e.host.rawValue, "kind": e.kind.rawValue, "repository": e.repository,
                                   "branch": e.branch, "old": e.old ?? NSNull(), "new": e.new ?? NSNull()])
                }
            }
            if let limit = object["rate_limit"] as? Int {
                state.limits.rest = max(0, limit)
                state.limits.restOverrides = [:]
            }
            if let limits = object["rate_limits"] as? [String: Int] {
                for (text, limit) in limits {
                    guard let name = SandboxPersonalityName(rawValue: text), served.contains(name) else {
                        return .json(400, ["error": "no personality '\(text)' is served here"])
                    }
                    state.limits.restOverrides[name] = max(0, limit)
                }
            }
            if object["reset_limits"] as? Bool == true { state.resetWindows() }
            if let specs = object["faults"] as? [String] {
                var parsed: [FaultSpec] = []
                for spec in specs {
                    do { parsed.append(try FaultSpec(parsing: spec)) } catch { return .json(400, ["error": error.description]) }
                }
                state.faults.replace(with: parsed)
            }
            for name in served { personality(name).control(object, in: &state) }
            return .json(200, ["pushed": events, "rate_limit": state.limits.rest ?? NSNull(), "rate_limits": state.limits.restByPersonality(served),
                               "faults": state.faults.specs.map(\.text)])
        default:
            return .json(404, ["error": "Unknown sandbox control path"])
        }
    }
}
