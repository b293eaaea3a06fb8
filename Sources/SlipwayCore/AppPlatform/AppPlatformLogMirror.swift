import Foundation
import SlipwayHTTP
import SlipwayProviders

/// App Platform's logs of one deployment copied into the store, where the dashboard reads every
/// deployment's log: the build, then the deploy, each followed over its `live_url` WebSocket
/// while it grows (else read from its archive), then — once the deployment serves — the run
/// log as it stands. Lines are stored as App Platform sent them; the dashboard shows them inert.
struct AppPlatformLogMirror {
    let store: Store
    let client: AppPlatformClient
    let requestClock: any SlipwayClock
    let clock: any SlipwayClock
    let requestWait: TimeInterval
    let cap: Int

    /// The steps App Platform keeps a log for, as the deployments table names them.
    static let kinds: [(type: AppPlatformClient.LogType, step: String)] = [(.build, "build"), (.deploy, "deploy"), (.run, "run")]

    func run(deploymentID: Int64, appID remoteApp: String, remoteID: String) async throws {
        try store.clearLog(deploymentID: deploymentID)
        for (type, step) in Self.kinds {
            try Task.checkCancellation()
            let phase = try store.deployment(id: deploymentID)?.phase
            // A run log goes on while the app serves: only what it holds now, once it serves.
            let follow = type != .run
            if type == .run, phase != .active { return }
            let location: AppPlatformClient.LogLocation
            do {
                location = try await ask { try await client.logs(appID: remoteApp, deploymentID: remoteID, component: nil, type: type, follow: follow) }
            } catch HTTPError.notFound {
                // A step that never ran (a build that failed has no deploy log).
                return
            }
            if let live = location.liveURL, follow {
                for try await line in AppPlatformClient.liveLines(live) { try append(line, step: step, to: deploymentID) }
            } else if let archive = location.historicURLs.first {
                let text = try await ask { try await client.archivedLog(archive) }
                if !text.isEmpty {
                    try store.appendLog(deploymentID: deploymentID, step: step, stream: .stdout, text: text.hasSuffix("\n") ? text : text + "\n",
                                        cap: cap, now: clock.now)
                }
            }
        }
    }

    /// A user watches this log: its requests go on the interactive lane.
    private func ask<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await RequestContext.run(lane: .interactive, deadline: requestClock.now.addingTimeInterval(requestWait), body)
    }

    private func append(_ line: String, step: String, to deploymentID: Int64) throws {
        try store.appendLog(deploymentID: deploymentID, step: step, stream: .stdout, text: line + "\n", cap: cap, now: clock.now)
    }
}
