import Foundation
import GRDB
import Testing
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwaySandbox

/// Installing and removing Slipway's hooks through the real client against the sandbox's hooks
/// API, and what a hook's health does to the engine's polling.
@Suite("Webhook installs", .timeLimit(.minutes(3)))
struct WebhookInstallTests {
    static let url = "http://127.0.0.1:9/webhooks/bitbucket"

    struct Setup {
        let rig: EngineTests.Rig
        let provider: BitbucketProvider
        let installer: WebhookInstaller

        func target(role admin: Bool) throws -> WebhookInstaller.Target {
            for candidate in try rig.store.sweepCandidates(accountID: rig.account.id!) where candidate.repository.isAdmin == admin {
                return .init(repository: candidate.repository, workspaceSlug: candidate.workspaceSlug,
                             path: "bitbucket/\(candidate.workspaceSlug)/\(candidate.repository.slug)")
            }
            throw StoreError.notFound("no repository with admin = \(admin)")
        }

        func remoteHooks(_ target: WebhookInstaller.Target) async throws -> [ProviderHook] {
            try await provider.hooks(workspace: target.workspaceSlug, repository: target.repository.slug)
        }
    }

    func setup(settings: SyncEngine.Settings = SyncEngine.Settings(), _ configure: (inout SandboxOptions) -> Void = { _ in }) async throws -> Setup {
        // Four repositories a workspace: the fourth of an administered one is only writable.
        let rig = try await EngineTests().rig(settings: settings) { options in
            options.reposPerWorkspace = 4
            configure(&options)
        }
        await rig.engine.step()
        let provider = BitbucketProvider(apiURL: rig.server.bitbucket.apiURL, webURL: rig.server.bitbucket.webURL, credential: .bearer(rig.server.service.bitbucket.accessToken),
                                         http: HTTPClient(transport: CurlTransport()), budgetCredential: "account:\(rig.account.id!)")
        let keyFile = rig.home.path + "/key"
        let installer = WebhookInstaller(store: rig.store, provider: provider, openVault: { try Vault.open(keyFile: keyFile, create: true) })
        return Setup(rig: rig, provider: provider, installer: installer)
    }

    @Test("install creates one signed repo:push hook with its secret sealed; a second install creates no duplicate")
    func idempotent() async throws {
        let s = try await setup()
        defer { let server = s.rig.server; Task { await server.stop() } }
        let target = try s.target(role: true)

        let first = try await s.installer.install(target, url: Self.url)
        guard case let .installed(subscription) = first else { Issue.record("expected an install, got \(first)"); return }
        var remote = try await s.remoteHooks(target)
        #expect(remote.count == 1)
        #expect(remote.first?.id == subscription.remoteID)
        #expect(remote.first?.events == ["repo:push"])
        #expect(remote.first?.hasSecret == true)
        #expect(remote.first?.url == Self.url)

        let second = try await s.installer.install(target, url: Self.url)
        guard case let .unchanged(kept) = second else { Issue.record("expected no change, got \(second)"); return }
        #expect(kept.id == subscription.id && kept.remoteID == subscription.remoteID)
        remote = try await s.remoteHooks(target)
        #expect(remote.count == 1)

        // The secret is in the vault: readable for verification, never stored as text.
        let keyFile = s.rig.home.path + "/key"
        let secrets = try s.rig.store.webhookSecrets(repositoryID: target.repository.id!) { try Vault.open(keyFile: keyFile, create: false) }
        #expect(secrets.count == 1)
        #expect(secrets[0].hookID == subscription.id)
        #expect(secrets[0].secret.count == 64)
        let raw = try Data(contentsOf: URL(fileURLWithPath: s.rig.home.path + "/slipway.db"))
        #expect(raw.firstRange(of: Data(secrets[0].secret.utf8)) == nil)
    }

    @Test("a hook on the same URL whose secret Slipway lost is replaced, not duplicated")
    func replacesLostSecret() async throws {
        let s = try await setup()
        defer { let server = s.rig.server; Task { await server.stop() } }
        let target = try s.target(role: true)
        let first = try await s.installer.install(target, url: Self.url).subscription
        try s.rig.store.deleteWebhookSubscription(id: first.id!)   // as after a fresh store

        let again = try await s.installer.install(target, url: Self.url)
        guard case let .installed(replacement) = again else { Issue.record("expected a new install, got \(again)"); return }
        let remote = try await s.remoteHooks(target)
        #expect(remote.map(\.id) == [replacement.remoteID!])
        #expect(replacement.remoteID != first.remoteID)
    }

    @Test("without admin rights the install fails with a clear message and stores nothing")
    func notAdmin() async throws {
        let s = try await setup()
        defer { let server = s.rig.server; Task { await server.stop() } }
        let target = try s.target(role: false)
        await #expect(throws: WebhookInstaller.Failure.notAdmin(path: target.path)) {
            try await s.installer.install(target, url: Self.url)
        }
        #expect(try s.rig.store.webhookSubscriptions(repositoryID: target.repository.id!).isEmpty)
        #expect(WebhookInstaller.Failure.notAdmin(path: target.path).description.contains("not an admin of \(target.path)"))
    }

    @Test("remove takes the hook off the provider and forgets it; a hook already gone there is just forgotten")
    func remove() async throws {
        let s = try await setup()
        defer { let server = s.rig.server; Task { await server.stop() } }
        let target = try s.target(role: true)
        try await s.installer.install(target, url: Self.url)
        try await s.installer.install(target, url: Self.url + "?second")
        #expect(try await s.remoteHooks(target).count == 2)

        let removed = try await s.installer.remove(target, url: Self.url)
        #expect(removed.map(\.url) == [Self.url])
        #expect(try await s.remoteHooks(target).map(\.url) == [Self.url + "?second"])

        // Deleted on the provider behind Slipway's back.
        let other = try #require(try await s.remoteHooks(target).first)
        try await s.provider.deleteHook(workspace: target.workspaceSlug, repository: target.repository.slug, id: other.id)
        #expect(try await s.installer.remove(target).count == 1)
        #expect(try s.rig.store.webhookSubscriptions(repositoryID: target.repository.id!).isEmpty)
    }

    @Test("a hook is trusted once it delivers: then its repository gets only the safety sweep, and a push found by polling marks it failing")
    func healthDrivesPolling() async throws {
        let s = try await setup { $0.bumpUpdatedOn = false }
        defer { let server = s.rig.server; Task { await server.stop() } }
        let target = try s.target(role: true)
        let repositoryID = target.repository.id!
        try await s.installer.install(target, url: Self.url)
        func candidate() throws -> Store.SweepCandidate { try s.rig.store.sweepCandidates(accountID: s.rig.account.id!).first { $0.repository.id == repositoryID }! }
        func health() throws -> WebhookHealth? { try s.rig.store.webhookHealth(repositoryIDs: [repositoryID])[repositoryID] }
        func pushNotDelivered() async {
            // The hook's URL leads nowhere, so only polling can see these pushes.
            s.rig.server.service.push(repository: target.repository.fullName)
            await s.rig.server.service.webhooks.drain()
        }

        // Installed but unproven: polled as usual, and a push polling finds counts against it.
        guard case .waiting? = try health() else { Issue.record("expected a hook waiting for its first push"); return }
        #expect(try candidate().watched && !(try candidate().hooked))
        await pushNotDelivered()
        s.rig.clock.advance(by: 600)
        await s.rig.engine.step()
        #expect(try s.rig.converged())
        guard case let .failing(_, message)? = try health() else { Issue.record("expected a failing hook"); return }
        #expect(message.contains("by polling"))

        // A delivery proves it: healthy, and the repository waits for the slow sweep.
        let event = PushEvent(repositoryFullName: target.repository.fullName, repositoryID: nil, changes: [])
        _ = try s.rig.store.applyPush(event, toRepository: target.repository.id!, now: s.rig.clock.now.addingTimeInterval(1))
        #expect(try candidate().hooked)
        guard case .healthy? = try health() else { Issue.record("expected a delivering hook"); return }
        s.rig.clock.advance(by: 3)
        await s.rig.engine.step()   // the delivery's confirming fetch
        #expect(try s.rig.store.read { db in try EngineCommand.filter(Column("status") == "queued").fetchCount(db) } == 0)
        await pushNotDelivered()
        s.rig.clock.advance(by: 600)
        await s.rig.engine.step()
        #expect(!(try s.rig.converged()))   // the hooked repository waits for its safety sweep

        s.rig.clock.advance(by: 1800)
        await s.rig.engine.step()
        #expect(try s.rig.converged())
        #expect(!(try candidate().hooked))
        guard case .failing? = try health() else { Issue.record("expected a failing hook"); return }
    }

    @Test("the engine installs a hook when a process asks (the dashboard's w); without a vault it says it cannot")
    func engineCommand() async throws {
        let s = try await setup()
        defer { let server = s.rig.server; Task { await server.stop() } }
        let target = try s.target(role: true)
        var settings = SyncEngine.Settings()
        settings.webhookPublicURL = "http://127.0.0.1:9"
        let keyFile = s.rig.home.path + "/key"
        let provider = s.provider
        let engine = SyncEngine(store: s.rig.store, settings: settings, clock: s.rig.clock,
                                openVault: { try Vault.open(keyFile: keyFile, create: true) }) { _ in provider }
        let payload = InstallWebhookPayload(path: target.path)
        let id = try s.rig.store.enqueue(payload, requestedBy: "tui:1", now: Date())
        await engine.step()
        let done = try #require(try s.rig.store.command(id: id))
        #expect(done.status == .done, "\(done.result ?? "")")
        #expect(done.result == "installed; deliveries go to http://127.0.0.1:9/webhooks/bitbucket")
        #expect(try await s.remoteHooks(target).count == 1)

        let again = try s.rig.store.enqueue(payload, requestedBy: "tui:1", now: Date())
        await engine.step()
        #expect(try s.rig.store.command(id: again)?.result == "already installed and nothing changed")

        let refused = try s.rig.store.enqueue(payload, requestedBy: "tui:1", now: Date())
        await s.rig.engine.step()   // the rig's engine was given no vault
        #expect(try s.rig.store.command(id: refused)?.status == .failed)
        #expect(try s.rig.store.command(id: refused)?.result == "this engine installs no webhooks")
    }

    @Test("the safety sweep of hooked repositories takes at most its share of the git budget: those without a hook come round sooner")
    func hookedLeaveTheBudgetToTheRest() async throws {
        // 8 repositories, 48 git requests an hour to plan with (0.75 of them for the sweep): all
        // alike, each comes round every 800 s. With 6 proven hooks, their safety sweep may take
        // a quarter (one every 400 s, so each every 2,400 s) and the 2 without a hook share the
        // rest — every 267 s.
        var settings = SyncEngine.Settings()
        settings.gitRequestsPerHour = 60
        let s = try await setup(settings: settings) { $0.bumpUpdatedOn = false }
        defer { let server = s.rig.server; Task { await server.stop() } }
        let start = s.rig.clock.now
        let candidates = try s.rig.store.sweepCandidates(accountID: s.rig.account.id!).sorted { $0.repository.id! < $1.repository.id! }
        try #require(candidates.count == 8)
        let vault = try Vault.open(keyFile: s.rig.home.path + "/key", create: true)
        for candidate in candidates.prefix(6) {
            let repository = candidate.repository
            let hook = try s.rig.store.prepareInstalledWebhook(repositoryID: repository.id!, url: Self.url, events: ["repo:push"], secret: "s3cret",
                                                               vault: vault, now: start)
            _ = try s.rig.store.setWebhookRemoteID(subscriptionID: hook.id!, remoteID: "{hook-\(repository.id!)}")
            // A delivery proves each hook (and queues its confirming fetch).
            _ = try s.rig.store.applyPush(PushEvent(repositoryFullName: repository.fullName, repositoryID: nil, changes: []),
                                          toRepository: repository.id!, now: start.addingTimeInterval(1))
        }
        func gitRequests() async throws -> Int { (try await s.rig.stats()["requests_by_kind"] as? [String: Int])?["git"] ?? 0 }
        s.rig.clock.advance(by: 3)
        await s.rig.engine.step()   // the confirming fetches: the six now wait in the hooked lane
        #expect(try s.rig.store.sweepLaneCounts(accountID: s.rig.account.id!).filter { $0.lane == .hooked }.map(\.count).reduce(0, +) == 6)

        var before = try await gitRequests()
        s.rig.clock.advance(by: 300)
        await s.rig.engine.step()
        #expect(try await gitRequests() - before == 2)   // planned as all alike, none would be due before 800 s

        before = try await gitRequests()
        s.rig.clock.advance(by: 1700)   // 2,003 s: the two again, the hooked ones not yet
        await s.rig.engine.step()
        #expect(try await gitRequests() - before == 2)

        before = try await gitRequests()
        s.rig.clock.advance(by: 500)   // 2,503 s: the hooked ones' safety sweep is due
        await s.rig.engine.step()
        #expect(try await gitRequests() - before == 8)
    }
}
