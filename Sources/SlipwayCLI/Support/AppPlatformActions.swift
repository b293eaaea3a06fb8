import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders

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

    func deploy(_ app: App, wait: Bool) async throws {
        guard let remoteID = app.remoteID, let appID = app.id else { throw SlipwayCLIError.failure("\(app.name) has no App Platform id") }
        let platform = try client()
        let started: RemoteDeployment
        do {
            started = try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(30)) { try await platform.createDeployment(appID: remoteID) }
        } catch {
            throw Self.explain(error, doing: "start a deployment of \(app.name)")
        }
        var row = try context.store.recordRemoteDeployment(started, appID: appID, now: Date())
        Terminal.error("deployment \(row.id!) of \(app.name) started on App Platform (\(started.id)); it builds the head of \(app.branch)")
        guard wait else { return }
        var shown = row.phase
        Terminal.error("\(app.name): \(shown.rawValue)")
        while !(row.phase == .active || row.phase.isFinal) {
            try await Task.sleep(nanoseconds: 500_000_000)
            let current = try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(30)) {
                try await platform.deployment(appID: remoteID, id: started.id)
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
        let canceled: RemoteDeployment
        do {
            canceled = try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(30)) {
                try await platform.cancelDeployment(appID: remoteApp, id: remoteID)
            }
        } catch {
            throw Self.explain(error, doing: "cancel deployment \(deployment.id ?? 0)")
        }
        let row = try context.store.recordRemoteDeployment(canceled, appID: app.id!, now: Date())
        Terminal.error("deployment \(row.id!) of \(app.name) is \(row.phase.rawValue) on App Platform")
    }
}
