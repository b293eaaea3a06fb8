import Foundation

/// GitLab's REST v4 endpoints the sandbox serves: the user and its token, groups and projects the
/// user is a member of (offset pages, keyset for projects), a project by id or URL-encoded full
/// path, branches with their head commits, commits, compare, and project hooks. `read_api` reads
/// only: any other method needs `api` (GitLab's 403 `insufficient_scope`).
extension GitLabPersonality {
    func rest(_ request: SandboxRequest, credential: Credential, in state: inout WorldState) -> SandboxReply {
        let s = Array(request.segments.dropFirst(2))   // after api/v4
        let world = world(state)
        let format = GitLabWireFormat(origin: request.headers["host"].map { "http://" + $0 } ?? origin)
        func notFound(_ what: String = "404 Not Found") -> SandboxReply { .json(404, GitLabWireFormat.error(what)) }
        if request.method != "GET" && request.method != "HEAD" && !credential.scopes.contains("api") {
            return .json(403, ["error": "insufficient_scope", "error_description": "The request requires higher privileges than provided by the access token.",
                               "scope": "api"])
        }
        switch s.count {
        case 1 where s[0] == "user":
            return .json(200, format.user(world.user))
        case 2 where s == ["personal_access_tokens", "self"]:
            // An OAuth token is no personal access token.
            guard let tokenName = credential.tokenName else { return notFound() }
            return .json(200, ["id": credential.scopes.contains("api") ? 1 : 2, "name": tokenName, "revoked": false, "active": true,
                               "scopes": credential.scopes, "user_id": Int(world.user.accountID) ?? 0,
                               "created_at": GitLabWireFormat.time(world.user.createdOn), "expires_at": "2027-06-30"])
        case 1 where s[0] == "groups":
            let least = Int(request.query["min_access_level"]?.first ?? "") ?? 0
            let groups = groups(world).filter { least <= (($0.isAdmin ? 40 : 30)) }
            let topOnly = request.query["top_level_only"]?.first == "true"
            return GitLabPaging.offset(groups.filter { !topOnly || !$0.slug.contains("/") }.map { format.group($0, parent: parent(of: $0, in: world)) },
                                       request: request)
        case 1 where s[0] == "projects":
            return projects(request, world: world, format: format)
        case 2... where s[0] == "projects":
            guard let (r, w) = project(s[1], in: world) else { return notFound("404 Project Not Found") }
            let rest = Array(s.dropFirst(2))
            if rest.first == "hooks" { return hooks(request, repository: r, owner: w, rest: Array(rest.dropFirst()), format: format, in: &state) }
            return projectResource(r, owner: w, rest: rest, request: request, format: format, world: world)
        default:
            return notFound()
        }
    }

    /// Every group the user is a member of, subgroups included, in creation order.
    func groups(_ world: SandboxWorld) -> [SandboxWorkspace] {
        world.workspaceOrder.compactMap { world.workspaces[$0] }.filter { !$0.isUser }
    }

    func parent(of w: SandboxWorkspace, in world: SandboxWorld) -> SandboxWorkspace? {
        guard let slash = w.slug.lastIndex(of: "/") else { return nil }
        return world.workspaces[String(w.slug[..<slash])]
    }

    /// `:id` is the number or the URL-encoded full path (decoded already: one segment).
    func project(_ id: String, in world: SandboxWorld) -> (SandboxRepository, SandboxWorkspace)? {
        let found = Int(id).flatMap { number in world.repositories.values.first { $0.number == number } } ?? world.repositories[id]
        guard let r = found, let w = world.workspaces[r.workspace] else { return nil }
        return (r, w)
    }

    /// `/projects?membership=true`: `order_by` (`created_at` by default, `id`, `name`, `path`,
    /// `updated_at`, `last_activity_at`), `sort` (`desc` by default), `min_access_level`, and
    /// `pagination=keyset` (only with `order_by=id`) paged by `id_after`.
    private func projects(_ request: SandboxRequest, world: SandboxWorld, format: GitLabWireFormat) -> SandboxReply {
        var items: [(SandboxRepository, SandboxWorkspace)] = []
        for w in world.workspaceOrder.compactMap({ world.workspaces[$0] }) {
            items += w.repositories.compactMap { world.repository(w.slug, $0) }.map { ($0, w) }
        }
        if let least = Int(request.query["min_access_level"]?.first ?? "") {
            items = items.filter { GitLabWireFormat.accessLevel($0.0, in: $0.1) >= least }
        }
        let order = request.query["order_by"]?.first ?? "created_at"
        let ascending = request.query["sort"]?.first == "asc"
        func key(_ r: SandboxRepository) -> (Double, String) {
            switch order {
            case "id": (Double(r.number), "")
            case "name": (0, r.name.lowercased())
            case "path": (0, r.slug)
            case "updated_at": (r.updatedOn.timeIntervalSince1970, r.fullName)
            case "last_activity_at": ((r.activityAt ?? r.updatedOn).timeIntervalSince1970, r.fullName)
            default: (r.createdOn.timeIntervalSince1970, r.fullName)
            }
        }
        items.sort { ascending ? key($0.0) < key($1.0) : key($0.0) > key($1.0) }
        if request.query["pagination"]?.first == "keyset" {
            guard order == "id" else {
                return .json(405, GitLabWireFormat.error("405 Method Not Allowed - Keyset pagination is not yet available for this type of request"))
            }
            if let after = Int(request.query["id_after"]?.first ?? "") { items = items.filter { ascending ? $0.0.number > after : $0.0.number < after } }
            return GitLabPaging.keyset(items.map { format.project($0.0, in: $0.1, parent: parent(of: $0.1, in: world)) }, request: request)
        }
        return GitLabPaging.offset(items.map { format.project($0.0, in: $0.1, parent: parent(of: $0.1, in: world)) }, request: request)
    }

    private func projectResource(_ r: SandboxRepository, owner w: SandboxWorkspace, rest: [String], request: SandboxRequest,
                                 format: GitLabWireFormat, world: SandboxWorld) -> SandboxReply {
        func notFound(_ what: String) -> SandboxReply { .json(404, GitLabWireFormat.error(what)) }
        guard let first = rest.first else { return .json(200, format.project(r, in: w, parent: parent(of: w, in: world))) }
        guard first == "repository", rest.count >= 2 else { return notFound("404 Not Found") }
        switch rest[1] {
        case "branches" where rest.count == 2:
            var names = r.sortedBranchNames
            if let search = request.query["search"]?.first, !search.isEmpty { names = names.filter { $0.contains(search) } }
            return GitLabPaging.offset(names.map { format.branch($0, in: r) }, request: request)
        case "branches":
            let branch = rest.dropFirst(2).joined(separator: "/")
            guard r.branches[branch] != nil else { return notFound("404 Branch Not Found") }
            return .json(200, format.branch(branch, in: r))
        case "commits" where rest.count == 2:
            let start = request.query["ref_name"]?.first ?? r.mainBranch
            guard let head = r.resolve(start) else { return notFound("404 Commit Not Found") }
            return GitLabPaging.offset(r.history(from: [head], excluding: []).map { format.commit($0, in: r) }, request: request)
        case "commits":
            let ref = rest.dropFirst(2).joined(separator: "/")
            guard let hash = r.resolve(ref), let commit = r.commits[hash] else { return notFound("404 Commit Not Found") }
            return .json(200, format.commit(commit, in: r))
        case "compare" where rest.count == 2:
            guard let from = request.query["from"]?.first.flatMap(r.resolve), let to = request.query["to"]?.first.flatMap(r.resolve) else {
                return notFound("404 Ref Not Found")
            }
            // Oldest first, as GitLab lists them.
            let commits = r.history(from: [to], excluding: [from]).reversed().map { format.commit($0, in: r) }
            return .json(200, ["commit": r.commits[to].map { format.commit($0, in: r) } ?? NSNull(), "commits": Array(commits), "diffs": [Any](),
                               "compare_timeout": false, "compare_same_ref": from == to, "web_url": "\(format.origin)/\(r.fullName)/-/compare/\(from)...\(to)"])
        default:
            return notFound("404 Not Found")
        }
    }
}

/// GitLab's pagination: offset (`page`, `per_page` default 20 and at most 100; `x-page`,
/// `x-per-page`, `x-next-page`, `x-prev-page`, and `x-total`/`x-total-pages` with a `last` link
/// only up to 10,000 items) and keyset (`id_after` in the `next` link, no totals).
enum GitLabPaging {
    static let totalsLimit = 10_000

    static func perPage(_ request: SandboxRequest) -> Int { min(100, max(1, Int(request.query["per_page"]?.first ?? "") ?? 20)) }

    static func offset(_ items: [[String: Any]], request: SandboxRequest) -> SandboxReply {
        let perPage = perPage(request)
        let page = max(1, Int(request.query["page"]?.first ?? "") ?? 1)
        let start = (page - 1) * perPage
        let slice = start < items.count ? Array(items[start..<min(items.count, start + perPage)]) : []
        let last = max(1, (items.count + perPage - 1) / perPage)
        var headers: [(String, String)] = [("x-page", String(page)), ("x-per-page", String(perPage)),
                                           ("x-next-page", page < last ? String(page + 1) : ""), ("x-prev-page", page > 1 ? String(page - 1) : "")]
        var links: [String] = []
        if page > 1 { links.append(link(request, ["page": String(page - 1)], rel: "prev")) }
        if page < last { links.append(link(request, ["page": String(page + 1)], rel: "next")) }
        links.append(link(request, ["page": "1"], rel: "first"))
        if items.count <= totalsLimit {
            headers += [("x-total", String(items.count)), ("x-total-pages", String(last))]
            links.append(link(request, ["page": String(last)], rel: "last"))
        }
        headers.append(("Link", links.joined(separator: ", ")))
        var reply = SandboxReply.json(200, [:], headers: headers)
        reply.body = JSONText.data(slice)
        return reply
    }

    static func keyset(_ items: [[String: Any]], request: SandboxRequest) -> SandboxReply {
        let perPage = perPage(request)
        let slice = Array(items.prefix(perPage))
        var headers: [(String, String)] = []
        if items.count > perPage, let last = slice.last?["id"] as? Int {
            headers.append(("Link", link(request, ["id_after": String(last)], rel: "next")))
        }
        var reply = SandboxReply.json(200, [:], headers: headers)
        reply.body = JSONText.data(slice)
        return reply
    }

    private static func link(_ request: SandboxRequest, _ changes: [String: String], rel: String) -> String {
        var components = request.url
        var items = (components.queryItems ?? []).filter { changes[$0.name] == nil }
        for (name, value) in changes.sorted(by: { $0.key < $1.key }) { items.append(URLQueryItem(name: name, value: value)) }
        components.queryItems = items
        return "<\(components.string ?? "")>; rel=\"\(rel)\""
    }
}
