import Foundation

/// DigitalOcean's API as App Platform clients call it: `GET /v2/account`, `/v2/apps` (pages of
/// `per_page` ≤ 200 with `links.pages` and `meta.total`), `/v2/apps/{id}`,
/// `/v2/apps/{id}/deployments[/{id}]`. A personal access token (`dop_v1_…`) as Bearer; two windows
/// per token — 5,000 an hour and 250 a minute — with `ratelimit-*` headers, and a JSON 429
/// (`too_many_requests`, `retry-after` past the minute's); errors as `{"id","message","request_id"}`.
public final class DigitalOceanPersonality: SandboxPersonality, @unchecked Sendable {
    let name = SandboxPersonalityName.digitalocean
    let options: SandboxOptions
    /// A personal access token with every App Platform scope.
    public let token: String
    /// One with the read scopes only (`account:read`, `app:read`): it browses, and its writes
    /// are DigitalOcean's 403 (a proposal is a read).
    public let readOnlyToken: String
    static let summary = "digitalocean: App Platform's API under /v2 (5,000 an hour and 250 a minute per token)"

    // Guarded by the world's lock.
    var origin = "http://127.0.0.1"
    var apps: [SandboxApp]?
    var minute = RollingWindow(span: 60)
    var requestNumber = 0
    /// Where the log server listens (`live_url` and `historic_urls` point there), and the
    /// tokens those URLs carry, each naming one log of one deployment.
    var logOrigin: String?
    var logTokens: [String: LogReference] = [:]

    struct LogReference: Sendable {
        var appID: String
        var deploymentID: String
        var type: AppPlatformLogType
        var component: String?
    }

    init(options: SandboxOptions) {
        self.options = options
        token = Self.token(seed: options.seed)
        readOnlyToken = Self.token(seed: options.seed ^ 0x726561_64)
    }

    public static func token(seed: UInt64) -> String {
        var r = SandboxRandom(seed: seed ^ 0x646F_705F_7631)
        return "dop_v1_" + (0..<64).map { _ in String(format: "%x", r.int(0...15)) }.joined()
    }

    func urls(origin: String) -> (api: String, web: String) { (origin, origin) }

    func kind(of request: SandboxRequest) -> RequestKind { .rest }

    func template(_ s: [String]) -> String {
        var out = s
        if s.count >= 3, s[0] == "v2", s[1] == "apps" { out[2] = "{app_id}" }
        if s.count >= 5, s[3] == "deployments" { out[4] = "{deployment_id}" }
        return "/" + out.joined(separator: "/")
    }

    static func error(_ status: Int, _ id: String, _ message: String, requestID: String, headers: [(String, String)] = []) -> SandboxReply {
        .json(status, ["id": id, "message": message, "request_id": requestID], headers: headers)
    }

    func respond(to request: SandboxRequest, in state: inout WorldState) -> SandboxReply {
        requestNumber += 1
        let requestID = String(format: "%08x-0000-4000-8000-%012x", requestNumber, requestNumber)
        let presented = request.headers["authorization"].flatMap { header in
            header.lowercased().hasPrefix("bearer ") ? header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces) : nil
        }
        guard let presented, presented == token || presented == readOnlyToken else {
            state.stats.unauthorized += 1
            return Self.error(401, "unauthorized", "Unable to authenticate you", requestID: requestID)
        }
        state.stats.byCredential["token", default: 0] += 1
        let isProposal = request.method == "POST" && request.segments == ["v2", "apps", "propose"]
        if presented == readOnlyToken, request.method != "GET", !isProposal {
            return Self.error(403, "forbidden", "You do not have permission to perform this action.", requestID: requestID)
        }
        // Both windows, each answering with its own shape.
        let hour = state.admit("token", kind: .rest, on: name)
        let minuteLimit = hour.limit > 0 ? max(1, hour.limit / 20) : 0
        let minuteAdmission = minuteLimit > 0 ? minute.admit("token", limit: minuteLimit, now: state.now) : (allowed: true, used: 0)
        var limitHeaders: [(String, String)] = []
        if hour.limit > 0 {
            let reset = state.resetsAt("token", kind: .rest, on: name)
            limitHeaders = [("ratelimit-limit", String(hour.limit)), ("ratelimit-remaining", String(max(0, hour.limit - hour.used))),
                            ("ratelimit-reset", String(Int(reset.timeIntervalSince1970.rounded(.up))))]
        }
        guard hour.allowed else {
            return Self.error(429, "too_many_requests", "API rate limit exceeded.", requestID: requestID, headers: limitHeaders)
        }
        guard minuteAdmission.allowed else {
            state.stats.rateLimited += 1
            let wait = max(1, Int(minute.resetsAt("token", now: state.now).timeIntervalSince(state.now).rounded(.up)))
            return Self.error(429, "too_many_requests", "API rate limit exceeded.", requestID: requestID,
                              headers: limitHeaders + [("retry-after", String(wait))])
        }
        var reply = route(request, requestID: requestID, in: &state)
        reply.headers += limitHeaders + [("x-request-id", requestID)]
        return reply
    }

    private func route(_ request: SandboxRequest, requestID: String, in state: inout WorldState) -> SandboxReply {
        let s = request.segments
        let format = DigitalOceanWireFormat(origin: request.headers["host"].map { "http://" + $0 } ?? origin)
        let notFound = Self.error(404, "not_found", "The resource you requested could not be found.", requestID: requestID)
        guard s.first == "v2", s.count >= 2 else { return notFound }
        if apps == nil { apps = AppPlatformWorld.build(options: options, hosts: state.hosts, start: state.now) }
        for index in (apps ?? []).indices { apps?[index].advance(now: state.now, phaseSeconds: options.appPlatformPhaseSeconds) }
        if request.method == "POST" { return write(request, requestID: requestID, format: format, in: &state) }
        if request.method == "PUT" || request.method == "DELETE" { return change(request, requestID: requestID, format: format, in: &state) }
        guard request.method == "GET" else { return notFound }
        let apps = self.apps ?? []
        if s.count >= 6, s[1] == "apps", s.last == "logs", s[3] == "deployments" {
            return logs(request, requestID: requestID, in: &state)
        }
        switch (s[1], s.count) {
        case ("account", 2):
            return .json(200, ["account": format.account()])
        case ("apps", 2):
            return format.page(apps.map(format.app), key: "apps", request: request)
        case ("apps", 3):
            guard let app = apps.first(where: { $0.id == s[2] }) else { return notFound }
            return .json(200, ["app": format.app(app)])
        case ("apps", 4) where s[3] == "deployments":
            guard let app = apps.first(where: { $0.id == s[2] }) else { return notFound }
            return format.page(app.deployments.map { format.deployment($0, of: app) }, key: "deployments", request: request)
        case ("apps", 5) where s[3] == "deployments":
            guard let app = apps.first(where: { $0.id == s[2] }), let deployment = app.deployments.first(where: { $0.id == s[4] }) else { return notFound }
            return .json(200, ["deployment": format.deployment(deployment, of: app)])
        default:
            return notFound
        }
    }

    /// `GET …/deployments/{id}/logs` and `…/components/{name}/logs`: a `live_url` WebSocket
    /// while that log still grows and `follow=true` is asked, else `historic_urls` — both on the
    /// log server's host, carrying a token of their own (no API credential is needed there).
    private func logs(_ request: SandboxRequest, requestID: String, in state: inout WorldState) -> SandboxReply {
        let s = request.segments
        let notFound = Self.error(404, "not_found", "The resource you requested could not be found.", requestID: requestID)
        guard let app = apps?.first(where: { $0.id == s[2] }), let deployment = app.deployments.first(where: { $0.id == s[4] }) else { return notFound }
        var component: String?
        if s.count == 8, s[5] == "components" {
            guard app.components.contains(where: { $0.name == s[6] }) else { return notFound }
            component = s[6]
        } else if s.count != 6 {
            return notFound
        }
        guard let type = AppPlatformLogType(rawValue: (request.query["type"]?.first ?? "").uppercased()) else {
            return Self.error(400, "bad_request", "type must be one of BUILD, DEPLOY, RUN", requestID: requestID)
        }
        let follow = request.query["follow"]?.first == "true"
        let log = app.log(type, of: deployment, component: component, now: state.now, phaseSeconds: options.appPlatformPhaseSeconds)
        var token = ""
        for _ in 0..<4 { token += String(format: "%08x", state.random.int(0...Int(UInt32.max))) }
        logTokens[token] = LogReference(appID: app.id, deploymentID: deployment.id, type: type, component: component)
        let origin = logOrigin ?? "http://127.0.0.1:0"
        if follow, !log.finished {
            let live = "ws" + origin.dropFirst("http".count) + "/live?token=" + token
            return .json(200, ["live_url": live, "historic_urls": [] as [String]])
        }
        return .json(200, ["historic_urls": [origin + "/archive/\(type.rawValue.lowercased()).log?token=" + token]])
    }

    /// One log by its token as it stands now: its lines and whether it is over.
    func log(token: String, now: Date) -> (lines: [String], finished: Bool)? {
        guard let reference = logTokens[token], let index = apps?.firstIndex(where: { $0.id == reference.appID }) else { return nil }
        apps?[index].advance(now: now, phaseSeconds: options.appPlatformPhaseSeconds)
        guard let app = apps?[index], let deployment = app.deployments.first(where: { $0.id == reference.deploymentID }) else { return nil }
        let log = app.log(reference.type, of: deployment, component: reference.component, now: now, phaseSeconds: options.appPlatformPhaseSeconds)
        return (log.lines.map(\.text), log.finished)
    }

    /// A push to a branch an app builds with `deploy_on_push` starts its deployment, as App
    /// Platform's Git integration does.
    func pushed(_ push: SandboxPush, in state: inout WorldState) {
        guard let new = push.new, push.kind != .branchDeleted else { return }
        if apps == nil { apps = AppPlatformWorld.build(options: options, hosts: state.hosts, start: state.now) }
        let key = push.host.rawValue
        for index in (apps ?? []).indices {
            guard let app = apps?[index], let component = app.components.first, component.deployOnPush, component.sourceKey == key,
                  component.repo == push.repository, component.branch == push.branch else { continue }
            let message = state.hosts[push.host]?.repositories[push.repository]?.commits[new]?.message ?? ""
            var deployment = SandboxApp.Deployment(id: state.random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased(),
                                                   phase: "PENDING_BUILD", cause: "commit \(new.prefix(7)) pushed to \(key)/\(push.repository)",
                                                   commit: new, createdAt: state.now, updatedAt: state.now)
            deployment.fails = message.lowercased().contains("fail")
            deployment.subject = String(message.split(separator: "\n").first ?? "")
            apps?[index].deployments.insert(deployment, at: 0)
        }
    }

    /// A new deployment of an app's branch head, or the cancel of one in progress.
    private func write(_ request: SandboxRequest, requestID: String, format: DigitalOceanWireFormat, in state: inout WorldState) -> SandboxReply {
        let s = request.segments
        let notFound = Self.error(404, "not_found", "The resource you requested could not be found.", requestID: requestID)
        if s.count == 2 || (s.count == 3 && s[2] == "propose"), s[1] == "apps" {
            return createOrPropose(request, propose: s.count == 3, requestID: requestID, format: format, in: &state)
        }
        if s.count == 4, s[1] == "apps", s[3] == "rollback", let index = apps?.firstIndex(where: { $0.id == s[2] }) {
            return rollback(request, app: index, requestID: requestID, format: format, in: &state)
        }
        guard s.count >= 4, s[1] == "apps", s[3] == "deployments", let index = apps?.firstIndex(where: { $0.id == s[2] }), var app = apps?[index] else {
            return notFound
        }
        defer { apps?[index] = app }
        switch s.count {
        case 4:
            // App Platform builds the branch head as the Git host has it now.
            let repository = Self.repository(of: app.components[0], in: state)
            let commit = repository?.branches[app.components[0].branch] ?? state.random.hash()
            let message = repository?.commits[commit]?.message ?? ""
            var deployment = SandboxApp.Deployment(id: state.random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased(),
                                                   phase: "PENDING_BUILD", cause: "manual", commit: commit, createdAt: state.now, updatedAt: state.now)
            deployment.fails = message.lowercased().contains("fail")
            deployment.subject = String(message.split(separator: "\n").first ?? "")
            app.deployments.insert(deployment, at: 0)
            return .json(200, ["deployment": format.deployment(deployment, of: app)])
        case 6 where s[5] == "cancel":
            guard let position = app.deployments.firstIndex(where: { $0.id == s[4] }) else { return notFound }
            guard SandboxApp.progressing.contains(app.deployments[position].phase) else {
                return Self.error(400, "bad_request", "the deployment is not in progress", requestID: requestID)
            }
            app.deployments[position].canceledIn = app.deployments[position].phase == "DEPLOYING" ? 2 : 1
            app.deployments[position].phase = "CANCELED"
            app.deployments[position].updatedAt = state.now
            return .json(200, ["deployment": format.deployment(app.deployments[position], of: app)])
        default:
            return notFound
        }
    }

    /// The sandbox's own repository a component builds from: a Git host's by its name, or the
    /// public Git personality's by its clone URL's path (`…/demo/NAME.git`); nil for one elsewhere.
    static func repository(of component: SandboxApp.Component, in state: WorldState) -> SandboxRepository? {
        let host: SandboxPersonalityName? = ["bitbucket": .bitbucket, "github": .github, "gitlab": .gitlab, "git": .git][component.sourceKey]
        guard let host, let world = state.hosts[host] else { return nil }
        guard host == .git else { return world.repositories[component.repo] }
        guard let path = URLComponents(string: component.repo)?.path else { return nil }
        var name = path.hasPrefix("/") ? String(path.dropFirst()) : path
        if name.hasSuffix(".git") { name.removeLast(4) }
        return world.repositories[name]
    }

    struct SpecProblem: Error { var message: String }

    /// App Platform reads a hosted source only through its Git integration for that provider
    /// (installed in the control panel); without it, or for a repository that account cannot
    /// see, a 400 in the shapes seen in the wild.
    func gitAccessProblem(_ components: [SandboxApp.Component], in state: WorldState) -> String? {
        let names = ["github": "GitHub", "gitlab": "GitLab", "bitbucket": "Bitbucket"]
        for component in components {
            guard let display = names[component.sourceKey] else { continue }
            if options.appPlatformUnlinkedGitHosts.contains(component.sourceKey) { return "\(display) user not authenticated" }
            if let host = SandboxPersonalityName(rawValue: component.sourceKey), state.hosts[host] != nil, Self.repository(of: component, in: state) == nil {
                return "\(display) user does not have access to \(component.repo)"
            }
        }
        return nil
    }

    /// A spec's services as components, validated as App Platform validates them.
    static func components(_ services: [[String: Any]], app name: String) -> Result<[SandboxApp.Component], SpecProblem> {
        var components: [SandboxApp.Component] = []
        for service in services {
            let keys = ["github", "gitlab", "bitbucket", "git", "image"].filter { service[$0] != nil }
            guard keys.count == 1, let key = keys.first, let source = service[key] as? [String: Any] else {
                return .failure(SpecProblem(message: "component \(service["name"] as? String ?? "?") must have exactly one source"))
            }
            let repo = (key == "git" ? source["repo_clone_url"] : source["repo"]) as? String ?? ""
            guard !repo.isEmpty else { return .failure(SpecProblem(message: "component \(service["name"] as? String ?? "?") names no repository")) }
            components.append(.init(name: service["name"] as? String ?? name, sourceKey: key, repo: repo, branch: source["branch"] as? String ?? "main",
                                    deployOnPush: GitLabPersonality.flag(source["deploy_on_push"]) ?? false,
                                    buildCommand: service["build_command"] as? String, runCommand: service["run_command"] as? String ?? "",
                                    envs: ((service["envs"] as? [[String: Any]]) ?? []).map { env in
                                        var out = env.compactMapValues { $0 as? String }
                                        if out["type"] == "SECRET", let value = out["value"], !value.hasPrefix("EV[") { out["value"] = "EV[1:\(value.utf8.count)]" }
                                        return out
                                    }))
        }
        return .success(components)
    }

    /// `PUT /v2/apps/{id}` (a whole new spec: the components change and a deployment of it
    /// starts) and `DELETE /v2/apps/{id}`.
    private func change(_ request: SandboxRequest, requestID: String, format: DigitalOceanWireFormat, in state: inout WorldState) -> SandboxReply {
        let s = request.segments
        guard s.count == 3, s[1] == "apps", let index = apps?.firstIndex(where: { $0.id == s[2] }), let app = apps?[index] else {
            return Self.error(404, "not_found", "The resource you requested could not be found.", requestID: requestID)
        }
        if request.method == "DELETE" {
            apps?.remove(at: index)
            return .json(200, ["id": app.id])
        }
        guard let spec = request.bodyFields["spec"] as? [String: Any], let services = spec["services"] as? [[String: Any]], !services.isEmpty else {
            return Self.error(400, "bad_request", "error parsing request body: spec with services required", requestID: requestID)
        }
        guard spec["name"] as? String == app.name else {
            return Self.error(422, "unprocessable_entity", "spec.name cannot change from \(app.name)", requestID: requestID)
        }
        switch Self.components(services, app: app.name) {
        case let .failure(problem):
            return Self.error(422, "unprocessable_entity", problem.message, requestID: requestID)
        case let .success(components):
            if let problem = gitAccessProblem(components, in: state) { return Self.error(400, "bad_request", problem, requestID: requestID) }
            apps?[index].components = components
            let commit = Self.repository(of: components[0], in: state)?.branches[components[0].branch] ?? state.random.hash()
            apps?[index].deployments.insert(.init(id: state.random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased(),
                                                  phase: "PENDING_BUILD", cause: "app spec updated", commit: commit, createdAt: state.now,
                                                  updatedAt: state.now), at: 0)
            return .json(200, ["app": format.app(apps![index])])
        }
    }

    /// `POST /v2/apps/{id}/rollback`: a deployment of an earlier one's commit, which must have
    /// finished (App Platform rolls back to a deployment that ran).
    private func rollback(_ request: SandboxRequest, app index: Int, requestID: String, format: DigitalOceanWireFormat,
                          in state: inout WorldState) -> SandboxReply {
        guard let target = request.bodyFields["deployment_id"] as? String,
              let earlier = apps?[index].deployments.first(where: { $0.id == target }) else {
            return Self.error(422, "unprocessable_entity", "deployment_id must name one of the app's deployments", requestID: requestID)
        }
        guard ["ACTIVE", "SUPERSEDED"].contains(earlier.phase) else {
            return Self.error(422, "unprocessable_entity", "cannot roll back to a deployment that is \(earlier.phase)", requestID: requestID)
        }
        let deployment = SandboxApp.Deployment(id: state.random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased(),
                                               phase: "PENDING_BUILD", cause: "rollback to \(earlier.id)", commit: earlier.commit,
                                               createdAt: state.now, updatedAt: state.now)
        apps?[index].deployments.insert(deployment, at: 0)
        return .json(200, ["deployment": format.deployment(deployment, of: apps![index])])
    }

    static let regions = ["atl", "nyc", "sfo", "tor", "ams", "fra", "lon", "blr", "sgp", "syd"]

    /// `POST /v2/apps` and `/v2/apps/propose`: the spec validated as App Platform validates it
    /// (its name, region, at least one service, exactly one source each), a name already taken
    /// refused (409); a proposal quotes the monthly cost, a creation starts the first deployment.
    private func createOrPropose(_ request: SandboxRequest, propose: Bool, requestID: String, format: DigitalOceanWireFormat,
                                 in state: inout WorldState) -> SandboxReply {
        func invalid(_ message: String) -> SandboxReply { Self.error(422, "unprocessable_entity", message, requestID: requestID) }
        guard let spec = request.bodyFields["spec"] as? [String: Any] else { return Self.error(400, "bad_request", "error parsing request body", requestID: requestID) }
        guard let name = spec["name"] as? String, name.range(of: "^[a-z][a-z0-9-]{0,30}[a-z0-9]$", options: .regularExpression) != nil else {
            return invalid("spec.name must be 2 to 32 lowercase letters, digits and dashes, starting with a letter")
        }
        let region = spec["region"] as? String ?? "nyc"
        guard Self.regions.contains(region) else { return invalid("spec.region \(region) is not an App Platform region") }
        guard let services = spec["services"] as? [[String: Any]], !services.isEmpty else { return invalid("spec needs at least one component") }
        let components: [SandboxApp.Component]
        switch Self.components(services, app: name) {
        case let .success(parsed): components = parsed
        case let .failure(problem): return invalid(problem.message)
        }
        let taken = apps?.contains { $0.name == name } ?? false
        if propose {
            return .json(200, ["app_name_available": !taken, "app_is_static": false, "app_cost": 5.0 * Double(components.count), "spec": spec])
        }
        guard !taken else { return Self.error(409, "conflict", "App name already exists", requestID: requestID) }
        if let problem = gitAccessProblem(components, in: state) { return Self.error(400, "bad_request", problem, requestID: requestID) }
        var app = SandboxApp(id: state.random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased(), name: name, region: region,
                             components: components, deployments: [], createdAt: state.now)
        let commit = Self.repository(of: components[0], in: state)?.branches[components[0].branch] ?? state.random.hash()
        app.deployments = [.init(id: state.random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased(), phase: "PENDING_BUILD",
                                 cause: "app created", commit: commit, createdAt: state.now, updatedAt: state.now)]
        apps?.append(app)
        return .json(200, ["app": format.app(app)])
    }

    func faultReply(_ kind: FaultSpec.Kind, in state: inout WorldState) -> SandboxReply {
        switch kind {
        case .status(429), .rateLimitForbidden:
            state.stats.rateLimited += 1
            return Self.error(429, "too_many_requests", "API rate limit exceeded.", requestID: "fault", headers: [("retry-after", "1")])
        case let .status(code):
            return Self.error(code, code >= 500 ? "server_error" : "bad_request", "Injected fault \(code)", requestID: "fault")
        case .malformed:
            var reply = SandboxReply.json(200, [:])
            reply.body = Data(#"{"apps": [{"id": "#.utf8)
            return reply
        case .reset, .delay, .truncate:
            return Self.error(500, "server_error", "Server Error", requestID: "fault")
        }
    }

    func uploadPack(_ request: SandboxRequest, in state: inout WorldState) -> UploadPackDecision { .notHere }

    /// App Platform sends no webhooks.
    func deliveries(for push: SandboxPush, in state: inout WorldState) -> [OutboundDelivery] { [] }

    func control(_ object: [String: Any], in state: inout WorldState) {}

    func statistics(in state: WorldState) -> [String: Any] { ["apps": apps?.count ?? options.appPlatformApps] }

    func banner(api: String, web: String, options: SandboxOptions) -> [BannerLine] {
        [
            BannerLine(label: "API", value: api + "/v2"),
            BannerLine(label: "token", value: token),
            BannerLine(label: "read", value: "\(readOnlyToken)  (read scopes only)"),
            BannerLine(label: "apps", value: "\(options.appPlatformApps) apps × \(options.deploymentsPerApp) deployments"),
            BannerLine(label: "link", value: "echo \(token) | \(linkCommand(api: api, web: web))"),
        ]
    }

    func linkCommand(api: String, web: String) -> String {
        "slipway link digitalocean --api-url \(api) --web-url \(web) --token-file -"
    }
}
