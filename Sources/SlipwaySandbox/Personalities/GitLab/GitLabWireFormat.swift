import Foundation

/// GitLab's REST v4 JSON shapes, built from the world: the user, groups by full path with their
/// parents, projects with `namespace` and the user's access levels, branches whose `commit` carries
/// the details, commits, compare, hooks and `Push Hook` payloads, with the documented field names
/// (`path_with_namespace`, `author_name`, ISO 8601 times with milliseconds).
struct GitLabWireFormat {
    /// `http://127.0.0.1:PORT` — web pages and git at the root, the API under `/api/v4`.
    let origin: String

    var api: String { origin + "/api/v4" }

    /// `2026-11-20T10:11:12.000Z`, as GitLab writes them.
    static func time(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).000Z"
    }

    /// `{"message": "404 Project Not Found"}`.
    static func error(_ message: String) -> [String: Any] { ["message": message] }

    /// The user's access level on a project: owner of its own namespace, else by its role.
    static func accessLevel(_ r: SandboxRepository, in w: SandboxWorkspace) -> Int {
        if w.isUser { return 50 }
        switch r.role {
        case "admin": return 40
        case "contributor": return 30
        default: return 20
        }
    }

    func user(_ u: SandboxUser) -> [String: Any] {
        ["id": Int(u.accountID) ?? 0, "username": u.nickname, "name": u.displayName, "state": "active", "locked": false,
         "avatar_url": NSNull(), "web_url": "\(origin)/\(u.nickname)", "created_at": Self.time(u.createdOn), "bio": "", "bot": false,
         "public_email": "", "email": u.email, "commit_email": u.email]
    }

    func group(_ w: SandboxWorkspace, parent: SandboxWorkspace?) -> [String: Any] {
        let path = String(w.slug.split(separator: "/").last!)
        return ["id": w.number, "name": w.name, "path": path, "full_name": w.slug.split(separator: "/").joined(separator: " / "),
                "full_path": w.slug, "parent_id": parent.map { $0.number as Any } ?? NSNull(), "visibility": "private",
                "web_url": "\(origin)/groups/\(w.slug)", "description": "", "created_at": Self.time(w.createdOn)]
    }

    func namespace(_ w: SandboxWorkspace, parent: SandboxWorkspace?) -> [String: Any] {
        ["id": w.number, "name": w.name, "path": String(w.slug.split(separator: "/").last!), "kind": w.isUser ? "user" : "group",
         "full_path": w.slug, "parent_id": parent.map { $0.number as Any } ?? NSNull(), "avatar_url": NSNull(),
         "web_url": w.isUser ? "\(origin)/\(w.slug)" : "\(origin)/groups/\(w.slug)"]
    }

    func project(_ r: SandboxRepository, in w: SandboxWorkspace, parent: SandboxWorkspace?) -> [String: Any] {
        let level = Self.accessLevel(r, in: w)
        let access: [String: Any] = ["access_level": level, "notification_level": 3]
        return ["id": r.number, "name": r.name, "path": r.slug, "path_with_namespace": r.fullName,
                "name_with_namespace": (w.slug.split(separator: "/").map(String.init) + [r.name]).joined(separator: " / "),
                "description": r.description, "default_branch": r.mainBranch, "visibility": r.isPrivate ? "private" : "public",
                "web_url": "\(origin)/\(r.fullName)", "http_url_to_repo": "\(origin)/\(r.fullName).git", "ssh_url_to_repo": "git@sandbox:\(r.fullName).git",
                "created_at": Self.time(r.createdOn), "last_activity_at": Self.time(r.activityAt ?? r.updatedOn), "archived": false,
                "namespace": namespace(w, parent: parent),
                "permissions": ["project_access": w.isUser ? access as Any : NSNull(), "group_access": w.isUser ? NSNull() : access as Any]]
    }

    func commit(_ c: SandboxCommit, in r: SandboxRepository) -> [String: Any] {
        let who = GitHubWireFormat.person(c.author)
        let message = c.message
        let title = String(message.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        return ["id": c.hash, "short_id": String(c.hash.prefix(8)), "title": title, "message": message,
                "author_name": who.name, "author_email": who.email, "authored_date": Self.time(c.date),
                "committer_name": who.name, "committer_email": who.email, "committed_date": Self.time(c.date),
                "created_at": Self.time(c.date), "parent_ids": c.parents, "web_url": "\(origin)/\(r.fullName)/-/commit/\(c.hash)"]
    }

    func branch(_ name: String, in r: SandboxRepository) -> [String: Any] {
        var object: [String: Any] = ["name": name, "merged": false, "protected": name == r.mainBranch, "default": name == r.mainBranch,
                                     "developers_can_push": false, "developers_can_merge": false, "can_push": r.role != "member",
                                     "web_url": "\(origin)/\(r.fullName)/-/tree/\(name)"]
        if let hash = r.branches[name], let c = r.commits[hash] { object["commit"] = commit(c, in: r) }
        return object
    }

    func hook(_ h: SandboxHook, projectID: Int, signingTokens: Bool) -> [String: Any] {
        var hook = hookFields(h, projectID: projectID)
        if signingTokens { hook["signing_token_present"] = h.signingKey != nil }
        return hook
    }

    private func hookFields(_ h: SandboxHook, projectID: Int) -> [String: Any] {
        ["id": Int(h.uuid) ?? 0, "url": h.url, "name": h.description, "description": h.description, "project_id": projectID,
         "push_events": h.events.contains("push_events"), "tag_push_events": false, "merge_requests_events": false,
         "enable_ssl_verification": true, "token_present": h.secret != nil, "alert_status": "executable",
         "created_at": Self.time(h.createdAt)]
    }

    /// A `Push Hook` body: the newest 20 commits, oldest first; `before`/`after` zeros for a
    /// created or deleted branch.
    func pushPayload(_ push: SandboxPush, repository r: SandboxRepository, owner w: SandboxWorkspace, actor u: SandboxUser) -> [String: Any] {
        let zero = String(repeating: "0", count: 40)
        let commits = push.new.map { head in r.history(from: [head], excluding: push.old.map { [$0] } ?? []) } ?? []
        let shown = commits.prefix(20).reversed().map { c -> [String: Any] in
            let who = GitHubWireFormat.person(c.author)
            return ["id": c.hash, "message": c.message, "title": String(c.message.split(separator: "\n").first ?? ""),
                    "timestamp": Self.time(c.date), "url": "\(origin)/\(r.fullName)/-/commit/\(c.hash)",
                    "author": ["name": who.name, "email": who.email], "added": [String](), "modified": ["README.md"], "removed": [String]()]
        }
        let project: [String: Any] = ["id": r.number, "name": r.name, "description": r.description, "web_url": "\(origin)/\(r.fullName)",
                                      "avatar_url": NSNull(), "git_ssh_url": "git@sandbox:\(r.fullName).git", "git_http_url": "\(origin)/\(r.fullName).git",
                                      "namespace": w.name, "visibility_level": r.isPrivate ? 0 : 20, "path_with_namespace": r.fullName,
                                      "default_branch": r.mainBranch, "homepage": "\(origin)/\(r.fullName)",
                                      "url": "git@sandbox:\(r.fullName).git", "ssh_url": "git@sandbox:\(r.fullName).git",
                                      "http_url": "\(origin)/\(r.fullName).git"]
        return ["object_kind": "push", "event_name": "push", "before": push.old ?? zero, "after": push.new ?? zero,
                "ref": "refs/heads/\(push.branch)", "ref_protected": push.branch == r.mainBranch, "checkout_sha": push.new ?? NSNull(),
                "user_id": Int(u.accountID) ?? 0, "user_name": u.displayName, "user_username": u.nickname, "user_email": "",
                "user_avatar": NSNull(), "project_id": r.number, "project": project,
                "repository": ["name": r.name, "url": "git@sandbox:\(r.fullName).git", "description": r.description, "homepage": "\(origin)/\(r.fullName)"],
                "commits": Array(shown), "total_commits_count": commits.count]
    }
}
