import Foundation

/// Bitbucket's read-only REST API 2.0 over one host's world: the user, workspaces, repositories
/// (`role`, `q`, `sort`), branches, commits (`include`/`exclude`) and single commits, with
/// `fields` filtering and Bitbucket's two pagination styles. Hooks, which write, are the
/// personality's own (`BitbucketPersonality+Hooks`).
struct BitbucketREST {
    let world: SandboxWorld
    /// Where links point when the request names no host.
    let origin: String

    func respond(to request: SandboxRequest) -> SandboxReply {
        let s = request.segments
        // Links point back at the host the client used (127.0.0.1 or localhost alike).
        let format = WireFormat(origin: request.headers["host"].map { "http://" + $0 } ?? origin)
        guard s.first == "2.0" else { return .notFound("Resource not found") }
        let fields = request.query["fields"]?.first
        func page(_ object: [String: Any]) -> SandboxReply { .json(200, FieldFilter.apply(fields, to: object)) }
        let path = Array(s.dropFirst())

        switch path.count {
        case 1 where path[0] == "user":
            return page(format.user(world.user))
        case 2 where path == ["user", "emails"]:
            return page(Paging.listPage(items: format.emails(world.user), query: request.query, requestURL: request.url, defaultPagelen: 10))
        case 2 where path == ["user", "workspaces"]:
            var items = world.workspaceOrder.compactMap { world.workspaces[$0] }
            if let admin = request.query["administrator"]?.first { items = items.filter { $0.isAdmin == (admin == "true") } }
            if request.query["sort"]?.first == "-slug" { items.sort { $0.slug > $1.slug } } else { items.sort { $0.slug < $1.slug } }
            return page(Paging.listPage(items: items.map(format.workspaceAccess), query: request.query, requestURL: request.url, defaultPagelen: 25))
        case 1 where path[0] == "workspaces":
            // Deprecated, still answered: every workspace the user is in, optionally by role.
            var items = world.workspaceOrder.compactMap { world.workspaces[$0] }
            switch request.query["role"]?.first {
            case "owner": items = items.filter(\.isAdmin)
            case "collaborator", "member", nil: break
            default: return .json(400, WireFormat.error("Invalid role"))
            }
            return page(Paging.listPage(items: items.map(format.workspace), query: request.query, requestURL: request.url, defaultPagelen: 10))
        case 2 where path[0] == "workspaces":
            guard let w = workspace(path[1]) else { return .notFound("No workspace with identifier '\(path[1])'.") }
            return page(format.workspace(w))
        case 2 where path[0] == "repositories":
            guard let w = workspace(path[1]) else { return .notFound("No workspace with identifier '\(path[1])'.") }
            return repositories(of: w, request: request, format: format, fields: fields)
        case 3... where path[0] == "repositories":
            guard let w = workspace(path[1]) else { return .notFound("No workspace with identifier '\(path[1])'.") }
            guard let r = repository(w, path[2]) else { return .notFound("Repository \(w.slug)/\(path[2]) not found") }
            return repositoryResource(r, workspace: w, rest: Array(path.dropFirst(3)), request: request, format: format, fields: fields)
        default:
            return .notFound("Resource not found")
        }
    }

    func workspace(_ id: String) -> SandboxWorkspace? {
        if let w = world.workspaces[id] { return w }
        return world.workspaces.values.first { $0.uuid == id }
    }

    func repository(_ w: SandboxWorkspace, _ id: String) -> SandboxRepository? {
        if let r = world.repository(w.slug, id) { return r }
        return w.repositories.lazy.compactMap { world.repository(w.slug, $0) }.first { $0.uuid == id }
    }

    func repositories(of w: SandboxWorkspace, request: SandboxRequest, format: WireFormat, fields: String?) -> SandboxReply {
        var items = w.repositories.compactMap { world.repository(w.slug, $0) }
        switch request.query["role"]?.first {
        case nil, "member": break
        case "contributor": items = items.filter { $0.role == "contributor" || $0.role == "admin" }
        case "admin": items = items.filter { $0.role == "admin" }
        case "owner": items = items.filter { $0.role == "admin" && w.isAdmin }
        case let other?: return .json(400, WireFormat.error("'\(other)' is not a valid role", detail: "role must be member, contributor, admin or owner"))
        }
        if let q = request.query["q"]?.first, !q.isEmpty {
            switch Query.parse(q) {
            case let .success(query): items = items.filter { query.matches(repository: $0) }
            case let .failure(message): return .json(400, WireFormat.error(message.text))
            }
        }
        if let sort = request.query["sort"]?.first {
            let descending = sort.hasPrefix("-")
            let key = descending ? String(sort.dropFirst()) : sort
            let ascending: (SandboxRepository, SandboxRepository) -> Bool
            switch key {
            case "updated_on": ascending = { ($0.updatedOn, $0.slug) < ($1.updatedOn, $1.slug) }
            case "created_on": ascending = { ($0.createdOn, $0.slug) < ($1.createdOn, $1.slug) }
            case "name": ascending = { $0.name.lowercased() < $1.name.lowercased() }
            case "slug": ascending = { $0.slug < $1.slug }
            default: return .json(400, WireFormat.error("Invalid sort field: \(key)"))
            }
            items.sort { descending ? ascending($1, $0) : ascending($0, $1) }
        }
        let object = Paging.listPage(items: items.map { format.repository($0, workspace: w) }, query: request.query,
                                     requestURL: request.url, defaultPagelen: 10)
        return .json(200, FieldFilter.apply(fields, to: object))
    }

    func repositoryResource(_ r: SandboxRepository, workspace w: SandboxWorkspace, rest: [String], request: SandboxRequest,
                                    format: WireFormat, fields: String?) -> SandboxReply {
        func reply(_ object: [String: Any]) -> SandboxReply { .json(200, FieldFilter.apply(fields, to: object)) }
        guard let first = rest.first else { return reply(format.repository(r, workspace: w)) }
        switch first {
        case "refs" where rest.count >= 2 && rest[1] == "branches":
            if rest.count > 2 {
                let name = rest.dropFirst(2).joined(separator: "/")
                guard r.branches[name] != nil else { return .notFound("Branch \"\(name)\" does not exist.") }
                return reply(format.branch(name, in: r))
            }
            var names = r.sortedBranchNames
            if let q = request.query["q"]?.first, !q.isEmpty {
                switch Query.parse(q) {
                case let .success(query): names = names.filter { query.matches(branch: $0) }
                case let .failure(message): return .json(400, WireFormat.error(message.text))
                }
            }
            switch request.query["sort"]?.first {
            case nil: break
            case "name": names.sort { $0.localizedStandardCompare($1) == .orderedAscending }
            case "-name": names.sort { $0.localizedStandardCompare($1) == .orderedDescending }
            case let other?: return .json(400, WireFormat.error("Invalid sort field: \(other)"))
            }
            return reply(Paging.listPage(items: names.map { format.branch($0, in: r) }, query: request.query, requestURL: request.url, defaultPagelen: 10))
        case "commits":
            var heads: [String] = []
            if rest.count > 1 {
                let revision = rest.dropFirst().joined(separator: "/")
                guard let head = r.resolve(revision) else { return .notFound("Revision \(revision) not found") }
                heads.append(head)
            }
            for include in request.query["include"] ?? [] {
                guard let head = r.resolve(include) else { return .notFound("Revision \(include) not found") }
                heads.append(head)
            }
            if heads.isEmpty { heads = Array(r.branches.values) }
            var excludes: [String] = []
            for exclude in request.query["exclude"] ?? [] {
                guard let hash = r.resolve(exclude) else { return .notFound("Revision \(exclude) not found") }
                excludes.append(hash)
            }
            let commits = r.history(from: heads, excluding: excludes)
            return reply(Paging.iteratorPage(items: commits.map { format.commit($0, in: r) }, query: request.query,
                                             requestURL: request.url, defaultPagelen: 30))
        case "commit" where rest.count == 2:
            guard let commit = r.commit(matching: rest[1]) else { return .notFound("Commit \(rest[1]) not found") }
            return reply(format.commit(commit, in: r))
        default:
            return .notFound("Resource not found")
        }
    }

}
