import Foundation

/// One host's part of the sandbox's world (its user, workspaces, repositories). A value: the
/// service keeps it behind its lock and mutates it for pushes.
struct SandboxWorld: Sendable {
    var user: SandboxUser
    var seed: UInt64
    var workspaces: [String: SandboxWorkspace] = [:]
    var workspaceOrder: [String] = []
    var repositories: [String: SandboxRepository] = [:]   // by full name
    var pushes = 0

    init(user: SandboxUser, seed: UInt64) {
        self.user = user
        self.seed = seed
    }

    func repository(_ workspace: String, _ slug: String) -> SandboxRepository? {
        repositories["\(workspace)/\(slug)"]
    }

    /// The world as a grant for public repositories only sees it (GitHub's `public_repo`).
    func publicRepositoriesOnly() -> SandboxWorld {
        var copy = self
        copy.repositories = repositories.filter { !$0.value.isPrivate }
        for (slug, workspace) in workspaces {
            copy.workspaces[slug]?.repositories = workspace.repositories.filter { copy.repositories["\(slug)/\($0)"] != nil }
        }
        return copy
    }

    typealias PushEvent = SandboxPush

    /// A push: mostly a new commit on an existing branch; now and then a branch created or deleted.
    /// A simulated push. `excluding` names repositories backed by real git (the demo's), which
    /// only real commits may move: a simulated head there would name a commit git does not have.
    mutating func push(random: inout SandboxRandom, now: Date, bumpUpdatedOn: Bool, repository target: String? = nil,
                       excluding: Set<String> = []) -> PushEvent? {
        let fullName: String
        if let target {
            fullName = target
        } else {
            let candidates = repositories.keys.sorted().filter { !excluding.contains($0) }
            guard !candidates.isEmpty else { return nil }
            fullName = random.pick(candidates)
        }
        guard !excluding.contains(fullName) else { return nil }
        // Taken out while it changes (and put back below), so its commits are changed in place:
        // a copy left in the dictionary made every push copy every commit of the repository.
        guard var repository = repositories.removeValue(forKey: fullName) else { return nil }
        pushes += 1
        let roll = random.unit()
        let event: PushEvent
        if roll < 0.1 {
            // Create a branch from main's head.
            let name = "feature/push-\(pushes)"
            let commit = WorldGenerator.makeCommit(parent: repository.branches[repository.mainBranch], date: now, random: &random)
            repository.commits[commit.hash] = commit
            repository.branches[name] = commit.hash
            event = PushEvent(kind: .branchCreated, repository: fullName, branch: name, old: nil, new: commit.hash)
        } else if roll < 0.15, let victim = repository.branches.keys.sorted().first(where: { $0 != repository.mainBranch }) {
            let old = repository.branches.removeValue(forKey: victim)
            event = PushEvent(kind: .branchDeleted, repository: fullName, branch: victim, old: old, new: nil)
        } else {
            let branch = random.chance(0.4) ? repository.mainBranch : random.pick(repository.sortedBranchNames)
            let old = repository.branches[branch]
            let commit = WorldGenerator.makeCommit(parent: old, date: now, random: &random)
            repository.commits[commit.hash] = commit
            repository.branches[branch] = commit.hash
            event = PushEvent(kind: .commit, repository: fullName, branch: branch, old: old, new: commit.hash)
        }
        if bumpUpdatedOn { repository.updatedOn = now }
        repositories[fullName] = repository
        return event
    }

    var branchCount: Int { repositories.values.reduce(0) { $0 + $1.branches.count } }
}

/// What one simulated push did.
public struct SandboxPush: Sendable, Equatable {
    public enum Kind: String, Sendable { case commit, branchCreated = "branch_created", branchDeleted = "branch_deleted" }
    public var kind: Kind
    /// `workspace/slug`
    public var repository: String
    public var branch: String
    public var old: String?
    public var new: String?
    /// The personality whose part of the world it moved.
    public var host: SandboxPersonalityName = .bitbucket
}
