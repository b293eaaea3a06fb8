import Foundation
import Logging
import SlipwayHTTP
import Synchronization
import GRDB

/// Runs deployments on this host (DESIGN.md, "Deployment phases"): one at a time per app, at
/// most `maxParallel` at once; steps fetch → checkout → build → run, each with its status, exit
/// status and log; ACTIVE on success (the app's previous ACTIVE one becomes SUPERSEDED), ERROR
/// naming the failed step, CANCELED on request. New heads on an app's branch (change events)
/// queue deployments when the app autodeploys.
public actor Deployer {
    public struct Settings: Sendable {
        public var maxParallel = 1
        public var keepDeployments = 50
        /// Log bytes kept per deployment (the tail).
        public var logCap = 1024 * 1024
        /// SIGTERM, then SIGKILL after this long.
        public var grace: TimeInterval = 5
        public var git = "/usr/bin/git"
        /// A service without a health URL is ready once it has stayed up this long.
        public var settleTime: TimeInterval = 2
        /// A service that is not ready this long after it started (or by the app's timeout) fails.
        public var readyTimeout: TimeInterval = 60
        /// How often a service's health URL is asked while it starts.
        public var healthPollInterval: TimeInterval = 0.3
        /// A service that exits is started again after this pause, doubling up to the cap.
        public var firstRestartPause: TimeInterval = 1
        public var maxRestartPause: TimeInterval = 60
        public init() {}
    }

    /// The Basic credentials git should use for an app's repository, if it needs any.
    public typealias GitCredentials = @Sendable (App) throws -> GitCredential?
    /// An app's secret variables, opened from the vault for its build and run steps only.
    public typealias SecretVariables = @Sendable (App) throws -> [String: String]

    let store: Store
    let workRoot: String
    let settings: Settings
    let credentials: GitCredentials
    let secrets: SecretVariables
    let logger: Logger
    /// Every policy wait (settle, readiness, restart pauses, step timeouts, the step cadence)
    /// and every timestamp written comes from here, so tests run on a virtual clock.
    let clock: any SlipwayClock
    private var running: [Int64: (flag: CancelFlag, task: Task<Void, Never>, appID: Int64)] = [:]
    /// The service each app runs now (`--service` apps).
    var services: [Int64: ServiceRun] = [:]
    /// The apps seen at the last step (nil before the first): a deletion shows as one missing.
    private var knownApps: Set<Int64>?
    static let consumer = "deployer"

    public init(store: Store, workRoot: String, settings: Settings = Settings(), logger: Logger = Logger(label: "slipway.deployer"),
                clock: any SlipwayClock = SystemClock(),
                secrets: @escaping SecretVariables = { _ in [:] }, credentials: @escaping GitCredentials = { _ in nil }) {
        self.store = store
        self.clock = clock
        self.workRoot = workRoot
        self.settings = settings
        self.logger = logger
        self.secrets = secrets
        self.credentials = credentials
    }

    /// After a restart nothing claims to run that doesn't; change events from before this
    /// deployer ever ran are not replayed.
    public func start() throws {
        stopOrphans()
        try store.failInterruptedDeployments(now: clock.now)
        if try store.changeCursor(Self.consumer) == nil { try store.setChangeCursor(Self.consumer, to: try store.lastChangeEventID()) }
    }

    public func run(interval: TimeInterval = 1) async {
        do { try start() } catch { logger.error("deployer cannot start", metadata: ["error": "\(error)"]) }
        await restartActiveServices()
        while !Task.isCancelled {
            step()
            try? await clock.sleep(for: interval)
        }
        await shutdown()
    }

    /// Stops what runs: deployments are canceled, services stopped (SIGTERM, then SIGKILL).
    public func shutdown() async {
        for (_, entry) in running { entry.flag.cancel() }
        for (_, entry) in running { await entry.task.value }
        await stopServices()
    }

    /// One round: queue deployments for new heads, then start what may start.
    public func step() {
        do {
            try reapDeletedApps()
            try autodeploy()
            let free = settings.maxParallel - running.count
            guard free > 0 else { return }
            for deployment in try store.runnableDeployments(limit: free) where running[deployment.id!] == nil {
                launch(deployment)
            }
        } catch {
            logger.warning("deployer step failed", metadata: ["error": "\(error)"])
        }
    }

    /// A user's deployment of an app's branch head (or `commit`): a retry or a redeploy unless one
    /// for that commit is queued or running (then that one, and `false`).
    public func deploy(app name: String, commit: String? = nil, cause: String? = nil) throws -> (Deployment, Bool) {
        guard let app = try store.app(named: name) else { throw StoreError.notFound("no app named '\(name)'; see 'slipway apps'") }
        // This host's deployer runs this host's apps; App Platform runs its own.
        guard app.backend == .local else {
            throw StoreError.conflict("\(app.name) is an App Platform app, which this version of Slipway only observes; App Platform deploys it itself")
        }
        let target: String
        if let commit {
            target = commit
        } else {
            guard let repositoryID = app.repositoryID, let branch = try store.branch(repositoryID: repositoryID, name: app.branch) else {
                throw StoreError.notFound("\(app.sourcePath) has no branch '\(app.branch)' in the mirror")
            }
            target = branch.headHash
        }
        return try store.enqueueDeployment(appID: app.id!, commit: target, cause: cause ?? "deployed by hand", byUser: true, now: clock.now)
    }

    /// Asks a running deployment to stop; a queued one is canceled at once.
    public func cancel(deploymentID: Int64) throws -> Bool {
        if let entry = running[deploymentID] {
            entry.flag.cancel()
            return true
        }
        guard let deployment = try store.deployment(id: deploymentID), deployment.phase == .pendingBuild,
              try store.apps().first(where: { $0.id == deployment.appID })?.backend == .local else { return false }
        try store.setPhase(deploymentID: deploymentID, .canceled, error: "canceled before it started", now: clock.now)
        return true
    }

    /// Waits until nothing runs (tests; shutdown).
    public func idle() async {
        while let entry = running.values.first { await entry.task.value }
    }

    public var runningIDs: [Int64] { Array(running.keys) }

    // MARK: Processes a dead engine left

    /// Records a step's process group while it runs: `started` stores it, `ended` forgets it.
    func tracking(deploymentID: Int64?, step: String) -> (started: @Sendable (pid_t) -> Void, ended: @Sendable () -> Void) {
        let store = self.store
        let clock = self.clock
        let record = Mutex<Int64?>(nil)
        return ({ pid in
            guard let ticks = StepProcess.startTicks(of: pid) else { return }
            let id = try? store.recordStepProcess(group: pid, startTicks: ticks, deploymentID: deploymentID, step: step, now: clock.now)
            record.withLock { $0 = id }
        }, {
            if let id = record.withLock({ $0 }) { try? store.removeStepProcess(id: id) }
        })
    }

    /// An engine that starts holds the lock, so every recorded group belongs to one that died
    /// (kill -9): each that still runs — the same pid *and* start time, so a reused pid is never
    /// hit — gets SIGTERM, then SIGKILL. Interrupted builds are then marked, and ACTIVE
    /// services started again exactly once (`restartActiveServices`).
    func stopOrphans() {
        guard let records = try? store.stepProcesses() else { return }
        for record in records {
            if StepProcess.startTicks(of: record.processGroup) == record.startTicks {
                kill(-record.processGroup, SIGTERM)
                for _ in 0..<20 where StepProcess.startTicks(of: record.processGroup) == record.startTicks { usleep(50_000) }
                if StepProcess.startTicks(of: record.processGroup) == record.startTicks { kill(-record.processGroup, SIGKILL) }
                logger.warning("stopped a step a previous engine left running",
                               metadata: ["pgid": "\(record.processGroup)", "step": "\(record.step)", "deployment": "\(record.deploymentID ?? 0)"])
                if let id = record.deploymentID {
                    try? store.appendLog(deploymentID: id, step: record.step, stream: .system,
                                         text: "the engine that ran this stopped abruptly; its \(record.step) process was stopped\n", cap: settings.logCap, now: clock.now)
                }
            }
            try? store.removeStepProcess(id: record.id)
        }
    }

    // MARK: Deleted apps

    /// An app deleted by any process (`apps delete`) stops here: its service and any running
    /// deployment are stopped, then its work folder is removed.
    private func reapDeletedApps() throws {
        let apps = try store.apps()
        let existing = Set(apps.compactMap(\.id))
        defer { knownApps = existing }
        // The work folder is listed only when an app went away since the last step (or once at
        // the start, for apps deleted while no engine ran), not on every step.
        guard knownApps.map({ !$0.isSubset(of: existing) }) ?? true else { return }
        let gone = Set(services.keys).union(running.values.map(\.appID)).subtracting(existing)
        let stopping = gone.compactMap { services.removeValue(forKey: $0) }
        let canceled = running.values.filter { gone.contains($0.appID) }
        for entry in canceled { entry.flag.cancel() }
        let names = Set(apps.map(\.name))
        let workRoot = self.workRoot
        let folders = ((try? FileManager.default.contentsOfDirectory(atPath: workRoot)) ?? []).filter { !names.contains($0) }
        guard !folders.isEmpty || !stopping.isEmpty else { return }
        Task {
            for run in stopping { await run.stop() }
            for entry in canceled { await entry.task.value }
            // Only folders of apps that still do not exist (a new app may have taken the name).
            let now = Set(((try? self.store.apps()) ?? []).map(\.name))
            for folder in folders where !now.contains(folder) { try? FileManager.default.removeItem(atPath: "\(workRoot)/\(folder)") }
            self.logger.info("deleted apps stopped and their work folders removed", metadata: ["folders": "\(folders)"])
        }
    }

    // MARK: Autodeploy

    private func autodeploy() throws {
        guard let cursor = try store.changeCursor(Self.consumer) else { return }
        let events = try store.changeEvents(after: cursor)
        guard let last = events.last?.id else { return }
        // Workspaces (GitLab's groups), repositories (public Git's paths) and branches may all hold
        // `/`: an event is matched to an app by its whole path, never by splitting it.
        // App Platform apps are queued here too when App Platform would not deploy the push itself;
        // the engine, which holds App Platform's client, starts them there.
        let apps = try store.apps().filter(\.slipwayDeploysOnPush)
        for event in events where event.kind == .headMoved || event.kind == .branchCreated {
            guard let commit = event.new else { continue }
            for app in apps where MirrorPath.child(app.sourcePath, app.branch) == event.path {
                let cause = "commit \(commit.prefix(7)) pushed to \(app.branch)"
                _ = try store.enqueueDeployment(appID: app.id!, commit: commit, cause: cause, now: clock.now)
            }
        }
        try store.setChangeCursor(Self.consumer, to: last)
    }

    // MARK: Running one

    private func launch(_ deployment: Deployment) {
        let flag = CancelFlag()
        let id = deployment.id!
        let task = Task { [weak self] in
            guard let self else { return }
            await self.execute(deployment, cancel: flag)
            await self.finished(id)
        }
        running[id] = (flag, task, deployment.appID)
    }

    private func finished(_ id: Int64) {
        running[id] = nil
        step()
    }

    struct StepFailure: Error {
        var message: String
        var canceled = false
    }

    private func execute(_ deployment: Deployment, cancel: CancelFlag) async {
        let id = deployment.id!
        let store = self.store
        let cap = settings.logCap
        let clock = self.clock
        @Sendable func log(_ step: String, _ stream: LogStream, _ text: String) {
            try? store.appendLog(deploymentID: id, step: step, stream: stream, text: text, cap: cap, now: clock.now)
        }
        do {
            guard let app = try store.read({ db in try App.fetchOne(db, key: deployment.appID) }) else { return }
            let started = clock.now
            let deadline = app.timeoutSeconds.map { started.addingTimeInterval(TimeInterval($0)) }
            var names = ["fetch", "checkout"]
            if app.buildCommand != nil { names.append("build") }
            names.append("run")
            let steps = Dictionary(uniqueKeysWithValues: try store.addSteps(deploymentID: id, names: names).map { ($0.name, $0) })
            try store.setPhase(deploymentID: id, .building, now: clock.now)
            log("fetch", .system, "deploying \(deployment.commitHash.prefix(12)) of \(app.sourcePath) \(app.branch) (\(deployment.cause))\n")

            // A fetch cache per app, a folder per deployment (a git worktree): a new deployment never
            // changes the files a running service uses.
            let repo = "\(workRoot)/\(app.name)/repo"
            let folder = Self.folder(workRoot: workRoot, app: app.name, deployment: id)
            try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let variables = stepVariables(app: app, deployment: deployment, secrets: try secrets(app))

            func runStep(_ name: String, _ arguments: [String], environment: [String: String], in directory: String,
                         explain: [Int32: String] = [:]) async throws {
                guard let step = steps[name] else { return }
                try store.updateStep(id: step.id!, status: .running, now: clock.now)
                let remaining = deadline.map { max(0.1, $0.timeIntervalSince(clock.now)) }
                let tracked = tracking(deploymentID: id, step: name)
                let outcome = try await StepProcess.run(arguments, environment: environment, directory: directory, timeout: remaining,
                                                        grace: settings.grace, cancel: cancel, clock: clock, started: tracked.started) { stream, text in log(name, stream, text) }
                tracked.ended()
                let status: DeploymentStepStatus = outcome.succeeded ? .succeeded : (outcome.canceled ? .canceled : .failed)
                try store.updateStep(id: step.id!, status: status, exitStatus: outcome.exitStatus.map(Int.init), now: clock.now)
                guard outcome.succeeded else {
                    if outcome.canceled { throw StepFailure(message: "canceled during \(name)", canceled: true) }
                    if outcome.timedOut { throw StepFailure(message: "timed out after \(app.timeoutSeconds ?? 0) s in step \(name)") }
                    if let status = outcome.exitStatus, let why = explain[status] { throw StepFailure(message: why) }
                    throw StepFailure(message: "step \(name) failed: \(outcome.describe(timeout: remaining))")
                }
            }

            // fetch: the token reaches git through this step's environment and a credential
            // helper (a shell snippet in git's -c, no file to write or execute) that answers only
            // for the linked origin; the remote URL carries no credentials, and git follows no
            // redirect. HOME is an empty private folder, so no user config takes part.
            guard let cloneURL = try app.repositoryID.flatMap({ id in try store.read { db in try Repository.fetchOne(db, key: id) } })?.cloneURL else {
                throw StepFailure(message: "\(app.sourcePath) has no clone URL in the mirror")
            }
            let cloneOrigin = try Self.checkCloneURL(cloneURL)
            let home = try PrivateFolder()
            defer { home.remove() }
            var gitEnvironment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home.path, "GIT_TERMINAL_PROMPT": "0",
                                  "SLIPWAY_BRANCH": app.branch, "SLIPWAY_COMMIT": deployment.commitHash,
                                  "GIT_CONFIG_NOSYSTEM": "1", "GIT_ALLOW_PROTOCOL": "https:http:file", "SLIPWAY_CLONE_URL": cloneURL,
                                  "SLIPWAY_CREDENTIAL_HELPER": GitCredentialHelper.snippet]
            if let credential = try credentials(app) {
                if let cloneOrigin, credential.origins.contains(cloneOrigin) {
                    gitEnvironment["SLIPWAY_GIT_USERNAME"] = credential.username
                    gitEnvironment["SLIPWAY_GIT_PASSWORD"] = credential.password
                    gitEnvironment["SLIPWAY_GIT_ORIGINS"] = GitCredentialHelper.forms(of: cloneOrigin).joined(separator: " ")
                } else if cloneOrigin != nil {
                    log("fetch", .system, "fetching without the account's credential: \(cloneOrigin!) is not an origin the account was linked for\n")
                }
            }
            let git = settings.git
            try await runStep("fetch", ["/bin/sh", "-c", """
                set -e
                [ -d .git ] || "$0" init -q .
                "$0" remote set-url origin "$SLIPWAY_CLONE_URL" 2>/dev/null || "$0" remote add origin "$SLIPWAY_CLONE_URL"
                if ! out=$("$0" -c credential.helper= -c "credential.helper=$SLIPWAY_CREDENTIAL_HELPER" -c http.followRedirects=false fetch --no-tags origin "+refs/heads/$SLIPWAY_BRANCH:refs/remotes/origin/$SLIPWAY_BRANCH" 2>&1); then
                  printf '%s\\n' "$out" >&2
                  case "$out" in *"returned error: 30"[12378]*) exit 3 ;; esac
                  exit 1
                fi
                [ -z "$out" ] || printf '%s\\n' "$out" >&2
                "$0" cat-file -e "$SLIPWAY_COMMIT^{commit}" || { echo "commit $SLIPWAY_COMMIT is not on $SLIPWAY_BRANCH any more" >&2; exit 1; }
                """, git], environment: gitEnvironment, in: repo,
                explain: [3: "the git server redirected the fetch of \(cloneOrigin?.description ?? cloneURL) elsewhere; Slipway follows no git redirect, so the credential stays at its origin — fix the repository's clone URL"])
            var checkoutEnvironment = gitEnvironment
            checkoutEnvironment["SLIPWAY_GIT_PASSWORD"] = nil
            checkoutEnvironment["SLIPWAY_FOLDER"] = folder
            try await runStep("checkout", ["/bin/sh", "-c", """
                set -e
                "$0" worktree prune
                rm -rf "$SLIPWAY_FOLDER"
                "$0" -c advice.detachedHead=false worktree add -q --force --detach "$SLIPWAY_FOLDER" "$SLIPWAY_COMMIT"
                echo "checked out $("$0" log -1 --format='%h %s' "$SLIPWAY_COMMIT")"
                """, git], environment: checkoutEnvironment, in: repo)
            if let build = app.buildCommand {
                try await runStep("build", ["/bin/sh", "-c", build], environment: variables, in: folder)
            }
            try store.setPhase(deploymentID: id, .pendingDeploy, now: clock.now)
            try store.setPhase(deploymentID: id, .deploying, now: clock.now)
            if app.isService {
                try await startService(app: app, deploymentID: id, folder: folder, variables: variables, deadline: deadline, step: steps["run"]!, cancel: cancel)
            } else {
                try await runStep("run", ["/bin/sh", "-c", app.runCommand], environment: variables, in: folder)
            }
            try store.activate(deploymentID: id, appID: app.id!, now: clock.now)
            log("run", .system, "ACTIVE after \(Int(clock.now.timeIntervalSince(started))) s\n")
            try store.pruneDeployments(appID: app.id!, keep: settings.keepDeployments)
        } catch let failure as StepFailure {
            log("deploy", .system, failure.message + "\n")
            try? store.setPhase(deploymentID: id, failure.canceled ? .canceled : .error, error: failure.message, now: clock.now)
            try? skipPending(id)
        } catch {
            log("deploy", .system, "\(error)\n")
            try? store.setPhase(deploymentID: id, .error, error: "\(error)", now: clock.now)
            try? skipPending(id)
        }
        removeIdleFolders(appID: deployment.appID)
    }

    /// A clone URL must pass the URL policy (https, or http on loopback) or be a local path;
    /// returns its origin (nil for a path, which needs no credential).
    static func checkCloneURL(_ url: String) throws -> Origin? {
        guard url.contains("://") else {
            guard url.hasPrefix("/") else { throw StepFailure(message: "refusing the clone URL \(url): not an https URL or a local path") }
            return nil
        }
        do {
            try URLPolicy.check(url)
        } catch {
            throw StepFailure(message: "refusing the clone URL: \(error.description)")
        }
        return Origin(url: url)
    }

    static func folder(workRoot: String, app: String, deployment: Int64) -> String { "\(workRoot)/\(app)/d\(deployment)" }

    /// Only the folders of deployments that are ACTIVE or still running stay on disk.
    private func removeIdleFolders(appID: Int64) {
        guard let app = try? store.read({ db in try App.fetchOne(db, key: appID) }),
              let names = try? FileManager.default.contentsOfDirectory(atPath: "\(workRoot)/\(app.name)") else { return }
        let keep = Set(((try? store.deployments(appID: appID)) ?? []).filter { $0.phase == .active || $0.phase.isInProgress || $0.phase == .pendingBuild }.compactMap(\.id))
        for name in names where name.hasPrefix("d") {
            guard let id = Int64(name.dropFirst()), !keep.contains(id) else { continue }
            try? FileManager.default.removeItem(atPath: "\(workRoot)/\(app.name)/\(name)")
        }
    }

    private func skipPending(_ id: Int64) throws {
        for step in try store.steps(deploymentID: id) where step.status == .pending {
            try store.updateStep(id: step.id!, status: .skipped, now: clock.now)
        }
    }

    /// Build and run see the app's variables and `SLIPWAY_*`, nothing of this process.
    func stepVariables(app: App, deployment: Deployment, secrets: [String: String] = [:]) -> [String: String] {
        var variables = ["PATH": "/usr/local/bin:/usr/bin:/bin"]
        variables.merge(app.environment) { $1 }
        variables.merge(secrets) { $1 }
        variables["SLIPWAY_APP"] = app.name
        variables["SLIPWAY_COMMIT"] = deployment.commitHash
        variables["SLIPWAY_BRANCH"] = app.branch
        variables["SLIPWAY_DEPLOYMENT_ID"] = String(deployment.id!)
        return variables
    }
}

/// The account credential git may use, and the origins it was linked for.
public struct GitCredential: Sendable, Equatable {
    public var username: String
    public var password: String
    public var origins: Set<Origin>

    public init(username: String, password: String, origins: Set<Origin>) {
        self.username = username
        self.password = password
        self.origins = origins
    }
}

/// git's credential helper for one fetch, as a shell snippet git runs itself (`!…` in
/// `credential.helper`), so no executable is written to disk (an executable written while other
/// threads fork can fail to start with ETXTBSY). It answers from the step's environment, and only
/// when git asks for one of `SLIPWAY_GIT_ORIGINS` (git names `protocol` and `host[:port]` on stdin).
enum GitCredentialHelper {
    static let snippet = """
        !f() { [ "$1" = get ] || return 0; p=; h=; \
        while IFS='=' read -r k v; do case "$k" in protocol) p=$v ;; host) h=$v ;; esac; done; \
        asked=$(printf '%s://%s' "$p" "$h" | tr 'A-Z' 'a-z'); \
        for o in $SLIPWAY_GIT_ORIGINS; do [ "$asked" = "$o" ] || continue; \
        printf 'username=%s\\npassword=%s\\n' "$SLIPWAY_GIT_USERNAME" "$SLIPWAY_GIT_PASSWORD"; return 0; done; \
        echo "slipway: no credential for ${asked:-that location}" >&2; }; f
        """

    /// How git may name an origin: with and without the scheme's default port.
    static func forms(of origin: Origin) -> [String] {
        origin.description == origin.explicitDescription ? [origin.description] : [origin.description, origin.explicitDescription]
    }
}

/// An empty folder only this user can read, removed with the step.
struct PrivateFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-git-home-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
