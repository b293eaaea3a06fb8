import Foundation

/// The sandbox's App Platform apps: each built from a repository of the sandbox's own Git hosts
/// (or a public clone URL), with a history of deployments — the newest ACTIVE, older ones
/// SUPERSEDED, one that failed its build.
struct SandboxApp: Sendable {
    struct Component: Sendable {
        var name: String
        /// `bitbucket`, `github`, `gitlab` (with `repo`) or `git` (with `repo_clone_url`).
        var sourceKey: String
        var repo: String
        var branch: String
        var deployOnPush: Bool
        var buildCommand: String?
        var runCommand: String
        /// The spec's `envs` as given (a SECRET's value shown encrypted, as App Platform does).
        var envs: [[String: String]] = []
    }
    struct Deployment: Sendable {
        var id: String
        var phase: String
        /// Whether the build fails (the commit says so): it ends in ERROR instead of ACTIVE.
        var fails = false
        /// Where a cancel stopped it: 1 while building, 2 while deploying.
        var canceledIn = 1
        var cause: String
        var commit: String
        /// The commit's subject, which the build log names (a provider string like any other).
        var subject = ""
        var createdAt: Date
        var updatedAt: Date
    }
    var id: String
    var name: String
    var region: String
    var components: [Component]
    /// Newest first.
    var deployments: [Deployment]
    var createdAt: Date
}

extension SandboxApp {
    static let progressing = ["PENDING_BUILD", "BUILDING", "DEPLOYING"]

    /// Moves the deployments in progress on with the clock: a phase each `phaseSeconds`, then
    /// ACTIVE (the app's previous ACTIVE one SUPERSEDED) or, for a failing build, ERROR.
    mutating func advance(now: Date, phaseSeconds: Double) {
        // Oldest first (the list is newest first): when two finish in one look, the newer one
        // is the one left ACTIVE.
        for index in deployments.indices.reversed() where Self.progressing.contains(deployments[index].phase) {
            let elapsed = now.timeIntervalSince(deployments[index].createdAt)
            let step = Int(elapsed / max(phaseSeconds, 0.001))
            let phase: String
            // A failing build runs its phase, then fails.
            if deployments[index].fails && step >= 2 {
                phase = "ERROR"
            } else {
                phase = step < Self.progressing.count ? Self.progressing[step] : "ACTIVE"
            }
            guard phase != deployments[index].phase else { continue }
            deployments[index].phase = phase
            deployments[index].updatedAt = now
            if phase == "ACTIVE" {
                for other in deployments.indices where other != index && deployments[other].phase == "ACTIVE" {
                    deployments[other].phase = "SUPERSEDED"
                    deployments[other].updatedAt = now
                }
            }
        }
    }
}

enum AppPlatformWorld {
    /// Apps over the world's repositories, deterministic for a seed.
    static func build(options: SandboxOptions, hosts: [SandboxPersonalityName: SandboxWorld], start: Date) -> [SandboxApp] {
        var random = SandboxRandom(seed: options.seed ^ 0x6170_7073)
        let regions = ["nyc", "ams", "fra", "sfo", "lon", "sgp"]
        // Repositories App Platform could build from: the Git personalities' own.
        var sources: [(key: String, repo: String, branch: String, commits: [String])] = []
        for (name, key) in [(SandboxPersonalityName.bitbucket, "bitbucket"), (.github, "github"), (.gitlab, "gitlab")] {
            guard let world = hosts[name] else { continue }
            for fullName in world.repositories.keys.sorted().prefix(50) {
                guard let repository = world.repositories[fullName], let head = repository.branches[repository.mainBranch] else { continue }
                let history = repository.history(from: [head], excluding: []).map(\.hash)
                sources.append((key, fullName, repository.mainBranch, history.isEmpty ? [head] : history))
            }
        }
        var apps: [SandboxApp] = []
        for index in 0..<options.appPlatformApps {
            let created = start.addingTimeInterval(-Double(30 + index) * 86_400)
            let component: SandboxApp.Component
            var commits: [String]
            if sources.isEmpty || index % 4 == 3 {
                component = .init(name: "web", sourceKey: "git", repo: "https://github.com/digitalocean/sample-golang.git", branch: "main",
                                  deployOnPush: false, buildCommand: nil, runCommand: "bin/sample-golang")
                commits = (0..<max(1, options.deploymentsPerApp)).map { _ in random.hash() }
            } else {
                let source = sources[index % sources.count]
                component = .init(name: "web", sourceKey: source.key, repo: source.repo, branch: source.branch, deployOnPush: index % 2 == 0,
                                  buildCommand: "make", runCommand: "./run.sh")
                commits = source.commits
            }
            var deployments: [SandboxApp.Deployment] = []
            let count = max(1, options.deploymentsPerApp)
            for number in 0..<count {
                // Oldest first here; the newest is ACTIVE, one in the middle failed its build.
                let at = created.addingTimeInterval(Double(number) * 3600 * 6)
                let commit = commits[min(commits.count - 1, count - 1 - number)]
                let phase = number == count - 1 ? "ACTIVE" : (number == count / 2 && count > 2 ? "ERROR" : "SUPERSEDED")
                let cause = component.deployOnPush ? "commit \(commit.prefix(7)) pushed to \(component.sourceKey)/\(component.repo)" : "manual"
                deployments.append(.init(id: random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased(), phase: phase,
                                         cause: number == 0 ? "app created" : cause, commit: commit, createdAt: at, updatedAt: at.addingTimeInterval(95)))
            }
            apps.append(SandboxApp(id: random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased(),
                                   name: index == 0 ? "sample-app" : "app-\(index)", region: regions[index % regions.count],
                                   components: [component], deployments: deployments.reversed(), createdAt: created))
        }
        return apps
    }
}
