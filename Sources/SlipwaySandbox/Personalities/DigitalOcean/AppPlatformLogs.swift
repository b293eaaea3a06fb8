import Foundation

/// The logs App Platform keeps for a deployment: its build (while BUILDING), its deploy (while
/// DEPLOYING) and its service's run log (once ACTIVE), each line as App Platform prefixes it —
/// `<component> <RFC 3339 time> <message>` — appearing in time with the deployment's phases.
enum AppPlatformLogType: String, Sendable, CaseIterable {
    case build = "BUILD", deploy = "DEPLOY", run = "RUN"
}

struct AppPlatformLogLine: Sendable, Equatable {
    var at: Date
    var text: String
}

extension SandboxApp {
    /// The lines of one log of a deployment that exist by `now`, and whether that log is over
    /// (its phase passed, or the deployment ended).
    func log(_ type: AppPlatformLogType, of deployment: Deployment, component: String?, now: Date, phaseSeconds: Double)
        -> (lines: [AppPlatformLogLine], finished: Bool) {
        let name = component ?? components.first?.name ?? self.name
        let p = max(phaseSeconds, 0.001)
        let ended = !Self.progressing.contains(deployment.phase) && deployment.phase != "ACTIVE"
        let stoppedAt = ended ? deployment.updatedAt : now
        let start: Date, messages: [String]
        switch type {
        case .build:
            start = deployment.createdAt.addingTimeInterval(p)
            let source = components.first
            var build = [
                "╭──────────── git repo clone ───────────╮",
                "│ › fetching app source code",
                "│ => Selecting branch \"\(source?.branch ?? "main")\"",
                "│ => Checking out commit \"\(deployment.commit.prefix(40))\": \(deployment.subject)",
                "╰────────────────────────────────────────╯",
                "› running custom build command: \(source?.buildCommand ?? "(none)")",
            ]
            build += deployment.fails
                ? ["make: *** [Makefile:3: build] Error 2", "✘ build failed: the build command exited with status 2"]
                : ["compiled in 1.2s", "✔ build complete", "› uploading the built image"]
            messages = build
        case .deploy:
            start = deployment.createdAt.addingTimeInterval(2 * p)
            messages = ["› deploying the image to \(region)", "› starting 1 instance", "› waiting for the health check on :8080", "✔ deployed"]
        case .run:
            start = deployment.createdAt.addingTimeInterval(3 * p)
            messages = ["\(components.first?.runCommand ?? "") started", "listening on :8080", "GET /healthz 200 0.4ms"]
        }
        let spacing = p / Double(messages.count + 1)
        let lines = messages.enumerated().map { index, message in
            let at = start.addingTimeInterval(spacing * Double(index + 1))
            return AppPlatformLogLine(at: at, text: "\(name) \(DigitalOceanWireFormat.nanoTime(at)) \(message)")
        }.filter { $0.at <= stoppedAt }
        // A run log goes on while its deployment serves; the others end with their phase.
        let over: Bool = switch type {
        case .run: ended || deployment.phase == "SUPERSEDED"
        default: ended || now >= start.addingTimeInterval(p)
        }
        return (lines, over)
    }
}
