import Foundation

/// GitHub's REST JSON shapes, built from the world: users, organizations, repositories with the
/// viewer's `permissions`, branches, commits, hooks and push payloads, with the field names and
/// nesting of the documented responses (`owner` objects, `*_url` links, ISO 8601 `Z` times).
struct GitHubWireFormat {
    /// `http://127.0.0.1:PORT` — web pages and git at the root, the API under `/api/v3`.
    let origin: String

    var api: String { origin + "/api/v3" }

    /// `2026-11-20T10:11:12Z`: GitHub sends whole seconds in UTC.
    static func time(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Digits by hand: String(format:) is a large share of a big listing's cost.
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    static func error(_ message: String, status: Int) -> [String: Any] {
        ["message": message, "documentation_url": "https://docs.github.com/rest", "status": String(status)]
    }

    static func escape(_ segment: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#/")
        return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
    }

    /// `Name <email>` → (name, email).
    static func person(_ raw: String) -> (name: String, email: String) {
        guard let open = raw.lastIndex(of: "<"), raw.hasSuffix(">") else { return (raw, "") }
        return (raw[..<open].trimmingCharacters(in: .whitespaces), String(raw[raw.index(after: open)..<raw.index(before: raw.endIndex)]))
    }

    func owner(_ w: SandboxWorkspace) -> [String: Any] {
        ["login": w.slug, "id": w.number, "node_id": "MDQ6VXNlcj\(w.number)", "type": w.isUser ? "User" : "Organization",
         "url": "\(api)/\(w.isUser ? "users" : "orgs")/\(w.slug)", "html_url": "\(origin)/\(w.slug)", "site_admin": false]
    }

    func user(_ u: SandboxUser, workspace: SandboxWorkspace?) -> [String: Any] {
        ["login": u.nickname, "id": Int(u.accountID) ?? 0, "node_id": "MDQ6VXNlcj\(u.accountID)", "type": "User", "site_admin": false,
         "name": u.displayName, "company": NSNull(), "blog": "", "location": NSNull(), "email": NSNull(), "hireable": NSNull(), "bio": NSNull(),
         "url": "\(api)/users/\(u.nickname)", "html_url": "\(origin)/\(u.nickname)", "repos_url": "\(api)/users/\(u.nickname)/repos",
         "public_repos": workspace?.repositories.count ?? 0, "followers": 0, "following": 0,
         "created_at": Self.time(u.createdOn), "updated_at": Self.time(u.createdOn)]
    }

    /// `/user/emails`: the primary address first, then a noreply one.
    func emails(_ u: SandboxUser) -> [[String: Any]] {
        [["email": u.email, "primary": true, "verified": true, "visibility": "private"],
         ["email": "\(u.accountID)+\(u.nickname)@users.noreply.github.com", "primary": false, "verified": true, "visibility": NSNull()]]
    }

    func organization(_ w: SandboxWorkspace) -> [String: Any] {
        ["login": w.slug, "id": w.number, "node_id": "MDEyOk9yZ2FuaXphdGlvbj\(w.number)", "url": "\(api)/orgs/\(w.slug)",
         "repos_url": "\(api)/orgs/\(w.slug)/repos", "hooks_url": "\(api)/orgs/\(w.slug)/hooks", "description": NSNull()]
    }

    func cloneURL(_ r: SandboxRepository) -> String { "\(origin)/\(r.fullName).git" }

    /// The viewer's permissions on a repository, from its role in the world.
    static func permissions(_ r: SandboxRepository) -> [String: Bool] {
        let admin = r.role == "admin"
        let push = admin || r.role == "contributor"
        return ["admin": admin, "maintain": admin, "push": push, "triage": push, "pull": true]
    }

    func repository(_ r: SandboxRepository, owner w: SandboxWorkspace) -> [String: Any] {
        let base = "\(api)/repos/\(r.fullName)"
        return ["id": r.number, "node_id": "MDEwOlJlcG9zaXRvcnk\(r.number)", "name": r.slug, "full_name": r.fullName, "private": r.isPrivate,
                "owner": owner(w), "html_url": "\(origin)/\(r.fullName)", "description": r.description, "fork": false, "url": base,
                "hooks_url": "\(base)/hooks", "branches_url": "\(base)/branches{/branch}", "commits_url": "\(base)/commits{/sha}",
                "compare_url": "\(base)/compare/{base}...{head}",
                "created_at": Self.time(r.createdOn), "updated_at": Self.time(r.updatedOn), "pushed_at": Self.time(r.updatedOn),
                "git_url": "git://\(origin.dropFirst("http://".count))/\(r.fullName).git", "ssh_url": "git@sandbox:\(r.fullName).git",
                "clone_url": cloneURL(r), "svn_url": "\(origin)/\(r.fullName)", "homepage": NSNull(), "size": r.commits.count,
                "language": r.language, "archived": false, "disabled": false, "visibility": r.isPrivate ? "private" : "public",
                "default_branch": r.mainBranch, "permissions": Self.permissions(r)]
    }

    func commitSummary(_ hash: String, in r: SandboxRepository) -> [String: Any] {
        ["sha": hash, "url": "\(api)/repos/\(r.fullName)/commits/\(hash)"]
    }

    func branch(_ name: String, in r: SandboxRepository) -> [String: Any] {
        ["name": name, "commit": commitSummary(r.branches[name] ?? "", in: r), "protected": name == r.mainBranch,
         "protection_url": "\(api)/repos/\(r.fullName)/branches/\(Self.escape(name))/protection"]
    }

    /// A branch with its full head commit (`GET …/branches/{branch}`).
    func branchDetail(_ name: String, in r: SandboxRepository) -> [String: Any] {
        var object = branch(name, in: r)
        if let hash = r.branches[name], let c = r.commits[hash] { object["commit"] = commit(c, in: r) }
        object["_links"] = ["self": "\(api)/repos/\(r.fullName)/branches/\(Self.escape(name))", "html": "\(origin)/\(r.fullName)/tree/\(name)"]
        return object
    }

    func commit(_ c: SandboxCommit, in r: SandboxRepository) -> [String: Any] {
        let who = Self.person(c.author)
        let actor: [String: Any] = ["name": who.name, "email": who.email, "date": Self.time(c.date)]
        return ["sha": c.hash, "node_id": "C_\(c.hash.prefix(20))", "url": "\(api)/repos/\(r.fullName)/commits/\(c.hash)",
                "html_url": "\(origin)/\(r.fullName)/commit/\(c.hash)",
                "commit": ["author": actor, "committer": actor, "message": c.message.trimmingCharacters(in: .newlines),
                           "tree": ["sha": String(c.hash.reversed()), "url": "\(api)/repos/\(r.fullName)/git/trees/\(String(c.hash.reversed()))"],
                           "url": "\(api)/repos/\(r.fullName)/git/commits/\(c.hash)", "comment_count": 0],
                "author": NSNull(), "committer": NSNull(),
                "parents": c.parents.map { ["sha": $0, "url": "\(api)/repos/\(r.fullName)/commits/\($0)", "html_url": "\(origin)/\(r.fullName)/commit/\($0)"] }]
    }

    func hook(_ h: SandboxHook, in r: SandboxRepository) -> [String: Any] {
        let base = "\(api)/repos/\(r.fullName)/hooks/\(h.uuid)"
        var config: [String: Any] = ["url": h.url, "content_type": "json", "insecure_ssl": "0"]
        if h.secret != nil { config["secret"] = "********" }
        return ["type": "Repository", "id": Int(h.uuid) ?? 0, "name": "web", "active": h.active, "events": h.events, "config": config,
                "created_at": Self.time(h.createdAt), "updated_at": Self.time(h.createdAt), "url": base, "test_url": "\(base)/test",
                "ping_url": "\(base)/pings", "deliveries_url": "\(base)/deliveries",
                "last_response": ["code": NSNull(), "status": "unused", "message": NSNull()]]
    }

    /// The `push` event's payload: ref, before/after (zero SHAs for created or deleted branches),
    /// the commits between them (oldest first, at most 20), head_commit, repository, pusher, sender.
    func pushPayload(_ push: SandboxPush, repository r: SandboxRepository, owner w: SandboxWorkspace, actor: SandboxUser) -> [String: Any] {
        let zero = String(repeating: "0", count: 40)
        var commits: [SandboxCommit] = []
        var cursor = push.new
        while let hash = cursor, hash != push.old, commits.count < 20, let c = r.commits[hash] {
            commits.append(c)
            cursor = c.parents.first
        }
        func item(_ c: SandboxCommit) -> [String: Any] {
            let who = Self.person(c.author)
            let person: [String: Any] = ["name": who.name, "email": who.email]
            return ["id": c.hash, "tree_id": String(c.hash.reversed()), "distinct": true, "message": c.message.trimmingCharacters(in: .newlines),
                    "timestamp": Self.time(c.date), "url": "\(origin)/\(r.fullName)/commit/\(c.hash)", "author": person, "committer": person,
                    "added": [], "removed": [], "modified": ["README.md"]]
        }
        let forced = push.old != nil && push.new != nil && !r.isAncestor(push.old!, of: push.new!)
        var repository = self.repository(r, owner: w)
        repository["pushed_at"] = Int(r.updatedOn.timeIntervalSince1970)   // epoch seconds in push payloads
        repository["created_at"] = Int(r.createdOn.timeIntervalSince1970)
        repository.removeValue(forKey: "permissions")
        return ["ref": "refs/heads/\(push.branch)", "before": push.old ?? zero, "after": push.new ?? zero,
                "created": push.old == nil, "deleted": push.new == nil, "forced": forced, "base_ref": NSNull(),
                "compare": "\(origin)/\(r.fullName)/compare/\((push.old ?? zero).prefix(12))...\((push.new ?? zero).prefix(12))",
                "commits": commits.reversed().map(item), "head_commit": commits.first.map(item) ?? NSNull(),
                "repository": repository, "pusher": ["name": actor.nickname, "email": actor.email],
                "sender": ["login": actor.nickname, "id": Int(actor.accountID) ?? 0, "type": "User"]]
    }
}
