import Foundation
import GraphQL

/// The resolvers of the sandbox's GitHub schema: world values become GraphQL objects (plain
/// dictionaries, read by the engine's default resolver), connections page by `first`/`last` and
/// opaque cursors, as GitHub's do.
/// A resolver's failure: the engine places it (path and locations) as GitHub places its errors.
struct ResolveError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum Resolvers {
    typealias Source = GitHubGraphQLSchema.Source

    static func context(_ any: any Sendable) -> GitHubGraphQLContext? { any as? GitHubGraphQLContext }

    // MARK: Objects

    static func viewer(_ any: any Sendable) -> Source? {
        guard let context = context(any) else { return nil }
        let u = context.world.user
        return ["__typename": "User", "id": "U_\(u.accountID)", "databaseId": Int(u.accountID) ?? 0, "login": u.nickname, "name": u.displayName,
                "email": "", "url": "\(context.format.origin)/\(u.nickname)", "_owner": u.nickname, "_viewer": true]
    }

    static func owner(_ login: String, _ any: any Sendable, kind: String?) -> Source? {
        guard let context = context(any), let w = context.world.workspaces[login] else { return nil }
        let type = w.isUser ? "User" : "Organization"
        if let kind, kind != type { return nil }
        if w.slug == context.world.user.nickname { return viewer(any) }
        return ["__typename": type, "id": "\(w.isUser ? "U" : "O")_\(w.number)", "databaseId": w.number, "login": w.slug, "name": w.name,
                "email": "", "url": "\(context.format.origin)/\(w.slug)", "_owner": w.slug]
    }

    static func repository(_ r: SandboxRepository, _ context: GitHubGraphQLContext) -> Source {
        let owner = Self.owner(r.workspace, context, kind: nil) ?? [:]
        let permission = r.role == "admin" ? "ADMIN" : r.role == "contributor" ? "WRITE" : "READ"
        var object: Source = ["id": "R_\(r.number)", "databaseId": r.number, "name": r.slug, "nameWithOwner": r.fullName, "owner": owner,
                              "isPrivate": r.isPrivate, "isArchived": false, "isFork": false, "viewerPermission": permission,
                              "pushedAt": GitHubWireFormat.time(r.updatedOn), "updatedAt": GitHubWireFormat.time(r.updatedOn),
                              "createdAt": GitHubWireFormat.time(r.createdOn), "url": "\(context.format.origin)/\(r.fullName)",
                              "sshUrl": "git@sandbox:\(r.fullName).git", "description": r.description, "_repository": r.fullName]
        if r.branches[r.mainBranch] != nil { object["defaultBranchRef"] = ref(r.mainBranch, prefix: "refs/heads/", in: r, context) }
        return object
    }

    static func ref(_ name: String, prefix: String, in r: SandboxRepository, _ context: GitHubGraphQLContext) -> Source {
        var object: Source = ["id": "REF_\(r.number)_\(name)", "name": name, "prefix": prefix]
        if let hash = r.branches[name], let c = r.commits[hash] { object["target"] = commit(c, in: r, context) }
        return object
    }

    static func commit(_ c: SandboxCommit, in r: SandboxRepository, _ context: GitHubGraphQLContext) -> Source {
        let who = GitHubWireFormat.person(c.author)
        let when = GitHubWireFormat.time(c.date)
        let actor: Source = ["name": who.name, "email": who.email, "date": when]
        let message = trimmingNewlines(c.message)
        return ["id": "C_\(c.hash)", "oid": c.hash, "abbreviatedOid": String(c.hash.prefix(7)), "committedDate": when,
                "authoredDate": when, "messageHeadline": String(message.prefix { $0 != "\n" }),
                "message": message, "author": actor, "committer": actor, "url": "\(context.format.origin)/\(r.fullName)/commit/\(c.hash)",
                "_repository": r.fullName]
    }

    /// The message without leading or trailing line breaks (those `CharacterSet.newlines` names),
    /// without going through NSString for each of a page's thousand commits.
    static func trimmingNewlines(_ text: String) -> String {
        guard let first = text.firstIndex(where: { !$0.isNewline }), let last = text.lastIndex(where: { !$0.isNewline }) else { return "" }
        return String(text[first...last])
    }

    /// Not found is an error beside a null (GitHub's `NOT_FOUND`), so a batch of aliases still
    /// answers for the repositories that exist.
    static func repository(_ args: Map, _ any: any Sendable) throws -> Source? {
        guard let context = context(any), let owner = args["owner"].string, let name = args["name"].string else { return nil }
        guard let r = context.world.repository(owner, name) else {
            throw ResolveError("\(notFoundPrefix) Repository with the name '\(owner)/\(name)'.")
        }
        return repository(r, context)
    }

    static let notFoundPrefix = "Could not resolve to a"

    static func ref(_ source: any Sendable, _ args: Map, _ any: any Sendable) -> Source? {
        guard let context = context(any), let r = sourceRepository(source, context), let qualified = args["qualifiedName"].string else { return nil }
        let name = qualified.hasPrefix("refs/heads/") ? String(qualified.dropFirst("refs/heads/".count)) : qualified
        return r.branches[name] == nil ? nil : ref(name, prefix: "refs/heads/", in: r, context)
    }

    /// `object(oid:)` or `object(expression: "BRANCH")`: a commit of the repository, or null.
    static func object(_ source: any Sendable, _ args: Map, _ any: any Sendable) -> Source? {
        guard let context = context(any), let r = sourceRepository(source, context) else { return nil }
        if let oid = args["oid"].string?.lowercased() { return r.commits[oid].map { commit($0, in: r, context) } }
        if let expression = args["expression"].string {
            let name = expression.hasPrefix("refs/heads/") ? String(expression.dropFirst("refs/heads/".count)) : expression
            if let hash = r.branches[name] ?? r.commit(matching: name)?.hash, let c = r.commits[hash] { return commit(c, in: r, context) }
        }
        return nil
    }

    private static func sourceRepository(_ source: any Sendable, _ context: GitHubGraphQLContext) -> SandboxRepository? {
        guard let fullName = (source as? Source)?["_repository"] as? String else { return nil }
        return context.world.repositories[fullName]
    }

    // MARK: Connections

    /// A page of a connection whose nodes are made only for the page (a listing of thousands
    /// builds a hundred).
    static func page<Item>(_ items: [Item], _ args: Map, connection: String, node: (Item) -> Source) throws -> Source {
        let (start, end) = try window(items.count, args, connection: connection)
        return assemble(items[start..<end].map(node), start: start, end: end, total: items.count)
    }

    /// A page of a connection: `first` or `last` (1–100) is required, `after`/`before` are cursors.
    static func page(_ items: [Source], _ args: Map, connection: String) throws -> Source {
        try page(items, args, connection: connection) { $0 }
    }

    /// Which items a page holds, by `first`/`last` and the cursors.
    static func window(_ count: Int, _ args: Map, connection: String) throws -> (Int, Int) {
        let first = args["first"].int
        let last = args["last"].int
        guard first != nil || last != nil else {
            throw ResolveError("You must provide a `first` or `last` value to properly paginate the `\(connection)` connection.")
        }
        for (name, value) in [("first", first), ("last", last)] {
            guard let value else { continue }
            guard value <= 100 else {
                throw ResolveError("Requesting \(value) records on the `\(connection)` connection exceeds the `\(name)` limit of 100 records.")
            }
            guard value >= 0 else { throw ResolveError("`\(name)` on the `\(connection)` connection cannot be less than zero.") }
        }
        var start = 0
        var end = count
        if let after = args["after"].string {
            guard let index = cursorIndex(after) else { throw ResolveError("`\(after)` does not appear to be a valid cursor.") }
            start = min(count, index + 1)
        }
        if let before = args["before"].string {
            guard let index = cursorIndex(before) else { throw ResolveError("`\(before)` does not appear to be a valid cursor.") }
            end = max(start, min(end, index))
        }
        if let first { end = min(end, start + first) }
        if let last { start = max(start, end - last) }
        return (start, end)
    }

    static func assemble(_ slice: [Source], start: Int, end: Int, total: Int) -> Source {
        let edges: [Source] = slice.enumerated().map { ["cursor": cursor(start + $0.offset), "node": $0.element] }
        let info: Source = ["hasNextPage": end < total, "hasPreviousPage": start > 0,
                            "endCursor": slice.isEmpty ? nil : cursor(end - 1) as (any Sendable)?,
                            "startCursor": slice.isEmpty ? nil : cursor(start) as (any Sendable)?]
        return ["nodes": slice, "edges": edges, "pageInfo": info.compactMapValues { $0 }, "totalCount": total]
    }

    static func cursor(_ index: Int) -> String { Data("cursor:v2:\(index)".utf8).base64EncodedString() }

    static func cursorIndex(_ cursor: String) -> Int? {
        guard let text = Data(base64Encoded: cursor).flatMap({ String(data: $0, encoding: .utf8) }), text.hasPrefix("cursor:v2:") else { return nil }
        return Int(text.dropFirst("cursor:v2:".count))
    }

    /// `refs(refPrefix:)`: the branches under the prefix in name order (the world has no tags),
    /// each named without the prefix, as GitHub names them (`heads/dev` for `refs/`).
    static func refs(_ source: any Sendable, _ args: Map, _ any: any Sendable) throws -> Source? {
        guard let context = context(any), let r = sourceRepository(source, context) else { return nil }
        let prefix = args["refPrefix"].string ?? ""
        var names = r.sortedBranchNames.filter { ("refs/heads/" + $0).hasPrefix(prefix) }
        if let query = args["query"].string, !query.isEmpty { names = names.filter { $0.localizedCaseInsensitiveContains(query) } }
        if args["orderBy"]["direction"].string == "DESC" { names.reverse() }
        return try page(names, args, connection: "refs") { branch in
            var object = ref(branch, prefix: prefix, in: r, context)
            object["name"] = String(("refs/heads/" + branch).dropFirst(prefix.count))
            return object
        }
    }

    static func history(_ source: any Sendable, _ args: Map, _ any: any Sendable) throws -> Source {
        guard let context = context(any), let object = source as? Source, let hash = object["oid"] as? String,
              let fullName = object["_repository"] as? String, let r = context.world.repositories[fullName] else {
            return try page([], args, connection: "history")
        }
        let commits = r.history(from: [hash], excluding: []).map { commit($0, in: r, context) }
        return try page(commits, args, connection: "history")
    }

    static func organizations(_ source: any Sendable, _ args: Map, _ any: any Sendable) throws -> Source {
        guard let context = context(any), (source as? Source)?["_viewer"] as? Bool == true else { return try page([], args, connection: "organizations") }
        let orgs = context.world.workspaceOrder.compactMap { context.world.workspaces[$0] }.filter { !$0.isUser }
            .compactMap { owner($0.slug, any, kind: "Organization") }
        return try page(orgs, args, connection: "organizations")
    }

    /// A user's or an organization's repositories. For the viewer, `ownerAffiliations` (default
    /// OWNER and COLLABORATOR — an organization's repositories need ORGANIZATION_MEMBER, as on
    /// GitHub) and `affiliations` narrow which; for anyone else, what they own.
    static func repositories(_ source: any Sendable, _ args: Map, _ any: any Sendable) throws -> Source {
        guard let context = context(any), let object = source as? Source, let login = object["_owner"] as? String else {
            return try page([], args, connection: "repositories")
        }
        let world = context.world
        var items: [SandboxRepository] = []
        if object["_viewer"] as? Bool == true {
            func list(_ name: String) -> Set<String>? { args[name].array.map { Set($0.compactMap(\.string)) } }
            var wanted = list("ownerAffiliations") ?? ["OWNER", "COLLABORATOR"]
            if let affiliations = list("affiliations") { wanted.formIntersection(affiliations) }
            for w in world.workspaceOrder.compactMap({ world.workspaces[$0] }) {
                let relation = w.slug == login ? "OWNER" : w.isUser ? "COLLABORATOR" : "ORGANIZATION_MEMBER"
                guard wanted.contains(relation) else { continue }
                items += w.repositories.compactMap { world.repository(w.slug, $0) }
            }
        } else if let w = world.workspaces[login] {
            items = w.repositories.compactMap { world.repository(w.slug, $0) }
        }
        if let privacy = args["privacy"].string { items = items.filter { $0.isPrivate == (privacy == "PRIVATE") } }
        let field = args["orderBy"]["field"].string
        let descending = args["orderBy"]["direction"].string == "DESC"
        // Sorted by key and position, not by moving the repositories themselves.
        var order: [(key: String, number: Int, index: Int)] = items.enumerated().map { index, r in
            switch field {
            case "PUSHED_AT", "UPDATED_AT": (GitHubWireFormat.time(r.updatedOn) + r.fullName, r.number, index)
            case "CREATED_AT": (GitHubWireFormat.time(r.createdOn) + r.fullName, r.number, index)
            case "NAME": (r.slug.lowercased(), r.number, index)
            default: ("", r.number, index)
            }
        }
        order.sort { ($0.key, $0.number) < ($1.key, $1.number) }
        if descending { order.reverse() }
        return try page(order, args, connection: "repositories") { repository(items[$0.index], context) }
    }
}
