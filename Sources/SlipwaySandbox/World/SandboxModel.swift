import Foundation

struct SandboxUser: Sendable {
    var uuid: String
    var accountID: String
    var nickname: String
    var displayName: String
    var email: String
    var createdOn: Date
}

struct SandboxWorkspace: Sendable {
    var uuid: String
    var slug: String
    var name: String
    var isPrivate: Bool
    /// Whether the sandbox user administers it (`administrator` in `/user/workspaces`).
    var isAdmin: Bool
    var createdOn: Date
    var repositories: [String] = []   // slugs, in creation order
    /// A user's namespace rather than an organization's (GitHub's owners are either).
    var isUser = false
    /// A small number unique in its host (GitHub's numeric ids).
    var number = 0
}

struct SandboxCommit: Sendable {
    var hash: String
    var parents: [String]
    /// "Name <email>", Bitbucket's `author.raw`.
    var author: String
    var date: Date
    var message: String
}

struct SandboxRepository: Sendable {
    var uuid: String
    var workspace: String
    var slug: String
    var name: String
    var description: String
    var language: String
    var isPrivate: Bool
    /// The sandbox user's role: "admin", "contributor" (write) or "member" (read).
    var role: String
    var createdOn: Date
    var updatedOn: Date
    var mainBranch: String
    var commits: [String: SandboxCommit] = [:]
    var branches: [String: String] = [:]   // name → head hash
    var hooks: [SandboxHook] = []
    /// A number unique in its host (GitHub's numeric repository id).
    var number = 0
    /// GitLab's `last_activity_at`, which moves at most once an hour (nil elsewhere: `updatedOn`).
    var activityAt: Date?

    var fullName: String { "\(workspace)/\(slug)" }

    /// Branch names in `git branch --list` order (byte-wise lexical).
    var sortedBranchNames: [String] { branches.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) } }

    /// `git log` order from some heads, newest first, stopping at anything reachable from `exclude`.
    /// Whether `ancestor` is `head` or reachable from it along parents; stops as soon as it is
    /// found (a push's old head is usually the new one's parent).
    func isAncestor(_ ancestor: String, of head: String) -> Bool {
        var stack = [head]
        var seen = Set<String>()
        while let hash = stack.popLast() {
            if hash == ancestor { return true }
            guard seen.insert(hash).inserted, let commit = commits[hash] else { continue }
            stack.append(contentsOf: commit.parents)
        }
        return false
    }

    func history(from heads: [String], excluding exclude: [String]) -> [SandboxCommit] {
        var excluded = Set<String>()
        var stack = exclude
        while let hash = stack.popLast() {
            guard excluded.insert(hash).inserted, let commit = commits[hash] else { continue }
            stack.append(contentsOf: commit.parents)
        }
        var seen = Set<String>()
        var result: [SandboxCommit] = []
        var frontier = heads.compactMap { commits[$0] }
        while !frontier.isEmpty {
            // Newest first, like `git log` without --topo-order.
            frontier.sort { $0.date == $1.date ? $0.hash > $1.hash : $0.date > $1.date }
            let commit = frontier.removeFirst()
            guard !excluded.contains(commit.hash), seen.insert(commit.hash).inserted else { continue }
            result.append(commit)
            frontier.append(contentsOf: commit.parents.compactMap { commits[$0] })
        }
        return result
    }

    /// A commit by full hash or unique prefix (at least 7 characters, like Bitbucket).
    func commit(matching prefix: String) -> SandboxCommit? {
        if let exact = commits[prefix] { return exact }
        guard prefix.count >= 7 else { return nil }
        let matches = commits.keys.filter { $0.hasPrefix(prefix) }
        return matches.count == 1 ? commits[matches[0]] : nil
    }

    /// A revision as Bitbucket resolves it: a branch name or a commit hash.
    func resolve(_ revision: String) -> String? {
        if let head = branches[revision] { return head }
        return commit(matching: revision)?.hash
    }
}

/// A webhook registered on a repository (`webhook_subscription`).
struct SandboxHook: Sendable {
    var uuid: String
    var url: String
    var description: String
    var events: [String]
    var active: Bool
    var secret: String?
    var createdAt: Date
    /// A Standard Webhooks key the deliveries are signed with (GitLab's signing token).
    var signingKey: Data? = nil
}
