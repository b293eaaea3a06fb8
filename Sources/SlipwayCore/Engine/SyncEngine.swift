import Foundation
import Logging
import SlipwayHTTP
import SlipwayProviders
import GRDB

/// Keeps the mirror fresh within the rate limit (DESIGN.md, "Engine"): a full step-0 sync once,
/// then per workspace a discovery page sorted by `-updated_on`, and a prioritized sweep that reads
/// every branch head of a repository from one git refs advertisement (git budget), asking REST only
/// for the details of heads that moved — or for the whole branch list where git access fails.
/// Commands left by other processes are claimed between steps and run on the interactive lane.
public actor SyncEngine {
    public struct Settings: Sendable {
        /// The shortest time between two sweeps of one untracked repository; with many
        /// repositories the git budget stretches it (`sweepShare` of it goes to the sweep).
        public var sweepInterval: TimeInterval = 5
        /// The share of the git budget the sweep plans to spend; the rest is headroom.
        public var sweepShare = 0.75
        /// Hourly allowances and the share the engine may spend, for planning intervals: these
        /// where `perProvider` names nothing for the account's provider.
        public var restRequestsPerHour = 1000
        public var gitRequestsPerHour = 60000
        public var budgetFraction = 0.8
        /// Each provider's own allowances and concurrency (`[providers.NAME]`, else its adapter's defaults).
        public var perProvider: [ProviderKind: Pacing] = [:]
        /// Repositories an app builds from: at least this often.
        public var appPollInterval: TimeInterval = 30
        /// The shortest time between two discovery pages of one workspace; a quarter of the REST
        /// budget goes to discovery, which stretches it when there are many workspaces.
        public var discoveryInterval: TimeInterval = 60
        /// The same where discovery is cheap: one request answers for every workspace, or an
        /// unchanged answer costs nothing (GitHub's 304s).
        public var cheapDiscoveryInterval: TimeInterval = 15
        /// Repositories whose heads moved within this long are "active": pushes come in runs, so
        /// while there are any they get a share of the git budget of their own.
        public var activeWindow: TimeInterval = 3600
        /// The active repositories' share of the git budget, and what the quiet ones keep
        /// meanwhile (a little less than `sweepShare`: the two leave headroom as it does).
        public var activeShare = 0.25
        public var quietShare = 0.7
        /// A full listing (to notice removed repositories) this often.
        public var fullSyncInterval: TimeInterval = 6 * 3600
        /// Repositories swept at once per account (bounded further by max_in_flight).
        public var concurrency = 4
        /// The longest a background request waits for budget before the step moves on.
        public var backgroundWait: TimeInterval = 5
        /// Moved heads beyond this many fetch the whole branch list instead of one commit each.
        public var detailsPerRepositoryLimit = 3
        /// A repository whose webhook delivers is swept only this often (a lost delivery's net).
        public var webhookSweepInterval: TimeInterval = 1800
        /// The most of the sweep's share the safety sweep of hooked repositories may take: where
        /// every hooked one cannot be looked at each `webhookSweepInterval`, it stretches instead
        /// of taking the budget the repositories without a hook depend on.
        public var hookedShare = 0.25
        /// App Platform's apps are looked at this often, and this often while a deployment of
        /// one is in progress (one request per 200 apps: the app object carries its deployments).
        public var appPlatformInterval: TimeInterval = 30
        public var appPlatformBusyInterval: TimeInterval = 5
        /// The most of one deployment's log kept (the deployer's cap, for App Platform's copies too).
        public var logCap = 1024 * 1024
        /// Deployments kept per App Platform app (`deploy.keep_deployments`, as the deployer keeps a local app's).
        public var keepDeployments = 50
        /// Where installed hooks point (`webhooks.public_url`, else the receiver's `listen`).
        public var webhookPublicURL = ""
        public var webhookListen = "127.0.0.1:8787"

        public init() {}

        /// How fast one provider's accounts may be worked.
        public struct Pacing: Sendable, Equatable {
            public var restRequestsPerHour: Int
            public var gitRequestsPerHour: Int
            public var concurrency: Int

            public init(restRequestsPerHour: Int, gitRequestsPerHour: Int, concurrency: Int) {
                self.restRequestsPerHour = restRequestsPerHour
                self.gitRequestsPerHour = gitRequestsPerHour
                self.concurrency = concurrency
            }
        }

        public func pacing(_ provider: ProviderKind) -> Pacing {
            perProvider[provider] ?? Pacing(restRequestsPerHour: restRequestsPerHour, gitRequestsPerHour: gitRequestsPerHour, concurrency: concurrency)
        }
    }

    /// Builds the adapter for an account (credentials, budgets); lane and deadline come with
    /// each call (`RequestContext`).
    public typealias ProviderMaker = @Sendable (Account) throws -> any GitProvider
    /// Builds the App Platform client for a deploy account.
    public typealias AppPlatformMaker = @Sendable (Account) throws -> AppPlatformClient

    let store: Store
    let settings: Settings
    let makeProvider: ProviderMaker
    /// App Platform's apps and deployments, looked at and started for the deploy accounts.
    let appPlatform: AppPlatformObserver?
    let clock: any SlipwayClock
    /// The clock request deadlines are measured on: the HTTP client's (the system's, unless a
    /// simulation runs everything on one virtual clock).
    let requestClock: any SlipwayClock
    let logger: Logger
    private var lastDiscovery: [String: Date] = [:]
    /// Repositories whose git access was refused, and since when: REST does their sweeps, and git
    /// is tried again after `gitRetryInterval` (a refusal may pass; a rate limit is not one).
    private var gitRefused: [Int64: Date] = [:]
    static let gitRetryInterval: TimeInterval = 3600
    /// Workspaces a discovery was denied (403), and when: removed only if a later look, after
    /// any pause, is denied too. Nothing stored is lost to one ambiguous answer.
    private var accessSuspects: [String: Date] = [:]
    /// When a sweep last found a repository's heads moved (this engine's memory: a restart
    /// learns again within an hour).
    private var lastMoved: [Int64: Date] = [:]
    private var cycles = 0
    private var lastPrune: Date?
    /// Opens the vault hook secrets are sealed in; without it the engine installs no hooks.
    private let openVault: (@Sendable () throws -> Vault)?

    public init(store: Store, settings: Settings = Settings(), clock: any SlipwayClock = SystemClock(),
                requestClock: any SlipwayClock = SystemClock(),
                logger: Logger = Logger(label: "slipway.engine"), openVault: (@Sendable () throws -> Vault)? = nil,
                makeAppPlatform: AppPlatformMaker? = nil, makeProvider: @escaping ProviderMaker) {
        self.openVault = openVault
        self.appPlatform = makeAppPlatform.map {
            AppPlatformObserver(store: store, idleInterval: settings.appPlatformInterval, busyInterval: settings.appPlatformBusyInterval,
                                requestWait: settings.backgroundWait, keepDeployments: settings.keepDeployments, clock: clock, requestClock: requestClock,
                                logger: logger, makeClient: $0)
        }
        self.store = store
        self.settings = settings
        self.clock = clock
        self.requestClock = requestClock
        self.logger = logger
        self.makeProvider = makeProvider
    }

    /// Runs until the task is cancelled. Wakes early when another process commits (`wake`).
    public func run(wake: AsyncStream<Void>? = nil) async {
        try? store.failInterruptedCommands(kinds: EngineCommandKind.sync, now: clock.now)
        let signal = WakeSignal()
        let listener = Task {
            guard let wake else { return }
            for await _ in wake { await signal.fire() }
        }
        defer {
            listener.cancel()
            if let appPlatform { Task { await appPlatform.stopFollowing() } }
        }
        // Another process's commit wakes the engine for its commands at once; the accounts'
        // work keeps its one-second cadence, so a burst of commits (webhook deliveries) does
        // not turn into a burst of steps.
        var lastStep: Date?
        while !Task.isCancelled {
            let since = lastStep.map { clock.now.timeIntervalSince($0) } ?? .infinity
            if since >= 1 {
                lastStep = clock.now
                await step()
            } else {
                await runCommands()
            }
            await signal.wait(upTo: max(0.01, 1 - (lastStep.map { clock.now.timeIntervalSince($0) } ?? 0)), clock: clock)
        }
    }

    /// One round: pending commands, then each account's due work.
    public func step() async {
        await runCommands()
        for account in (try? store.accounts()) ?? [] where account.status == .ok {
            if Task.isCancelled { return }
            if account.isGitHost { await work(on: account) } else { await appPlatform?.observe(account) }
        }
        cycles += 1
        // Delivery ids are kept a week: retries come within seconds, the rest is history.
        if lastPrune.map({ clock.now.timeIntervalSince($0) >= 3600 }) ?? true {
            lastPrune = clock.now
            try? store.pruneDeliveries(before: clock.now.addingTimeInterval(-7 * 86400))
        }
    }

    // MARK: Commands

    private func runCommands() async {
        while !Task.isCancelled, let command = try? store.claimNextCommand(kinds: EngineCommandKind.sync, now: clock.now) {
            // Someone waits for each command: its requests go on the interactive lane.
            let outcome = await RequestContext.run(lane: .interactive) { await perform(command) }
            try? store.finishCommand(id: command.id!, status: outcome.0, result: outcome.1, now: clock.now)
        }
    }

    private func perform(_ command: EngineCommand) async -> (EngineCommandStatus, String) {
        switch command.kind {
        case .syncCycle: await fullCycle(payload: command.payload)
        case .refresh: await refresh(payload: command.payload)
        case .deploy, .cancel: (.failed, "\(command.kind.rawValue) is the deployment command runner's command")
        case .installWebhook: await installWebhook(payload: command.payload)
        case .mirrorRepository: await mirrorRepository(payload: command.payload)
        case .followLog: await followLog(payload: command.payload)
        }
    }

    /// `{"deployment": 7}`: App Platform's logs of that deployment into the store, followed in
    /// the background while they grow (the command is answered at once).
    private func followLog(payload: String) async -> (EngineCommandStatus, String) {
        guard let request = try? FollowLogPayload.decode(payload) else { return (.failed, "malformed follow_log request") }
        guard let appPlatform else { return (.failed, "this engine does not reach App Platform") }
        return await appPlatform.followLog(deploymentID: request.deployment, cap: settings.logCap)
    }

    /// `{"url": "https://host/path.git"}`: mirror that added public repository now.
    private func mirrorRepository(payload: String) async -> (EngineCommandStatus, String) {
        guard let text = (try? MirrorRepositoryPayload.decode(payload))?.url, let url = try? PublicGitURL.parse(text),
              let account = try? store.account(for: .git), (try? store.publicRepositories())?.contains(url) == true
        else { return (.failed, "that repository is not in the list of added ones") }
        do {
            let changes = try await PublicRepositoryMirror.mirror(url, account: account, store: store, provider: try makeProvider(account), now: clock.now)
            return (.done, "\(changes.count) change\(changes.count == 1 ? "" : "s")")
        } catch {
            return (.failed, "\(error)")
        }
    }

    /// A full cycle for every account, as `sync --once` runs it; the result is its JSON report.
    private func fullCycle(payload: String) async -> (EngineCommandStatus, String) {
        let deadline = (try? SyncCyclePayload.decode(payload))?.deadline
        let started = clock.now
        let settings = self.settings
        let outcome = await SyncCycle.run(store: store, accounts: (try? store.accounts()) ?? [], lane: .interactive, deadline: deadline,
                                          concurrency: { settings.pacing($0.provider).concurrency }, makeProvider: makeProvider)
        var report = outcome.report
        let failed = outcome.anyAccountFailed
        report.durationMs = Int(clock.now.timeIntervalSince(started) * 1000)
        let json = (try? JSONOutput.string(report)) ?? "{}"
        return (failed ? .failed : .done, json)
    }

    /// `{"path": "bitbucket/ws/repo", "url": …?}`: Slipway's push hook on that repository.
    private func installWebhook(payload: String) async -> (EngineCommandStatus, String) {
        guard let openVault else { return (.failed, "this engine installs no webhooks") }
        guard let request = try? InstallWebhookPayload.decode(payload),
              let target = try? store.resolvePath(request.path), let providerKind = target.provider,
              let account = try? store.account(for: providerKind),
              let repository = try? store.repository(at: target), let workspace = target.workspace
        else { return (.failed, "nothing in the mirror at that path") }
        do {
            let url = try WebhookTarget.url(for: account, override: request.url, publicURL: settings.webhookPublicURL, listen: settings.webhookListen)
            guard let hosting = try makeProvider(account) as? any WebhookHosting else { return (.failed, "\(account.provider.rawValue) has no webhooks") }
            let installer = WebhookInstaller(store: store, provider: hosting, openVault: openVault, now: { Date() })
            let outcome = try await installer.install(.init(repository: repository, workspaceSlug: workspace, path: request.path), url: url)
            switch outcome {
            case .installed: return (.done, "installed; deliveries go to \(url)")
            case .unchanged: return (.done, "already installed and nothing changed")
            }
        } catch {
            return (.failed, "\(error)")
        }
    }

    /// `{"path": "bitbucket/ws/repo"}`: sweep that repository now; with a branch
    /// (`bitbucket/ws/repo/branch`), fetch that branch's new commits.
    private func refresh(payload: String) async -> (EngineCommandStatus, String) {
        guard let path = (try? RefreshPayload.decode(payload))?.path,
              let target = try? store.resolvePath(path), let provider = target.provider,
              let account = try? store.account(for: provider),
              let workspace = target.workspace, let slug = target.repository,
              let candidate = try? store.sweepCandidate(accountID: account.id!, workspace: workspace, repository: slug)
        else { return (.failed, "nothing in the mirror at that path") }
        do {
            let adapter = try makeProvider(account)
            // A branch path: its new commits (opening a branch in the dashboard asks for these).
            if let name = target.branch {
                guard let branch = try store.branch(repositoryID: candidate.repository.id!, name: name) else {
                    return (.failed, "no branch '\(name)' in the mirror")
                }
                let commits = try await CommitFetcher(store: store, provider: adapter)
                    .refresh(workspace: candidate.workspaceSlug, repository: candidate.repository, branch: branch)
                return (.done, "\(commits.count) commits")
            }
            let changes = try await sweep(candidate, account: account, provider: adapter)
            return (.done, changes.isEmpty ? "up to date" : "\(changes.count) change\(changes.count == 1 ? "" : "s")")
        } catch {
            return (.failed, "\(error)")
        }
    }

    // MARK: Per account

    private func work(on account: Account) async {
        guard let accountID = account.id else { return }
        do {
            let provider = try makeProvider(account)
            let state = try store.read { db in
                try SyncState.filter(sql: "account_id = ? AND scope = 'account'", arguments: [accountID]).fetchOne(db)
            }
            let now = clock.now
            // Background work never waits long for budget or a 429 pause: the loop stays free for
            // commands, and the paused credential is simply skipped until its pause ends.
            try await RequestContext.run(lane: .background, deadline: requestClock.now.addingTimeInterval(settings.backgroundWait)) {
                // Step 0 once, and a full listing now and then to notice removed repositories.
                if state?.lastSuccessAt == nil || now.timeIntervalSince(state!.lastSuccessAt!) >= settings.fullSyncInterval {
                    _ = try await MirrorSync(store: store, account: account, provider: provider,
                                             concurrency: settings.pacing(account.provider).concurrency).run()
                    return
                }
                try await discover(account: account, provider: provider)
                try await sweepDue(account: account, provider: provider)
            }
        } catch let MirrorSync.Stop.rateLimited(resumeAt, _) {
            logger.info("rate limited", metadata: ["account": "\(accountID)", "until": "\(resumeAt)"])
        } catch {
            logger.warning("sync step failed", metadata: ["account": "\(accountID)", "error": "\(error)"])
            try? store.recordSync(accountID: accountID, scope: "engine", success: false, error: "\(error)", now: clock.now)
        }
    }

    /// One page per workspace, most recently updated first: new repositories are mirrored at once,
    /// changed ones move to the front of the sweep (their `updated_on` passes their last check).
    private func discover(account: Account, provider: any GitProvider) async throws {
        // Discovery is a capability: without it, the sweep alone finds changes.
        guard let discovery = provider as? any RepositoryDiscovery else { return }
        let accountID = account.id!
        let workspaces = try store.workspaces(accountID: accountID)
        let restPerSecond = Double(settings.pacing(account.provider).restRequestsPerHour) * settings.budgetFraction / 3600
        // A round costs a request per workspace, or one where a single answer covers them all;
        // where an unchanged answer is free, looking often costs only what changed.
        let perRound = discovery.discoveryCoversEveryWorkspace ? 1 : workspaces.count
        let least = discovery.unchangedDiscoveryIsFree || discovery.discoveryCoversEveryWorkspace ? settings.cheapDiscoveryInterval : settings.discoveryInterval
        let interval = max(least, Double(perRound) / max(restPerSecond * 0.25, 1e-6))
        for workspace in workspaces {
            let key = "\(accountID)/\(workspace.slug)"
            if let last = lastDiscovery[key], clock.now.timeIntervalSince(last) < interval { continue }
            lastDiscovery[key] = clock.now
            let recent: [ProviderRepository]
            do {
                recent = try await discovery.recentlyUpdatedRepositories(in: workspace.slug)
                accessSuspects[key] = nil
            } catch {
                switch provider.classify(error) {
                case .gone:
                    try removeWorkspace(workspace, of: account, among: workspaces)
                case .lostAccess:
                    if let since = accessSuspects[key] {
                        logger.warning("access to a workspace lost, confirmed", metadata: ["workspace": "\(key)", "first_denied": "\(since)"])
                        accessSuspects[key] = nil
                        try removeWorkspace(workspace, of: account, among: workspaces)
                    } else {
                        // One denial may pass (or be a limit in disguise): look again next turn.
                        logger.info("workspace denied; will look again before removing anything", metadata: ["workspace": "\(key)"])
                        accessSuspects[key] = clock.now
                    }
                default:
                    throw error
                }
                continue
            }
            // Only the page's own repositories are read: a workspace may hold thousands.
            let known = try store.repositories(workspaceID: workspace.id!, slugs: recent.map(\.slug))
            for remote in recent {
                let path = MirrorPath(provider: account.provider, workspace: workspace.slug, repository: remote.slug).description
                if let stored = known[remote.slug] {
                    if let updated = remote.updatedOn, updated != stored.updatedOn {
                        try store.write { db in
                            try db.execute(sql: "UPDATE repositories SET updated_on = ? WHERE id = ?", arguments: [updated, stored.id])
                        }
                    }
                } else {
                    let branches = try await provider.branches(workspace: workspace.slug, repository: remote.slug)
                    _ = try store.applyRepository(workspaceID: workspace.id!, path: path, remote, isAdmin: false, branches: branches, now: clock.now)
                }
            }
        }
    }

    private func removeWorkspace(_ workspace: Workspace, of account: Account, among workspaces: [Workspace]) throws {
        _ = try store.removeWorkspaces(accountID: account.id!, provider: account.provider,
                                       keeping: Set(workspaces.map(\.slug)).subtracting([workspace.slug]), now: clock.now)
    }

    /// Sweeps the repositories whose turn has come, a few at a time, within the sweep's share of
    /// the git budget. While some repositories' heads moved within `activeWindow`, they get a
    /// share of their own and come round evenly and often — pushes come in runs — while the quiet
    /// ones keep most of theirs. Tracked ones keep `app_poll_seconds`, hooked ones the slow safety
    /// sweep. The store's due-time index hands over only the due ones, so a step costs the same
    /// at 1,000 repositories and at 100,000.
    private func sweepDue(account: Account, provider: any GitProvider) async throws {
        let now = clock.now
        let gitPerSecond = Double(settings.pacing(account.provider).gitRequestsPerHour) * settings.budgetFraction / 3600
        lastMoved = lastMoved.filter { now.timeIntervalSince($0.value) < settings.activeWindow }
        // Public Git's hosts each have a budget of their own: each plans its own repositories.
        var due: [Store.SweepCandidate] = []
        for (workspaceID, counts) in try budgetLaneCounts(account) {
            let ids = try dueRepositoryIDs(accountID: account.id!, workspaceID: workspaceID, counts: counts, gitPerSecond: gitPerSecond, now: now)
            due += try store.sweepCandidates(repositoryIDs: ids)
        }
        guard !due.isEmpty else { return }
        let perHost = ProviderRegistry.descriptor(for: account.provider)?.budgetPerWorkspace == true
        try await withThrowingTaskGroup(of: String?.self) { group in
            var iterator = due.makeIterator()
            var pausedHosts = Set<String>()
            func addNext() -> Bool {
                while let candidate = iterator.next() {
                    if pausedHosts.contains(candidate.workspaceSlug) { continue }
                    group.addTask { try await self.sweepPausingHost(candidate, account: account, provider: provider, perHost: perHost) }
                    return true
                }
                return false
            }
            for _ in 0..<settings.pacing(account.provider).concurrency where addNext() {}
            while let result = try await group.next() {
                if let host = result { pausedHosts.insert(host) }
                _ = addNext()
            }
        }
    }

    /// Where each host has a budget of its own (public Git), a pause on one host ends the step
    /// for that host's repositories only (nil, or the paused host); elsewhere a pause concerns
    /// the whole credential and ends the step.
    private func sweepPausingHost(_ candidate: Store.SweepCandidate, account: Account, provider: any GitProvider,
                                  perHost: Bool) async throws -> String? {
        do {
            try await sweepIsolated(candidate, account: account, provider: provider)
            return nil
        } catch where perHost {
            guard case let .rateLimited(until) = provider.classify(error) else { throw error }
            logger.info("host rate limited", metadata: ["host": "\(candidate.workspaceSlug)", "until": "\(until)"])
            return candidate.workspaceSlug
        }
    }

    /// Lane sizes by budget: nil for the account's one budget, else each workspace's, where each
    /// host has its own.
    private func budgetLaneCounts(_ account: Account) throws -> [(Int64?, [SweepLane: Int])] {
        let perHost = ProviderRegistry.descriptor(for: account.provider)?.budgetPerWorkspace == true
        var groups: [Int64?: [SweepLane: Int]] = [:]
        for row in try store.sweepLaneCounts(accountID: account.id!) {
            groups[perHost ? row.workspaceID : nil, default: [:]][row.lane, default: 0] += row.count
        }
        return groups.sorted { ($0.key ?? 0) < ($1.key ?? 0) }.map { ($0.key, $0.value) }
    }

    /// The repositories of one budget whose turn has come, in the order they go: tracked,
    /// news, active, quiet, hooked, each lane longest unchecked first — at most what the budget
    /// can take in a couple of steps (the rest is due next step, in the same order).
    private func dueRepositoryIDs(accountID: Int64, workspaceID: Int64?, counts: [SweepLane: Int], gitPerSecond: Double,
                                  now: Date) throws -> [Int64] {
        let activeCount = counts[.active] ?? 0
        let hookedCount = counts[.hooked] ?? 0
        // Proven hooks bring their pushes themselves: their safety sweep takes what its interval
        // needs, at most `hookedShare` of the sweep's budget, and the other lanes plan with the rest.
        let sweepPerSecond = gitPerSecond * settings.sweepShare
        let hookedPerSecond = min(Double(hookedCount) / settings.webhookSweepInterval, sweepPerSecond * settings.hookedShare)
        let hookedInterval = max(settings.webhookSweepInterval, Double(hookedCount) / max(hookedPerSecond, 1e-6))
        let unhookedPerSecond = gitPerSecond * (1 - hookedPerSecond / max(sweepPerSecond, 1e-6))
        let unhooked = counts.values.reduce(0, +) - hookedCount
        func interval(_ count: Int, share: Double) -> TimeInterval {
            max(settings.sweepInterval, Double(count) / max(unhookedPerSecond * share, 1e-6))
        }
        let quietInterval = activeCount == 0 ? interval(unhooked, share: settings.sweepShare)
            : interval(unhooked - activeCount, share: settings.quietShare)
        let activeInterval = min(quietInterval, interval(activeCount, share: settings.activeShare))
        // Tracked ones keep `app_poll_seconds` while the budget allows it; when they alone need
        // more, their interval stretches (doctor and `accounts` say so).
        let trackedInterval = TrackedPolling.interval(tracked: counts[.tracked] ?? 0, gitPerSecond: gitPerSecond, settings: settings)
        let lanes: [(SweepLane, TimeInterval?)] = [
            (.tracked, min(quietInterval, trackedInterval)), (.news, nil), (.active, activeInterval), (.quiet, quietInterval),
            (.hooked, hookedInterval),
        ]
        let limit = max(settings.concurrency * 2, Int((gitPerSecond * 2).rounded(.up)))
        var ids: [Int64] = []
        for (lane, interval) in lanes where ids.count < limit && counts[lane, default: 0] > 0 {
            ids += try store.dueRepositoryIDs(accountID: accountID, workspaceID: workspaceID, lane: lane,
                                              lookedAtOrBefore: interval.map { now.addingTimeInterval(-$0) }, limit: limit - ids.count)
        }
        return ids
    }

    /// A sweep whose failure stays with its repository (a timeout, a 5xx that outlasted the
    /// retries): recorded, and the repository stays due; the others in the step go on. What
    /// concerns the whole credential (a 429 pause, a rejected token) still ends the step.
    private func sweepIsolated(_ candidate: Store.SweepCandidate, account: Account, provider: any GitProvider) async throws {
        do {
            let changes = try await sweep(candidate, account: account, provider: provider)
            if !changes.isEmpty { lastMoved[candidate.repository.id!] = clock.now }
            if candidate.watched, !changes.isEmpty {
                // The hook should have brought this (deliveries take milliseconds, polls seconds):
                // it is not to be trusted until it delivers again.
                try? store.recordWebhookFailure(repositoryID: candidate.repository.id!, message: "a push arrived by polling, not by the webhook",
                                                now: clock.now)
            }
        } catch let error as HTTPError {
            switch error {
            case .rateLimited, .unauthorized: throw error
            default:
                let path = MirrorPath(provider: account.provider, workspace: candidate.workspaceSlug, repository: candidate.repository.slug).description
                logger.warning("sweep failed", metadata: ["repository": "\(path)", "error": "\(error)"])
                try? store.recordSync(accountID: account.id!, scope: "engine", success: false, error: "\(path): \(error)", now: clock.now)
            }
        }
    }

    /// One repository: heads from git (one request, git budget); REST only for what moved.
    func sweep(_ candidate: Store.SweepCandidate, account: Account, provider: any GitProvider) async throws -> [SyncReport.Change] {
        let repository = candidate.repository
        let repositoryID = repository.id!
        let path = MirrorPath(provider: account.provider, workspace: candidate.workspaceSlug, repository: repository.slug).description
        let now = clock.now
        let look = SweepLane.Look(tracked: candidate.tracked, hooked: candidate.hooked, recentlyMoved: lastMoved[repositoryID] != nil)
        if gitRefused[repositoryID].map({ now.timeIntervalSince($0) >= Self.gitRetryInterval }) ?? true, let clone = repository.cloneURL {
            do {
                let heads = try await provider.branchHeads(cloneURL: clone)
                gitRefused[repositoryID] = nil
                let branches = try store.branches(repositoryID: repositoryID)
                let stored = Dictionary(uniqueKeysWithValues: branches.map { ($0.name, $0.headHash) })
                let moved = heads.filter { stored[$0.key] != $0.value }
                // Heads whose details failed earlier stay due for them until they arrive.
                let undetailed = Set(branches.filter { $0.headDate == nil && $0.headMessage == nil && heads[$0.name] == $0.headHash }.map(\.headHash))
                if moved.isEmpty && heads.count == stored.count && undetailed.isEmpty {
                    try store.markChecked(repositoryID: repositoryID, look: look, now: now)
                    return []
                }
                // One request for every moved head where the adapter batches them (GitHub's
                // GraphQL), else one each for a few.
                let batch = provider as? any BatchCommitDetails
                let detailsLimit = batch?.commitsPerBatch ?? settings.detailsPerRepositoryLimit
                if moved.count <= detailsLimit {
                    // Details only if the budget has them now; a head without details is still
                    // news, and the next full listing fills them in.
                    var details: [String: ProviderCommit] = [:]
                    let quick = requestClock.now.addingTimeInterval(min(1, settings.backgroundWait))
                    let wanted = Array(Set(moved.values).union(undetailed)).sorted()
                    if let batch {
                        details = (try? await RequestContext.run(lane: RequestContext.current.lane, deadline: quick) {
                            try await batch.commits(workspace: candidate.workspaceSlug, repository: repository.slug, hashes: Array(wanted.prefix(detailsLimit)))
                        }) ?? [:]
                    } else if let commits = provider as? any CommitDetails {
                        for hash in wanted.prefix(detailsLimit) {
                            details[hash] = try? await RequestContext.run(lane: RequestContext.current.lane, deadline: quick) {
                                try await commits.commit(workspace: candidate.workspaceSlug, repository: repository.slug, hash: hash)
                            }
                        }
                    }
                    return try store.applyHeads(repositoryID: repositoryID, path: path, heads: heads, details: details, look: look, now: now)
                }
            } catch {
                switch provider.classify(error) {
                case .rateLimited:
                    // A pause concerns the credential: nothing is concluded about git access.
                    throw error
                case .rejected where account.auth != .token && account.auth != .apiToken:
                    // A rejected OAuth token needs its refresh.
                    throw error
                case .rejected, .lostAccess, .gone, .other:
                    // git access refused or broken here (or its clone URL is on an origin the
                    // token is not for): REST does this sweep and the next ones for a while.
                    gitRefused[repositoryID] = now
                case .transient:
                    throw error
                }
            }
        }
        do {
            let branches = try await provider.branches(workspace: candidate.workspaceSlug, repository: repository.slug)
            let remote = ProviderRepository(id: repository.remoteID, slug: repository.slug, name: repository.name, fullName: repository.fullName,
                                            mainBranch: repository.mainBranch, isPrivate: repository.isPrivate, updatedOn: repository.updatedOn,
                                            cloneURL: repository.cloneURL, webURL: repository.webURL)
            return try store.applyRepository(workspaceID: repository.workspaceID, path: path, remote, isAdmin: repository.isAdmin,
                                             branches: branches, look: look, now: now)
        } catch HTTPError.notFound {
            // Deleted (or hidden) since it was listed: removed, not an error storm.
            return try store.removeRepository(id: repositoryID, path: path, now: now)
        }
    }
}
