import Foundation
import Logging
import SlipwayHTTP
import SlipwayProviders

/// The engine's part in App Platform: it looks at the account's apps (and the deployments they
/// carry) within DigitalOcean's two windows — slowly while nothing deploys, every few seconds
/// while something does, at once when a push reaches a branch an app builds — and it starts the
/// deployments the deployer queued for App Platform apps whose pushes App Platform would not
/// deploy itself (autodeploy on, `deploy_on_push` off: a `git` source, or a found app switched
/// to autodeploy).
actor AppPlatformObserver {
    typealias ClientMaker = @Sendable (Account) throws -> AppPlatformClient

    let store: Store
    let idleInterval: TimeInterval
    let busyInterval: TimeInterval
    /// How long a background request may wait for its budget.
    let requestWait: TimeInterval
    /// Deployments kept per app; older finished ones go, as a local app's do.
    let keepDeployments: Int
    let clock: any SlipwayClock
    let requestClock: any SlipwayClock
    let logger: Logger
    let makeClient: ClientMaker
    private var lastObserved: [Int64: Date] = [:]
    /// The change events seen (the first look starts from now: history is not news).
    private var cursor: Int64?
    /// Deployments whose App Platform logs are being copied into the store, by deployment id.
    private var following: [Int64: Task<Void, Never>] = [:]

    init(store: Store, idleInterval: TimeInterval, busyInterval: TimeInterval, requestWait: TimeInterval, keepDeployments: Int = 50,
         clock: any SlipwayClock, requestClock: any SlipwayClock, logger: Logger, makeClient: @escaping ClientMaker) {
        self.keepDeployments = keepDeployments
        self.store = store
        self.idleInterval = idleInterval
        self.busyInterval = busyInterval
        self.requestWait = requestWait
        self.clock = clock
        self.requestClock = requestClock
        self.logger = logger
        self.makeClient = makeClient
    }

    /// One turn for one DigitalOcean account.
    func observe(_ account: Account) async {
        guard let id = account.id else { return }
        let client: AppPlatformClient
        do {
            client = try makeClient(account)
        } catch {
            logger.warning("App Platform's client could not be made", metadata: ["account": "\(id)", "error": "\(error)"])
            return
        }
        let started = await startQueued(with: client)
        let interval = (try? store.appPlatformDeploying()) == true ? busyInterval : idleInterval
        // A push to a branch an App Platform app builds makes it due at once: the push arrives
        // (by webhook or sweep) long before App Platform's deployment list shows what it caused.
        let pushed = (try? pushReachedAppPlatform()) ?? false
        if !started, !pushed, let last = lastObserved[id], clock.now.timeIntervalSince(last) < interval { return }
        lastObserved[id] = clock.now
        do {
            try await RequestContext.run(lane: .background, deadline: requestClock.now.addingTimeInterval(requestWait)) {
                try store.applyRemoteApps(try await client.apps(), now: clock.now)
                try store.pruneDeployments(backend: .digitalocean, keep: keepDeployments)
            }
        } catch {
            logger.warning("App Platform's apps could not be read", metadata: ["account": "\(id)", "error": "\(error)"])
        }
    }

    /// Asks App Platform for each deployment the deployer queued; true when one started. A rate
    /// limit or a passing failure leaves the rest queued for the next turn (nothing is lost); a
    /// refusal ends that deployment in ERROR with App Platform's reason.
    private func startQueued(with client: AppPlatformClient) async -> Bool {
        var started = false
        for (deployment, app) in (try? store.appPlatformDeploymentsToStart()) ?? [] {
            guard let deploymentID = deployment.id else { continue }
            guard let remoteApp = app.remoteID else {
                try? store.setPhase(deploymentID: deploymentID, .error, error: "\(app.name) has no App Platform id", now: clock.now)
                continue
            }
            do {
                let remote = try await RequestContext.run(lane: .background, deadline: requestClock.now.addingTimeInterval(requestWait)) {
                    try await client.createDeployment(appID: remoteApp)
                }
                try store.attachRemoteDeployment(remote, to: deploymentID, now: clock.now)
                started = true
                logger.info("App Platform deployment started for a push", metadata: [
                    "app": "\(app.name)", "deployment": "\(deploymentID)", "remote_id": "\(remote.id)", "commit": "\(deployment.commitHash.prefix(12))",
                ])
            } catch {
                switch client.classify(error) {
                case .rateLimited, .transient:
                    logger.info("App Platform deployment waits", metadata: ["app": "\(app.name)", "deployment": "\(deploymentID)", "error": "\(error)"])
                    return started
                default:
                    try? store.setPhase(deploymentID: deploymentID, .error, error: Self.refusal(error), now: clock.now)
                    logger.warning("App Platform refused a deployment", metadata: ["app": "\(app.name)", "deployment": "\(deploymentID)", "error": "\(error)"])
                }
            }
        }
        return started
    }

    /// App Platform's refusal in one line.
    static func refusal(_ error: any Error) -> String {
        switch error as? HTTPError {
        case .forbidden?: "App Platform refused to start it: the token lacks the app:update scope"
        case .unauthorized?: "App Platform refused the token (revoked or expired); relink digitalocean"
        case .notFound?: "the app is gone from App Platform"
        case let .status(code, _, message)?: "App Platform refused to start it (HTTP \(code))\(message.isEmpty ? "" : ": \(message)")"
        default: "App Platform could not start it: \(error)"
        }
    }

    /// Starts copying a deployment's App Platform logs into the store (live while they grow);
    /// answered at once. A deployment already followed is left to its follower.
    func followLog(deploymentID: Int64, cap: Int) -> (EngineCommandStatus, String) {
        if let running = following[deploymentID], !running.isCancelled { return (.done, "the log of #\(deploymentID) is being followed") }
        guard let deployment = try? store.deployment(id: deploymentID),
              let app = try? store.app(id: deployment.appID), app.backend == .digitalocean, let remoteApp = app.remoteID else {
            return (.failed, "#\(deploymentID) is not an App Platform deployment")
        }
        guard let remoteID = deployment.remoteID else { return (.failed, "#\(deploymentID) has not started on App Platform yet; it has no log") }
        guard let account = try? store.account(for: .digitalocean) else { return (.failed, "digitalocean is not linked") }
        let client: AppPlatformClient
        do { client = try makeClient(account) } catch { return (.failed, "App Platform's client could not be made: \(error)") }
        let mirror = AppPlatformLogMirror(store: store, client: client, requestClock: requestClock, clock: clock, requestWait: max(requestWait, 30), cap: cap)
        let (logger, store, clock) = (self.logger, self.store, self.clock)
        following[deploymentID] = Task { [weak self] in
            do {
                try await mirror.run(deploymentID: deploymentID, appID: remoteApp, remoteID: remoteID)
            } catch is CancellationError {
            } catch {
                logger.warning("App Platform's log could not be copied", metadata: ["deployment": "\(deploymentID)", "error": "\(error)"])
                try? store.appendLog(deploymentID: deploymentID, step: "build", stream: .system,
                                     text: "App Platform's log could not be read: \(error)\n", cap: cap, now: clock.now)
            }
            await self?.finishedFollowing(deploymentID)
        }
        return (.done, "following the App Platform log of #\(deploymentID)")
    }

    private func finishedFollowing(_ deploymentID: Int64) { following[deploymentID] = nil }

    /// The engine stops: so do the followers.
    func stopFollowing() {
        for task in following.values { task.cancel() }
        following = [:]
    }

    /// Whether a head moved, since the last look, on a branch an App Platform app builds from.
    private func pushReachedAppPlatform() throws -> Bool {
        guard let cursor else {
            self.cursor = try store.lastChangeEventID()
            return false
        }
        let events = try store.changeEvents(after: cursor)
        guard let last = events.last?.id else { return false }
        self.cursor = last
        let built = Set(try store.apps().filter { $0.backend == .digitalocean }.flatMap { app in
            app.components.filter { !$0.source.isEmpty }.map { MirrorPath.child($0.source, $0.branch) }
        })
        return events.contains { ($0.kind == .headMoved || $0.kind == .branchCreated) && built.contains($0.path) }
    }
}
