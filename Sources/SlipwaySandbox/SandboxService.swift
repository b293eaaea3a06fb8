import Foundation
import SlipwayHTTP

/// The sandbox's behaviour, independent of the HTTP server: credentials, limits, faults,
/// routing and the world. The server feeds it requests; tests may too.
public final class SandboxService: @unchecked Sendable {
    public let options: SandboxOptions
    /// The access token the sandbox accepts (Bearer, and git user `x-token-auth`).
    public let accessToken: String
    /// The Atlassian API token accepted with the user's e-mail (Basic).
    public let apiToken: String
    public var email: String { lock.withLock { world.user.email } }

    let now: @Sendable () -> Date
    // Everything below is guarded by `lock`.
    private let lock = NSLock()
    private var world: SandboxWorld
    /// Real git repositories behind the `demo` workspace, when the sandbox has them.
    private var demo: DemoRepositories?
    private var demoPushes = 0
    private var random: SandboxRandom
    private var restWindow = RollingWindow()
    private var gitWindow = RollingWindow()
    private var rateLimit: Int
    private var faults: FaultTable
    private var stats = Stats()
    private var oauthState = OAuthState()
    /// The OAuth consumer's key and secret.
    public let consumer: (key: String, secret: String)
    private var origin = "http://127.0.0.1"
    private var boundHost = "127.0.0.1"
    private var boundPort = 0
    /// Deliveries owed to hooks by pushes made under the lock; sent once it is released.
    private var outbox: [OutboundDelivery] = []
    /// Sends the signed `repo:push` deliveries (statistics and `drain()` for tests).
    public let webhooks: WebhookSender

    struct Stats {
        var byPath: [String: Int] = [:]
        var byKind: [String: Int] = [:]
        var byCredential: [String: Int] = [:]
        var rateLimited = 0
        var unauthorized = 0
    }

    /// `webhookTransport` replaces libcurl for deliveries (tests script the receiver's answers).
    public init(options: SandboxOptions, now: @escaping @Sendable () -> Date = { Date() },
                webhookTransport: (@Sendable () -> any HTTPTransport)? = nil) throws(SandboxOptions.ValidationError) {
        try options.validate()
        self.options = options
        self.now = now
        webhooks = webhookTransport.map { WebhookSender(makeTransport: $0) } ?? WebhookSender()
        world = WorldGenerator.build(options: options, start: now())
        random = SandboxRandom(seed: options.seed &+ 0x7075_7368)   // pushes draw from their own stream
        rateLimit = options.rateLimitPerHour
        faults = FaultTable(options.faults.compactMap { try? FaultSpec(parsing: $0) })
        (accessToken, apiToken) = Self.tokens(seed: options.seed)
        consumer = Self.consumer(seed: options.seed)
    }

    /// The credentials a seed's sandbox accepts (`slipway sandbox --seed N --print-token`).
    public static func tokens(seed: UInt64) -> (access: String, api: String) {
        var r = SandboxRandom(seed: seed ^ 0xA11C_E5ED_70CE_4E11)
        let access = "sbx_" + (0..<2).map { _ in String(format: "%016llx", r.next()) }.joined()
        let api = "ATATTsbx" + (0..<2).map { _ in String(format: "%016llx", r.next()) }.joined().uppercased()
        return (access, api)
    }

    func setOrigin(_ origin: String, host: String, port: Int) {
        lock.withLock {
            self.origin = origin
            self.boundHost = host
            self.boundPort = port
        }
    }

    var host: String { lock.withLock { boundHost } }
    var port: Int { lock.withLock { boundPort } }

    // MARK: The demo workspace (real git)

    /// Adds the `demo` workspace, whose repositories are real (cloned and fetched over smart HTTP).
    func attachDemo(_ repositories: DemoRepositories) throws {
        let created = now().addingTimeInterval(-3600)
        var workspace = SandboxWorkspace(uuid: "{00000000-0000-4000-8000-00000000d3e0}", slug: DemoRepositories.workspace, name: "Demo apps",
                                         isPrivate: true, isAdmin: true, createdOn: created)
        var repos: [SandboxRepository] = []
        for (index, project) in DemoRepositories.projects.enumerated() {
            var repository = SandboxRepository(uuid: "{00000000-0000-4000-8000-00000000d3e\(index + 1)}", workspace: workspace.slug, slug: project.slug,
                                               name: project.name, description: "A tiny project the demo deploys", language: "make",
                                               isPrivate: true, role: "admin", createdOn: created, updatedOn: created, mainBranch: "main")
            for commit in try repositories.commits(project.slug) { repository.commits[commit.hash] = commit }
            repository.branches["main"] = try repositories.commits(project.slug).last?.hash
            workspace.repositories.append(project.slug)
            repos.append(repository)
        }
        lock.withLock {
            for repository in repos { world.repositories[repository.fullName] = repository }
            world.workspaces[workspace.slug] = workspace
            world.workspaceOrder.append(workspace.slug)
            demo = repositories
        }
    }

    /// A real push to a demo repository (a new version on main); nil without the demo workspace.
    /// git runs on a thread of its own, never blocking the concurrency pool the server needs.
    @discardableResult
    public func pushDemo(_ slug: String? = nil) async -> SandboxPush? {
        await SandboxServer.offThePool { self.pushDemoBlocking(slug) }
    }

    func pushDemoBlocking(_ slug: String?) -> SandboxPush? {
        guard let demo = lock.withLock({ self.demo }) else { return nil }
        let target = slug ?? lock.withLock {
            demoPushes += 1
            return DemoRepositories.projects[demoPushes % DemoRepositories.projects.count].slug
        }
        guard demo.contains(target), let commit = try? demo.push(target) else { return nil }
        defer { flushOutbox() }
        return lock.withLock {
            let fullName = "\(DemoRepositories.workspace)/\(target)"
            guard var repository = world.repositories[fullName] else { return nil }
            let old = repository.branches["main"]
            repository.commits[commit.hash] = commit
            repository.branches["main"] = commit.hash
            if options.bumpUpdatedOn { repository.updatedOn = now() }
            world.repositories[fullName] = repository
            world.pushes += 1
            let push = SandboxPush(kind: .commit, repository: fullName, branch: "main", old: old, new: commit.hash)
            queueDeliveries(for: push)
            return push
        }
    }

    /// The bare repository behind `/git/WORKSPACE/SLUG.git`, if it is a real one.
    func demoRepositoryPath(workspace: String, slug: String) -> String? {
        lock.withLock {
            guard workspace == DemoRepositories.workspace, let demo, demo.contains(slug) else { return nil }
            return demo.bare(slug)
        }
    }

    var hasDemo: Bool { lock.withLock { demo != nil } }

    /// The checks a git request passes before a pack is made: credentials and the git limit.
    func admitGit(authorization: String?) -> SandboxReply? {
        lock.withLock {
            stats.byKind["git", default: 0] += 1
            stats.byPath["/git/{workspace}/{repo}.git/git-upload-pack", default: 0] += 1
            switch authenticate(authorization, git: true) {
            case let .failure(box):
                stats.unauthorized += 1
                return box.reply
            case let .success(credential):
                stats.byCredential[credential.name, default: 0] += 1
                let admitted = gitWindow.admit(credential.name, limit: options.gitRateLimitPerHour, now: now())
                guard admitted.allowed else {
                    stats.rateLimited += 1
                    return rateLimitReply(accessToken: credential.isAccessToken)
                }
                return nil
            }
        }
    }

    // MARK: Simulated pushes

    /// Performs `count` simulated pushes; returns what happened.
    @discardableResult
    public func push(count: Int = 1) -> [SandboxPush] {
        defer { flushOutbox() }
        return lock.withLock { (0..<count).compactMap { _ in pushLocked() } }
    }

    /// A push to one repository (`workspace/slug`), for benchmarks that choose where pushes land.
    @discardableResult
    public func push(repository: String) -> SandboxPush? {
        defer { flushOutbox() }
        return lock.withLock { pushLocked(repository: repository) }
    }

    /// A push into the world, and the deliveries its repository's hooks are owed. Lock held.
    private func pushLocked(repository: String? = nil) -> SandboxPush? {
        let real = Set(DemoRepositories.projects.map(\.slug).filter { demo?.contains($0) == true }.map { "\(DemoRepositories.workspace)/\($0)" })
        guard let push = world.push(random: &random, now: now(), bumpUpdatedOn: options.bumpUpdatedOn, repository: repository, excluding: real) else { return nil }
        queueDeliveries(for: push)
        return push
    }

    // MARK: Webhook deliveries

    /// One signed `repo:push` delivery per active hook on the pushed repository. Lock held.
    private func queueDeliveries(for push: SandboxPush) {
        guard let repository = world.repositories[push.repository], let workspace = world.workspaces[repository.workspace] else { return }
        let hooks = repository.hooks.filter { $0.active && $0.events.contains("repo:push") }
        guard !hooks.isEmpty else { return }
        let object = WireFormat(origin: origin).pushPayload(push, repository: repository, workspace: workspace, actor: world.user)
        let body = JSONText.data(object)
        for hook in hooks {
            outbox.append(OutboundDelivery(url: hook.url, hookUUID: hook.uuid, requestUUID: random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")),
                                           eventKey: "repo:push", body: body, secret: hook.secret))
        }
    }

    /// Sends what pushes made under the lock are owed; called after the lock is released.
    private func flushOutbox() {
        let pending = lock.withLock { () -> [OutboundDelivery] in
            defer { outbox = [] }
            return outbox
        }
        webhooks.send(pending)
    }

    /// Stops the delivery client (the server calls this on stop).
    func shutdown() {
        webhooks.shutdown()
        // The demo's real repositories live in a temporary folder: gone with the sandbox. Under
        // the lock, so a second shutdown (a signal's and the command's) returns only once it is.
        lock.withLock {
            demo?.remove()
            demo = nil
        }
    }

    /// Every repository's full name, sorted.
    public func repositoryNames() -> [String] {
        lock.withLock { world.repositories.keys.sorted() }
    }

    /// Answers a request without a socket (simulations on a virtual clock). `url` is absolute;
    /// its host becomes the origin of the links in the answer.
    public func respond(method: String, url: String, headers: [String: String], body: Data) -> (status: Int, headers: [(String, String)], body: Data) {
        let components = URLComponents(string: url)
        let authority = components.flatMap { c in c.host.map { h in c.port.map { "\(h):\($0)" } ?? h } } ?? "127.0.0.1"
        var lowered = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        lowered["host"] = authority
        let path = (components?.percentEncodedPath ?? "/") + (components?.percentEncodedQuery.map { "?" + $0 } ?? "")
        let reply = handle(SandboxRequest(method: method, uri: path, headers: lowered, body: body, origin: "http://\(authority)"))
        return (reply.status, reply.headers, reply.body)
    }

    public var summary: (workspaces: Int, repositories: Int, branches: Int) {
        lock.withLock { (world.workspaces.count, world.repositories.count, world.branchCount) }
    }

    /// Branch heads of a repository (for tests and the demo).
    public func branches(workspace: String, repository: String) -> [String: String] {
        lock.withLock { world.repository(workspace, repository)?.branches ?? [:] }
    }

    public func workspaceSlugs() -> [String] { lock.withLock { world.workspaceOrder } }

    public func repositorySlugs(workspace: String) -> [String] {
        lock.withLock { world.workspaces[workspace]?.repositories ?? [] }
    }

    // MARK: Requests

    func handle(_ request: SandboxRequest) -> SandboxReply {
        defer { flushOutbox() }
        return lock.withLock { handleLocked(request) }
    }

    private func handleLocked(_ request: SandboxRequest) -> SandboxReply {
        let segments = request.segments
        let kind = segments.first == "git" ? "git" : segments.first == "_sandbox" ? "control" : "rest"
        stats.byPath[Self.template(segments), default: 0] += 1
        stats.byKind[kind, default: 0] += 1
        if kind == "control" { return control(request) }
        if segments.starts(with: ["site", "oauth2"]) { return oauthLocked(request, state: &oauthState, random: &random) }

        var delay: TimeInterval = 0
        if let fault = faults.fire(path: request.rawPath, random: &random) {
            switch fault {
            case let .status(code):
                if code == 429 {
                    stats.rateLimited += 1
                    return rateLimitReply(accessToken: false)
                }
                return code >= 500 && code != 501
                    ? .text(code, code == 503 ? "Service Unavailable" : "Internal Server Error")
                    : .json(code, WireFormat.error("Injected fault \(code)"))
            case .rateLimitForbidden:
                stats.rateLimited += 1
                let wait = options.retryAfterSeconds ?? 60
                return .json(403, WireFormat.error("API rate limit exceeded"), headers: [("Retry-After", String(wait))])
            case .reset:
                return SandboxReply(status: 200, transport: .reset)
            case let .delay(seconds):
                delay = seconds
            case .truncate:
                var reply = route(request, kind: kind)
                reply.transport = .truncate
                return reply
            case .malformed:
                var reply = SandboxReply.json(200, [:])
                reply.body = Data(#"{"pagelen": 10, "values": [{"name": "main", "target": {"hash": "#.utf8)
                return reply
            }
        }
        var reply = route(request, kind: kind)
        reply.delay = delay
        return reply
    }

    private func route(_ request: SandboxRequest, kind: String) -> SandboxReply {
        let isHookWrite = (request.method == "POST" || request.method == "DELETE") && request.segments.count >= 5 && request.segments[4] == "hooks"
        guard request.method == "GET" || request.method == "HEAD" || isHookWrite else {
            return .json(405, WireFormat.error("Method \(request.method) is not allowed here"))
        }
        // Who is asking.
        let credential: Credential
        switch authenticate(request.headers["authorization"], git: kind == "git") {
        case let .success(c): credential = c
        case let .failure(box):
            stats.unauthorized += 1
            return box.reply
        }
        stats.byCredential[credential.name, default: 0] += 1

        // Within the limit?
        let limit = kind == "git" ? options.gitRateLimitPerHour : rateLimit
        let admitted = kind == "git"
            ? gitWindow.admit(credential.name, limit: limit, now: now())
            : restWindow.admit(credential.name, limit: limit, now: now())
        guard admitted.allowed else {
            stats.rateLimited += 1
            return rateLimitReply(accessToken: credential.isAccessToken)
        }
        let granted = credential.scopes ?? (credential.isAccessToken ? options.tokenScopes : nil)
        if kind == "rest", request.segments.starts(with: ["2.0", "user", "emails"]), let granted, !granted.contains("email") {
            // As Bitbucket answers a token without the scope an endpoint declares.
            return .json(403, WireFormat.error("Your credentials lack one or more required privilege scopes.",
                                               detail: "granted: \(granted.joined(separator: ", ")); required: email"))
        }
        var reply = kind == "git" ? git(request) : rest(request)
        if credential.isAccessToken && kind == "rest" && limit > 0 {
            reply.headers += [("X-RateLimit-Limit", String(limit)), ("X-RateLimit-Resource", "api"),
                              ("X-RateLimit-NearLimit", admitted.used * 5 >= limit * 4 ? "true" : "false")]
        }
        if kind == "rest", let scopes = credential.scopes ?? (credential.isAccessToken ? options.tokenScopes : nil) {
            // What the token may do, as Bitbucket reports it.
            reply.headers.append(("X-OAuth-Scopes", scopes.joined(separator: ", ")))
        }
        return reply
    }

    private func rateLimitReply(accessToken: Bool) -> SandboxReply {
        var headers: [(String, String)] = []
        if let seconds = options.retryAfterSeconds { headers.append(("Retry-After", String(seconds))) }
        if accessToken && rateLimit > 0 {
            headers += [("X-RateLimit-Limit", String(rateLimit)), ("X-RateLimit-Resource", "api"), ("X-RateLimit-NearLimit", "true")]
        }
        return .text(429, "Rate limit for this resource has been exceeded", headers: headers)
    }

    // MARK: Credentials

    struct Credential {
        var name: String
        /// Repository, project and workspace access tokens get X-RateLimit headers; OAuth tokens do not.
        var isAccessToken: Bool
        var scopes: [String]? = nil
    }

    private func authenticate(_ header: String?, git: Bool) -> Result<Credential, SandboxReplyBox> {
        let basicChallenge = [("WWW-Authenticate", #"Basic realm="Bitbucket.org HTTP""#)]
        guard let header, let space = header.firstIndex(of: " ") else {
            return .failure(SandboxReplyBox(.text(401, git ? "" : "Unauthorized", headers: basicChallenge)))
        }
        let scheme = header[..<space].lowercased()
        let value = header[header.index(after: space)...].trimmingCharacters(in: .whitespaces)
        if scheme == "bearer", !git, let issued = oauthState.accessTokens[value] {
            guard issued.expiresAt > now() else {
                return .failure(SandboxReplyBox(.json(401, WireFormat.error("Access token expired."),
                                                      headers: [("WWW-Authenticate", #"Bearer realm="bitbucket.org", error="invalid_token""#)])))
            }
            // OAuth calls count against the consumer.
            return .success(Credential(name: "oauth:\(consumer.key)", isAccessToken: false, scopes: issued.scopes))
        }
        if scheme == "bearer", !git {
            guard value == accessToken else {
                return .failure(SandboxReplyBox(.json(401, WireFormat.error("Token is invalid, expired, or not supported for this endpoint."),
                                                      headers: [("WWW-Authenticate", #"Bearer realm="bitbucket.org""#)])))
            }
            return .success(Credential(name: "access_token", isAccessToken: true))
        }
        if scheme == "basic", let decoded = Data(base64Encoded: value).flatMap({ String(data: $0, encoding: .utf8) }),
           let colon = decoded.firstIndex(of: ":") {
            let user = String(decoded[..<colon])
            let secret = String(decoded[decoded.index(after: colon)...])
            if git && user == "x-token-auth" && secret == accessToken { return .success(Credential(name: "access_token", isAccessToken: true)) }
            if git && user == "x-token-auth", let issued = oauthState.accessTokens[secret], issued.expiresAt > now() {
                return .success(Credential(name: "oauth:\(consumer.key)", isAccessToken: false))
            }
            if (user == world.user.email || (git && (user == "x-bitbucket-api-token-auth" || user == world.user.nickname))) && secret == apiToken {
                return .success(Credential(name: "api_token:\(world.user.email)", isAccessToken: false))
            }
        }
        return .failure(SandboxReplyBox(.text(401, git ? "" : "Unauthorized", headers: basicChallenge)))
    }

    // MARK: REST

    private func rest(_ request: SandboxRequest) -> SandboxReply {
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

    private func workspace(_ id: String) -> SandboxWorkspace? {
        if let w = world.workspaces[id] { return w }
        return world.workspaces.values.first { $0.uuid == id }
    }

    private func repository(_ w: SandboxWorkspace, _ id: String) -> SandboxRepository? {
        if let r = world.repository(w.slug, id) { return r }
        return w.repositories.lazy.compactMap { self.world.repository(w.slug, $0) }.first { $0.uuid == id }
    }

    private func repositories(of w: SandboxWorkspace, request: SandboxRequest, format: WireFormat, fields: String?) -> SandboxReply {
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

    private func repositoryResource(_ r: SandboxRepository, workspace w: SandboxWorkspace, rest: [String], request: SandboxRequest,
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
        case "hooks":
            return hooks(r, workspace: w, rest: Array(rest.dropFirst()), request: request, format: format, fields: fields)
        case "commit" where rest.count == 2:
            guard let commit = r.commit(matching: rest[1]) else { return .notFound("Commit \(rest[1]) not found") }
            return reply(format.commit(commit, in: r))
        default:
            return .notFound("Resource not found")
        }
    }

    // MARK: Webhooks

    /// `…/hooks`: list, create (201 with Location), delete (204). Admin only, as on Bitbucket.
    private func hooks(_ r: SandboxRepository, workspace w: SandboxWorkspace, rest: [String], request: SandboxRequest,
                       format: WireFormat, fields: String?) -> SandboxReply {
        guard r.role == "admin" else {
            return .json(403, WireFormat.error("You must be an administrator of this repository to manage its webhooks."))
        }
        let base = "\(format.api)/repositories/\(r.fullName)/hooks"
        func render(_ hook: SandboxHook) -> [String: Any] {
            ["type": "webhook_subscription", "uuid": hook.uuid, "url": hook.url, "description": hook.description,
             "subject_type": "repository", "subject": ["type": "repository", "full_name": r.fullName, "uuid": r.uuid],
             "active": hook.active, "events": hook.events, "created_at": WireFormat.microseconds(hook.createdAt),
             "secret_set": hook.secret != nil, "skip_cert_verification": false, "source": NSNull(), "read_only": NSNull(),
             "history_enabled": true, "links": ["self": WireFormat.link("\(base)/\(WireFormat.escape(hook.uuid))")]]
        }
        switch (request.method, rest.count) {
        case ("GET", 0):
            let object = Paging.listPage(items: r.hooks.map(render), query: request.query, requestURL: request.url, defaultPagelen: 10)
            return .json(200, FieldFilter.apply(fields, to: object))
        case ("GET", 1):
            guard let hook = r.hooks.first(where: { $0.uuid == rest[0] }) else { return .notFound("Webhook \(rest[0]) not found") }
            return .json(200, render(hook))
        case ("POST", 0):
            guard let body = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any],
                  let url = body["url"] as? String, let events = body["events"] as? [String], !events.isEmpty else {
                return .json(400, WireFormat.error("Bad request", detail: "url and at least one event are required"))
            }
            guard URLComponents(string: url)?.scheme?.hasPrefix("http") == true else {
                return .json(400, WireFormat.error("Invalid URL", detail: "\(url) is not an http(s) URL"))
            }
            let secret = (body["secret"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            if let secret, secret.count > 128 { return .json(400, WireFormat.error("The secret is longer than 128 characters")) }
            let hook = SandboxHook(uuid: random.uuid(), url: url, description: body["description"] as? String ?? "",
                                   events: events, active: body["active"] as? Bool ?? true, secret: secret, createdAt: now())
            world.repositories[r.fullName]?.hooks.append(hook)
            return .json(201, render(hook), headers: [("Location", "\(base)/\(WireFormat.escape(hook.uuid))")])
        case ("DELETE", 1):
            guard let index = r.hooks.firstIndex(where: { $0.uuid == rest[0] }) else { return .notFound("Webhook \(rest[0]) not found") }
            world.repositories[r.fullName]?.hooks.remove(at: index)
            return SandboxReply(status: 204)
        default:
            return .json(405, WireFormat.error("Method \(request.method) is not allowed here"))
        }
    }

    // MARK: git

    private func git(_ request: SandboxRequest) -> SandboxReply {
        let s = request.segments
        guard s.count == 5, s[3] == "info", s[4] == "refs", s[2].hasSuffix(".git"),
              let w = world.workspaces[s[1]], let r = world.repository(w.slug, String(s[2].dropLast(4))) else {
            return .text(404, "Repository not found\n")
        }
        guard request.query["service"]?.first == "git-upload-pack" else {
            return .text(403, "Only git-upload-pack is served by the sandbox\n")
        }
        return SandboxReply(status: 200, headers: [("Content-Type", "application/x-git-upload-pack-advertisement"), ("Cache-Control", "no-cache")],
                            body: RefsAdvertisementWriter.advertisement(for: r))
    }

    // MARK: Control

    private func control(_ request: SandboxRequest) -> SandboxReply {
        switch (request.method, request.segments.dropFirst().first) {
        case ("GET", "stats"):
            return .json(200, [
                "requests_by_path": stats.byPath, "requests_by_kind": stats.byKind, "requests_by_credential": stats.byCredential,
                "rate_limited": stats.rateLimited, "unauthorized": stats.unauthorized, "faults_fired": faults.firedCounts,
                "pushes": world.pushes, "rate_limit": rateLimit, "token_requests": oauthState.tokenRequests,
                "webhook_deliveries": ["delivered": webhooks.statistics.delivered, "failed": webhooks.statistics.failed,
                                       "attempts": webhooks.statistics.attempts, "retries": webhooks.statistics.retries],
            ])
        case ("POST", "control"):
            guard let object = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any] else {
                return .json(400, WireFormat.error("expected a JSON object"))
            }
            var events: [[String: Any]] = []
            if let pushes = object["push"] as? Int {
                for _ in 0..<max(0, min(pushes, 10_000)) {
                    if let e = pushLocked() {
                        events.append(["kind": e.kind.rawValue, "repository": e.repository, "branch": e.branch,
                                       "old": e.old ?? NSNull(), "new": e.new ?? NSNull()])
                    }
                }
            }
            if let limit = object["rate_limit"] as? Int { rateLimit = max(0, limit) }
            if let scopes = object["oauth_scopes"] as? [String] { oauthState.grantScopes = scopes }
            if object["reset_limits"] as? Bool == true { restWindow.reset(); gitWindow.reset() }
            // A revoked consumer: every refresh token and access token stops working.
            if object["revoke_tokens"] as? Bool == true {
                for key in oauthState.refreshTokens.keys { oauthState.refreshTokens[key] = false }
                oauthState.accessTokens.removeAll()
            }
            if let specs = object["faults"] as? [String] {
                var parsed: [FaultSpec] = []
                for spec in specs {
                    do { parsed.append(try FaultSpec(parsing: spec)) } catch { return .json(400, WireFormat.error(error.description)) }
                }
                faults.replace(with: parsed)
            }
            return .json(200, ["pushed": events, "rate_limit": rateLimit, "faults": faults.specs.map(\.text)])
        default:
            return .notFound("Unknown sandbox control path")
        }
    }

    /// A path with its variable parts named, for the stats.
    static func template(_ s: [String]) -> String {
        guard let first = s.first else { return "/" }
        switch first {
        case "git": return "/git/{workspace}/{repo}.git/" + s.dropFirst(3).joined(separator: "/")
        case "2.0" where s.count >= 2 && s[1] == "repositories":
            let names = ["2.0", "repositories", "{workspace}", "{repo}"]
            var out = s.enumerated().map { $0.offset < names.count ? names[$0.offset] : $0.element }
            if out.count > 5 && out[4] == "refs" { out = Array(out.prefix(6)) + (out.count > 6 ? ["{branch}"] : []) }
            if out.count > 5 && (out[4] == "commits" || out[4] == "commit") { out = Array(out.prefix(5)) + ["{revision}"] }
            return "/" + out.joined(separator: "/")
        case "2.0" where s.count == 3 && s[1] == "workspaces":
            return "/2.0/workspaces/{workspace}"
        default:
            return "/" + s.joined(separator: "/")
        }
    }
}

/// `Result` needs an `Error` failure type; a reply is carried in this box.
struct SandboxReplyBox: Error {
    var reply: SandboxReply
    init(_ reply: SandboxReply) { self.reply = reply }
}
