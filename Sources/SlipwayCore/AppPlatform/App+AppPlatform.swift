import Foundation

extension App {
    /// App Platform starts this app's deployments on a push itself: every component it builds
    /// from a repository has `deploy_on_push` (a `git` source never has).
    public var appPlatformDeploysOnPush: Bool { backendSettings["deploy_on_push"] == "true" }

    /// Whether Slipway starts a deployment when the app's branch gets a new commit: an app on
    /// this host that autodeploys, or an App Platform app that autodeploys where App Platform
    /// itself would not (DESIGN.md: "with autodeploy on and deploy_on_push off, Slipway starts
    /// them on a push it sees") — never a second one beside App Platform's own.
    public var slipwayDeploysOnPush: Bool {
        guard autodeploy else { return false }
        switch backend {
        case .local: return true
        case .digitalocean: return !appPlatformDeploysOnPush
        }
    }
}
