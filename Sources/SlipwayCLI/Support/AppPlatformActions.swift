import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwayTUI

/// What a user asks of an App Platform app, done at once over App Platform's API (interactive,
/// with no engine needed): a new deployment of its branch head, followed with `--wait`; the cancel
/// of one in progress. The rows land in the store as the engine's observation would write them.
struct AppPlatformActions {
    let context: CommandContext

    func client() throws -> AppPlatformClient {
        guard let account = try context.store.account(for: .digitalocean) else {
            throw SlipwayCLIError.failure("digitalocean is not linked; run 'slipway link digitalocean --token-file -'")
        }
        return try ProviderFactory(context: context).appPlatform(for: account)
    }

    /// A missing scope named, App Platform's own message otherwise.
    static func explain(_ error: any Error, doing what: String, scope: String = "app:update") -> SlipwayCLIError {
        switch error as? HTTPError {
        case .forbidden?:
            return .failure("App Platform refused to \(what): the token lacks the \(scope) scope; make one with it and run 'slipway link digitalocean --relink --token-file -'")
        case let .status(code, _, message)? where code == 409 || code == 422 || code == 400:
            return .failure("App Platform refused to \(what): \(message)")
        case .unauthorized?:
            return .failure("App Platform refused the token (revoked or expired); run 'slipway link digitalocean --relink --token-file -'")
        default:
            return .failure("App Platform could not \(what): \(error)")
        }
    }

    /// A refusal of a spec's source explained — App Platform's Git integration missing for that
    /// provider (granted in the control panel: there is no API for it) — else as `explain` says.
    static func explain(_ error: any Error, doing what: String, scope: String, platform: AppPlatformClient,
                        sources: [RemoteApp.Component.Source]) -> SlipwayCLIError {
        guard let refusal = platform.gitAccessRefusal(error, sources: sources) else { return explain(error, doing: what, scope: scope) }
        let said = "App Platform said: \(TerminalText.sanitize(refusal.message))"
        if sources.allSatisfy({ if case .git = $0 { true } else { false } }) {
            return .failure("App Platform cannot read that repository (\(said)); a git source must be public, so build a private one from its linked provider's --source")
        }
        let name = refusal.provider.map { "your \($0.displayName) account" } ?? "that Git provider"
        let grant = refusal.installURL.map { "grant it at \($0) (DigitalOcean's control panel; there is no API for it)" }
            ?? "grant it in DigitalOcean's control panel (there is no API for it)"
        return .failure("App Platform has no access to \(name) or to that repository (\(said)); \(grant), then run this again")
    }

    /// One request of a user's command (interactive, waiting at most `wait`), a refusal explained in one line.
    func ask<T: Sendable>(_ what: String, scope: String, wait: TimeInterval = 30, _ body: () async throws -> T) async throws -> T {
        do {
            return try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(wait), body)
        } catch let error as SlipwayCLIError {
            throw error
        } catch {
            throw Self.explain(error, doing: what, scope: scope)
        }
    }

    func deploy(_ app: App, wait: Bool) async throws {
        guard let remoteID = app.remoteID, let appID = app.id else { throw SlipwayCLIError.failure("\(app.name) has no App Platform id") }
        let platform = try client()
        let started: RemoteDeployment = try await ask("start a deployment of \(app.name)", scope: "app:update") { try await platform.createDeployment(appID: remoteID) }
        let row = try context.store.recordRemoteDeployment(started, appID: appID, now: Date())
        Terminal.error("deployment \(row.id!) of \(app.name) started on App Platform (\(started.id)); it builds the head of \(app.branch)")
        guard wait else { return }
        try await follow(row, of: app, platform: platform)
    }

    /// Follows a deployment on App Platform until it ends (the user watches it: every half
    /// second, interactive), saying each phase; throws unless it ends ACTIVE.
    func follow(_ deployment: Deployment, of app: App, platform given: AppPlatformClient? = nil) async throws {
        guard let remoteApp = app.remoteID, let appID = app.id else { throw SlipwayCLIError.failure("\(app.name) has no App Platform id") }
        let platform = try given ?? client()
        var row = deployment
        var shown = row.phase
        Terminal.error("\(app.name): \(shown.rawValue)")
        while !(row.phase == .active || row.phase.isFinal) {
            try await Task.sleep(nanoseconds: 500_000_000)
            // Slipway queued it for a push and the engine has not started it yet: the store says when.
            guard let remoteID = row.remoteID else {
                row = try context.store.deployment(id: row.id!) ?? row
                continue
            }
            let current = try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(30)) {
                try await platform.deployment(appID: remoteApp, id: remoteID)
            }
            row = try context.store.recordRemoteDeployment(current, appID: appID, now: Date())
            if row.phase != shown {
                shown = row.phase
                Terminal.error("\(app.name): \(shown.rawValue)")
            }
        }
        guard row.phase == .active else { throw SlipwayCLIError.failure("deployment \(row.id!) of \(app.name) ended \(row.phase.rawValue)") }
    }

    func cancel(_ deployment: Deployment, of app: App) async throws {
        guard let remoteApp = app.remoteID, let remoteID = deployment.remoteID else {
            throw SlipwayCLIError.failure("deployment \(deployment.id ?? 0) has no App Platform id")
        }
        let platform = try client()
        let canceled: RemoteDeployment = try await ask("cancel deployment \(deployment.id ?? 0)", scope: "app:update") { try await platform.cancelDeployment(appID: remoteApp, id: remoteID) }
        let row = try context.store.recordRemoteDeployment(canceled, appID: app.id!, now: Date())
        Terminal.error("deployment \(row.id!) of \(app.name) is \(row.phase.rawValue) on App Platform")
    }

    /// A deployment's logs in order (build, deploy, run): followed over App Platform's live
    /// WebSocket while one grows (with --follow), else read from its archive. Every line is shown
    /// inert: it is the repository's build output.
    func logs(_ deployment: Deployment, of app: App, types: [LogsCommand.LogKind], component: String?, follow: Bool) async throws {
        guard let remoteApp = app.remoteID, let remoteID = deployment.remoteID else {
            throw SlipwayCLIError.failure("deployment \(deployment.id ?? 0) has not started on App Platform yet; it has no log")
        }
        if let component, !app.components.contains(where: { $0.name == component }) {
            let names = app.components.map(\.name).joined(separator: ", ")
            throw SlipwayCLIError.failure("\(app.name) has no component '\(component)'; its components: \(names)")
        }
        let platform = try client()
        func show(_ line: String) { Terminal.out(TerminalText.sanitize(line)) }
        for kind in types {
            let type = AppPlatformClient.LogType(rawValue: kind.rawValue.uppercased()) ?? .build
            let location: AppPlatformClient.LogLocation = try await ask("give the \(kind.rawValue) log of deployment \(deployment.id ?? 0)", scope: "app:read") { try await platform.logs(appID: remoteApp, deploymentID: remoteID, component: component, type: type, follow: follow) }
            if let live = location.liveURL, follow {
                do {
                    for try await line in AppPlatformClient.liveLines(live) { show(line) }
                } catch {
                    throw SlipwayCLIError.failure("the live \(kind.rawValue) log of deployment \(deployment.id ?? 0) broke off: \(error)")
                }
            } else if let archive = location.historicURLs.first {
                let text: String
                do {
                    text = try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(30)) { try await platform.archivedLog(archive) }
                } catch {
                    throw SlipwayCLIError.failure("the \(kind.rawValue) log of deployment \(deployment.id ?? 0) could not be read: \(error)")
                }
                for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) { show(String(line)) }
            }
        }
    }

    /// App Platform's rollback to an earlier deployment that ran; `--wait` follows it.
    func rollback(_ app: App, to target: Deployment, wait: Bool) async throws {
        guard let remoteApp = app.remoteID, let appID = app.id, let remoteTarget = target.remoteID else {
            throw SlipwayCLIError.failure("\(app.name) has no App Platform id")
        }
        let platform = try client()
        let started: RemoteDeployment = try await ask("roll \(app.name) back", scope: "app:update") { try await platform.rollback(appID: remoteApp, to: remoteTarget) }
        let row = try context.store.recordRemoteDeployment(started, appID: appID, now: Date())
        Terminal.error("deployment \(row.id!) of \(app.name) rolls back to deployment \(target.id!) (\(target.commitHash.prefix(7))) on App Platform")
        if wait { try await follow(row, of: app, platform: platform) }
    }

    /// Deletes the app on App Platform, then here.
    func delete(_ app: App) async throws {
        guard let remoteApp = app.remoteID else { throw SlipwayCLIError.failure("\(app.name) has no App Platform id") }
        let platform = try client()
        do {
            try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(30)) { try await platform.deleteApp(appID: remoteApp) }
        } catch HTTPError.notFound {
            // Gone there already: only our row is left to remove.
        } catch {
            throw Self.explain(error, doing: "delete \(app.name)", scope: "app:delete")
        }
        try context.store.deleteApp(named: "digitalocean/\(app.name)")
        Terminal.error("deleted app '\(app.name)' on App Platform")
    }

    func printSpec(_ app: App) async throws {
        guard let remoteApp = app.remoteID else { throw SlipwayCLIError.failure("\(app.name) has no App Platform id") }
        let platform = try client()
        let spec: Data = try await ask("give the spec of \(app.name)", scope: "app:read") { try await platform.spec(appID: remoteApp) }
        let pretty = (try? JSONSerialization.jsonObject(with: spec)).flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.prettyPrinted, .sortedKeys]) }
        Terminal.out(String(decoding: pretty ?? spec, as: UTF8.self))
    }

    /// `apps update` of an App Platform app: the spec edited and sent back whole (App Platform
    /// deploys the change), or — for autodeploy alone — Slipway's own tracking: with autodeploy
    /// on, a push App Platform would not deploy (deploy_on_push off, a `git` source) is Slipway's.
    func update(_ app: App, edit: AppSpecEdit, autodeploy: Bool?) async throws {
        guard let remoteApp = app.remoteID, var tracked = try context.store.app(named: "digitalocean/\(app.name)") else {
            throw SlipwayCLIError.failure("\(app.name) has no App Platform id")
        }
        var edit = edit
        let changesSpec = edit != AppSpecEdit(component: edit.component)
        // A Slipway-made app deploys on push through App Platform; switching autodeploy says so in its spec too.
        if let autodeploy, tracked.backendSettings["created_by"] == "slipway" { edit.deployOnPush = autodeploy }
        if changesSpec || edit.deployOnPush != nil {
            let platform = try client()
            let updated: RemoteApp
            do {
                updated = try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(60)) {
                    let spec = try await platform.spec(appID: remoteApp)
                    let changed: Data
                    do { changed = try edit.applied(to: spec) } catch { throw SlipwayCLIError.failure("cannot change \(app.name): \(error)") }
                    return try await platform.update(appID: remoteApp, spec: changed)
                }
            } catch let error as SlipwayCLIError {
                throw error
            } catch {
                throw Self.explain(error, doing: "change \(app.name)", scope: "app:update")
            }
            try context.store.applyRemoteApp(updated, now: Date())
            tracked = try context.store.app(named: "digitalocean/\(app.name)") ?? tracked
        }
        if let autodeploy { tracked.autodeploy = autodeploy }
        try context.store.updateApp(tracked)
        let who = !tracked.autodeploy ? "nothing deploys it on a push"
            : tracked.appPlatformDeploysOnPush ? "App Platform deploys it on every push" : "Slipway deploys it on every push it sees"
        Terminal.error("updated app '\(app.name)' on App Platform\(changesSpec ? " (App Platform deploys the change)" : ""); \(who)")
    }
}
