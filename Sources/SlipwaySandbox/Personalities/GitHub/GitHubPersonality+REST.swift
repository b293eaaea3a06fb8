import Foundation

/// GitHub's REST endpoints a dashboard needs: the user and its e-mails and organizations, the
/// repositories it can read (`/user/repos` with `affiliation`, `visibility`, `type`, `sort`,
/// `direction`; `/orgs/{org}/repos`; `/users/{user}/repos`), one repository, its branches, its
/// commits (`sha=` for a branch's history, `commits/{ref}`, the `sha` media type), compare, and
/// the rate limit.
extension GitHubPersonality {
    func rest(_ request: SandboxRequest, credential: Credential, in state: inout WorldState) -> SandboxReply {
        let s = Array(request.segments.dropFirst(2))   // after api/v3
        let world = world(state, for: credential)
        // Links point back at the host the client used.
        let format = GitHubWireFormat(origin: request.headers["host"].map { "http://" + $0 } ?? origin)
        func notFound() -> SandboxReply { .json(404, GitHubWireFormat.error("Not Found", status: 404)) }
        // What a fine-grained token lacking a permission gets, and which permission would do.
        func notAccessible(_ permission: String) -> SandboxReply {
            .json(403, GitHubWireFormat.error("Resource not accessible by personal access token", status: 403),
                  headers: [("X-Accepted-GitHub-Permissions", "\(permission)=read")])
        }
        func list(_ items: [Any]) -> SandboxReply {
            let (body, link) = GitHubPaging.page(items, request: request)
            var reply = SandboxReply.json(200, [:])
            reply.body = JSONText.data(body)
            if let link { reply.headers.append(("Link", link)) }
            return reply
        }

        switch s.count {
        case 1 where s[0] == "user":
            return .json(200, format.user(world.user, workspace: world.workspaces[world.user.nickname]))
        case 1 where s[0] == "rate_limit":
            // Free: it takes back what it spent, and reports each window as it stands.
            state.refund(credential.window, kind: .rest, on: name)
            func window(_ kind: RequestKind) -> [String: Any] {
                let limit = state.limits.perHour(kind, on: name)
                let used = state.used(credential.window, kind: kind, on: name)
                return ["limit": limit, "used": used, "remaining": max(0, limit - used),
                        "reset": Int(state.resetsAt(credential.window, kind: kind, on: name).timeIntervalSince1970)]
            }
            let core = window(.rest)
            return .json(200, ["resources": ["core": core, "graphql": window(.graphql)], "rate": core])
        case 2 where s == ["user", "emails"]:
            // Classic tokens need user:email; fine-grained ones the e-mail addresses permission (granted here).
            if let scopes = credential.scopes, !scopes.contains("user:email") && !scopes.contains("user") {
                return .json(404, GitHubWireFormat.error("Not Found", status: 404))
            }
            if credential.withheld.contains("emails") { return notAccessible("email_addresses") }
            return list(format.emails(world.user))
        case 2 where s == ["user", "orgs"]:
            return list(owners(world, organizations: true).map(format.organization))
        case 2 where s == ["user", "repos"]:
            return userRepositories(request, world: world, format: format, list: list)
        case 3 where s[0] == "orgs" && s[2] == "repos":
            guard let w = world.workspaces[s[1]], !w.isUser else { return notFound() }
            return list(sorted(repositories(of: w, world: world), request: request).map { format.repository($0, owner: w) })
        case 3 where s[0] == "users" && s[2] == "repos":
            guard let w = world.workspaces[s[1]], w.isUser else { return notFound() }
            return list(sorted(repositories(of: w, world: world), request: request).map { format.repository($0, owner: w) })
        case 3... where s[0] == "repos":
            guard let w = world.workspaces[s[1]], let r = world.repository(w.slug, s[2]) else { return notFound() }
            if s.count >= 4, s[3] == "hooks", credential.withheld.contains("webhooks") { return notAccessible("repository_hooks") }
            if s.count >= 4, s[3] == "hooks" { return hooks(request, repository: r, rest: Array(s.dropFirst(4)), format: format, in: &state) }
            return repositoryResource(r, owner: w, rest: Array(s.dropFirst(3)), request: request, format: format, list: list)
        default:
            return notFound()
        }
    }

    /// `2.0`-free paths of hook writes: `api/v3/repos/O/R/hooks[/ID]`.
    func hooksPath(_ s: [String]) -> [String]? {
        guard s.count >= 6, s[0] == "api", s[1] == "v3", s[2] == "repos", s[5] == "hooks" else { return nil }
        return Array(s.dropFirst(6))
    }

    /// Organizations, or other users whose repositories the user collaborates on.
    func owners(_ world: SandboxWorld, organizations: Bool) -> [SandboxWorkspace] {
        world.workspaceOrder.compactMap { world.workspaces[$0] }.filter { organizations ? !$0.isUser : $0.isUser }
    }

    func repositories(of w: SandboxWorkspace, world: SandboxWorld) -> [SandboxRepository] {
        w.repositories.compactMap { world.repository(w.slug, $0) }
    }

    /// `sort` (`created`, `updated`, `pushed`, `full_name` — the default) and `direction`
    /// (`asc` for names, `desc` otherwise, by default).
    func sorted(_ items: [SandboxRepository], request: SandboxRequest) -> [SandboxRepository] {
        let sort = request.query["sort"]?.first ?? "full_name"
        let ascending: Bool
        switch request.query["direction"]?.first {
        case "asc": ascending = true
        case "desc": ascending = false
        default: ascending = sort == "full_name"
        }
        let ordered: [SandboxRepository]
        switch sort {
        case "created": ordered = items.sorted { ($0.createdOn, $0.fullName) < ($1.createdOn, $1.fullName) }
        case "updated", "pushed": ordered = items.sorted { ($0.updatedOn, $0.fullName) < ($1.updatedOn, $1.fullName) }
        default: ordered = items.sorted { $0.fullName.lowercased() < $1.fullName.lowercased() }
        }
        return ascending ? ordered : ordered.reversed()
    }

    /// `/user/repos`: the user's own (`owner`), those it collaborates on (`collaborator`) and its
    /// organizations' (`organization_member`); `type` may not be combined with the other two.
    private func userRepositories(_ request: SandboxRequest, world: SandboxWorld, format: GitHubWireFormat,
                                  list: ([Any]) -> SandboxReply) -> SandboxReply {
        let type = request.query["type"]?.first
        let visibility = request.query["visibility"]?.first
        let affiliation = request.query["affiliation"]?.first
        if type != nil && (visibility != nil || affiliation != nil) {
            return .json(422, ["message": "Validation Failed", "documentation_url": "https://docs.github.com/rest/repos/repos#list-repositories-for-the-authenticated-user",
                               "errors": [["resource": "Repository", "field": "type", "code": "invalid"]], "status": "422"])
        }
        var affiliations = Set((affiliation ?? "owner,collaborator,organization_member").split(separator: ",").map(String.init))
        switch type {
        case "owner": affiliations = ["owner"]
        case "member": affiliations = ["collaborator", "organization_member"]
        default: break
        }
        var items: [(SandboxRepository, SandboxWorkspace)] = []
        for w in world.workspaceOrder.compactMap({ world.workspaces[$0] }) {
            let kind = w.slug == world.user.nickname ? "owner" : w.isUser ? "collaborator" : "organization_member"
            guard affiliations.contains(kind) else { continue }
            items += repositories(of: w, world: world).map { ($0, w) }
        }
        let wanted = type == "public" ? "public" : type == "private" ? "private" : visibility
        if let wanted, wanted != "all" { items = items.filter { ($0.0.isPrivate ? "private" : "public") == wanted } }
        let owners = Dictionary(items.map { ($0.0.fullName, $0.1) }, uniquingKeysWith: { a, _ in a })
        return list(sorted(items.map(\.0), request: request).map { format.repository($0, owner: owners[$0.fullName]!) })
    }

    private func repositoryResource(_ r: SandboxRepository, owner w: SandboxWorkspace, rest: [String], request: SandboxRequest,
                                    format: GitHubWireFormat, list: ([Any]) -> SandboxReply) -> SandboxReply {
        func notFound(_ message: String = "Not Found") -> SandboxReply { .json(404, GitHubWireFormat.error(message, status: 404)) }
        guard let first = rest.first else { return .json(200, format.repository(r, owner: w)) }
        switch first {
        case "branches" where rest.count == 1:
            var names = r.sortedBranchNames
            if let protected = request.query["protected"]?.first { names = names.filter { ($0 == r.mainBranch) == (protected == "true") } }
            return list(names.map { format.branch($0, in: r) })
        case "branches":
            let branch = rest.dropFirst().joined(separator: "/")
            guard r.branches[branch] != nil else { return notFound("Branch not found") }
            return .json(200, format.branchDetail(branch, in: r))
        case "commits" where rest.count == 1:
            let start = request.query["sha"]?.first ?? r.mainBranch
            guard let head = r.resolve(start) else { return notFound("No commit found for SHA: \(start)") }
            var history = r.history(from: [head], excluding: [])
            if let since = request.query["since"]?.first.flatMap(parseTime) { history = history.filter { $0.date >= since } }
            return list(history.map { format.commit($0, in: r) })
        case "commits":
            let ref = rest.dropFirst().joined(separator: "/")
            guard let hash = r.resolve(ref), let commit = r.commits[hash] else {
                return .json(422, GitHubWireFormat.error("No commit found for SHA: \(ref)", status: 422))
            }
            if request.headers["accept"]?.contains("application/vnd.github.sha") == true || request.headers["accept"]?.contains("application/vnd.github.v3.sha") == true {
                return SandboxReply(status: 200, headers: [("Content-Type", "application/vnd.github.sha; charset=utf-8")], body: Data(hash.utf8))
            }
            return .json(200, format.commit(commit, in: r))
        case "compare" where rest.count >= 2:
            let spec = rest.dropFirst().joined(separator: "/")
            let parts = spec.components(separatedBy: "...")
            guard parts.count == 2, let base = r.resolve(parts[0]), let head = r.resolve(parts[1]) else { return notFound() }
            let ahead = r.history(from: [head], excluding: [base])
            let behind = r.history(from: [base], excluding: [head])
            let status = ahead.isEmpty && behind.isEmpty ? "identical" : behind.isEmpty ? "ahead" : ahead.isEmpty ? "behind" : "diverged"
            return .json(200, ["status": status, "ahead_by": ahead.count, "behind_by": behind.count, "total_commits": ahead.count,
                               "base_commit": r.commits[base].map { format.commit($0, in: r) } ?? NSNull(),
                               "commits": ahead.reversed().prefix(250).map { format.commit($0, in: r) },
                               "html_url": "\(format.origin)/\(r.fullName)/compare/\(spec)"])
        default:
            return notFound()
        }
    }

    private func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)
    }
}
