import Foundation

/// Bitbucket's `repo:push` body for one simulated push, in the shape of the recorded deliveries
/// (`push.changes[]` with `old`/`new` refs, `created`/`closed`/`forced`/`truncated`, up to five
/// newest commits and their links; the repository in its short form; the actor).
extension WireFormat {
    static let commitsPerChange = 5

    func pushPayload(_ push: SandboxPush, repository r: SandboxRepository, workspace w: SandboxWorkspace, actor: SandboxUser) -> [String: Any] {
        var change: [String: Any] = [
            "old": push.old.map { ref(push.branch, hash: $0, in: r) } ?? NSNull(),
            "new": push.new.map { ref(push.branch, hash: $0, in: r) } ?? NSNull(),
            "created": push.old == nil, "closed": push.new == nil,
            "forced": forced(old: push.old, new: push.new, in: r),
        ]
        if let new = push.new {
            // Newest first along first parents, stopping at the old head: one more than fits
            // is enough to know the list was truncated (the world's histories are linear).
            var history: [SandboxCommit] = []
            var cursor: String? = new
            while let hash = cursor, hash != push.old, history.count <= Self.commitsPerChange, let commit = r.commits[hash] {
                history.append(commit)
                cursor = commit.parents.first
            }
            change["commits"] = history.prefix(Self.commitsPerChange).map { commit($0, in: r) }
            change["truncated"] = push.old != nil && history.count > Self.commitsPerChange
            let base = "\(api)/repositories/\(r.fullName)"
            change["links"] = [
                "commits": Self.link("\(base)/commits?include=\(new)" + (push.old.map { "&exclude=\($0)" } ?? "")),
                "html": Self.link("\(origin)/\(r.fullName)/branch/\(Self.escape(push.branch))"),
            ] as [String: Any]
        } else {
            change["truncated"] = false
        }
        return ["push": ["changes": [change]], "repository": shortRepository(r, workspace: w), "actor": user(actor)]
    }

    /// A branch ref at a given head (a deleted branch's old head is no longer in `branches`).
    private func ref(_ name: String, hash: String, in r: SandboxRepository) -> [String: Any] {
        let base = "\(api)/repositories/\(r.fullName)"
        let encoded = Self.escape(name)
        let target: [String: Any] = r.commits[hash].map { commit($0, in: r) } ?? ["type": "commit", "hash": hash]
        return [
            "type": "branch", "name": name, "target": target,
            "merge_strategies": ["merge_commit", "squash", "fast_forward"], "default_merge_strategy": "merge_commit",
            "links": [
                "self": Self.link("\(base)/refs/branches/\(encoded)"), "commits": Self.link("\(base)/commits/\(encoded)"),
                "html": Self.link("\(origin)/\(r.fullName)/branch/\(encoded)"),
            ],
        ]
    }

    /// Whether the old head is no longer an ancestor of the new one.
    private func forced(old: String?, new: String?, in r: SandboxRepository) -> Bool {
        guard let old, let new else { return false }
        return !r.isAncestor(old, of: new)
    }

    /// The repository as deliveries carry it: fewer fields than the REST resource.
    private func shortRepository(_ r: SandboxRepository, workspace w: SandboxWorkspace) -> [String: Any] {
        let full = repository(r, workspace: w)
        var short: [String: Any] = [:]
        for key in ["type", "full_name", "name", "scm", "website", "owner", "workspace", "is_private", "project", "uuid", "parent"] {
            short[key] = full[key]
        }
        let links = full["links"] as? [String: Any] ?? [:]
        short["links"] = ["self": links["self"] as Any, "html": links["html"] as Any, "avatar": links["avatar"] as Any]
        return short
    }
}
