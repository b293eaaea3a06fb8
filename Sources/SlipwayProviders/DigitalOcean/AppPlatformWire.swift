import Foundation

/// App Platform's JSON as `api.digitalocean.com/v2` sends it (only what Slipway reads).
enum AppPlatformWire {
    struct AccountEnvelope: Decodable { var account: Account }
    struct Account: Decodable, Sendable {
        struct Team: Decodable, Sendable { var uuid: String?; var name: String? }
        var uuid: String
        var email: String
        var name: String?
        var email_verified: Bool?
        var status: String?
        var team: Team?
    }

    /// `links.pages.next`, where there is a next page.
    struct Links: Decodable {
        struct Pages: Decodable { var next: String? }
        var pages: Pages?
    }

    struct AppsPage: Decodable {
        var apps: [App]?
        var links: Links?
    }

    struct App: Decodable {
        struct Spec: Decodable {
            var name: String
            var region: String?
            var services: [Component]?
            var workers: [Component]?
            var jobs: [Component]?
            var static_sites: [Component]?
        }
        var id: String
        var spec: Spec
        var region: Region?
        var live_url: String?
        var active_deployment: Deployment?
        var in_progress_deployment: Deployment?
        var pending_deployment: Deployment?
        var created_at: String?
        var updated_at: String?
    }

    struct Region: Decodable { var slug: String? }

    /// A component's source: exactly one of these is set.
    struct Component: Decodable {
        struct HostedSource: Decodable { var repo: String; var branch: String?; var deploy_on_push: Bool? }
        struct GitSource: Decodable { var repo_clone_url: String; var branch: String? }
        var name: String
        var github: HostedSource?
        var gitlab: HostedSource?
        var bitbucket: HostedSource?
        var git: GitSource?
        var build_command: String?
        var run_command: String?
    }

    struct DeploymentEnvelope: Decodable { var deployment: Deployment }

    struct DeploymentsPage: Decodable {
        var deployments: [Deployment]?
        var links: Links?
    }

    struct Deployment: Decodable {
        struct Service: Decodable { var name: String; var source_commit_hash: String? }
        var id: String
        var phase: String?
        var cause: String?
        var created_at: String?
        var updated_at: String?
        var services: [Service]?
        var workers: [Service]?
        var jobs: [Service]?
        var static_sites: [Service]?
        var progress: Progress?
    }

    struct Progress: Decodable { var steps: [Step]? }

    struct Logs: Decodable {
        var live_url: String?
        var historic_urls: [String]?
    }

    /// One message of a live log stream.
    struct LogMessage: Decodable { var data: String }

    struct Step: Decodable {
        struct Reason: Decodable { var code: String?; var message: String? }
        var name: String?
        var status: String?
        var component_name: String?
        var reason: Reason?
        var started_at: String?
        var ended_at: String?
        var steps: [Step]?
    }
}
