import Foundation
import SlipwayHTTP

/// An App Platform app as Slipway sees it: its components and the branch each builds from.
public struct RemoteApp: Sendable, Equatable {
    public struct Component: Sendable, Equatable {
        public enum Source: Sendable, Equatable {
            /// A linked Git host's repository (`owner/repo` as App Platform names it).
            case hosted(provider: ProviderKind, repository: String, branch: String?, deployOnPush: Bool)
            /// A public repository by clone URL.
            case git(cloneURL: String, branch: String?)
            /// An image, or nothing Slipway mirrors.
            case other
        }
        public var name: String
        public var source: Source

        public init(name: String, source: Source) {
            self.name = name
            self.source = source
        }
    }

    public var id: String
    public var name: String
    public var region: String?
    public var liveURL: String?
    public var components: [Component]
    /// The deployment serving now, and one in progress, as the app object carries them.
    public var active: RemoteDeployment?
    public var inProgress: RemoteDeployment?

    public init(id: String, name: String, region: String?, liveURL: String?, components: [Component], active: RemoteDeployment?,
                inProgress: RemoteDeployment?) {
        self.id = id
        self.name = name
        self.region = region
        self.liveURL = liveURL
        self.components = components
        self.active = active
        self.inProgress = inProgress
    }
}

/// One App Platform deployment: its phase (App Platform's names, DESIGN.md's phases) and the
/// commit each component was built from.
public struct RemoteDeployment: Sendable, Equatable {
    public var id: String
    public var phase: String
    public var cause: String?
    public var createdAt: Date?
    public var updatedAt: Date?
    /// Component name → the commit it was built from.
    public var commits: [String: String]
    /// `progress.steps`: build → components, deploy → components, finalize, as App Platform nests them.
    public var steps: [RemoteStep]

    public init(id: String, phase: String, cause: String?, createdAt: Date?, updatedAt: Date?, commits: [String: String], steps: [RemoteStep] = []) {
        self.id = id
        self.phase = phase
        self.cause = cause
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.commits = commits
        self.steps = steps
    }
}

/// One step of an App Platform deployment's progress, with the steps inside it.
public struct RemoteStep: Sendable, Equatable {
    public enum Status: String, Sendable {
        case unknown = "UNKNOWN", pending = "PENDING", running = "RUNNING", error = "ERROR", success = "SUCCESS"
    }
    public var name: String
    public var status: Status
    /// The component it works on, where it works on one.
    public var component: String?
    /// Why it failed (App Platform's `reason.message`).
    public var reason: String?
    public var startedAt: Date?
    public var endedAt: Date?
    public var steps: [RemoteStep]

    public init(name: String, status: Status, component: String? = nil, reason: String? = nil, startedAt: Date? = nil, endedAt: Date? = nil,
                steps: [RemoteStep] = []) {
        self.name = name
        self.status = status
        self.component = component
        self.reason = reason
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.steps = steps
    }
}

/// DigitalOcean's API for App Platform (`https://api.digitalocean.com/v2`): the account behind a
/// personal access token, the apps on it and their deployments. Metered twice — 5,000 requests an
/// hour and 250 a minute per token (`ratelimit-*` headers, a JSON 429 with `retry-after` past the
/// minute's) — and paged by `page`/`per_page` (at most 200) with `links.pages.next`.
public struct AppPlatformClient: AccountProvider, UserEmails {
    public let kind = ProviderKind.digitalocean
    public var apiURL: String
    public var webURL: String
    public var credential: ProviderCredential
    public var http: HTTPClient
    public var budgetCredential: String?
    /// The last `/v2/account` answer this client read.
    private let accountSeen = Remembered<AppPlatformWire.Account>()

    public static let requestsPerHour = 5000
    public static let requestsPerMinute = 250

    public static let descriptor = ProviderDescriptor(
        kind: .digitalocean, defaultAPIURL: "https://api.digitalocean.com", defaultWebURL: "https://cloud.digitalocean.com",
        restRequestsPerHour: requestsPerHour, gitRequestsPerHour: 0, restRequestsPerMinute: requestsPerMinute,
        linkMethods: [.token], minimumScopes: [], requestedScopes: [],
        gitUsername: { _ in "" }, apiURLProblem: apiURLProblem,
        webLinks: WebLinks(workspace: { _, _ in nil }, branch: { _, _ in nil }, commit: { _, _ in nil }),
        webhookDialect: nil,
        make: { connection in
            AppPlatformClient(apiURL: connection.apiURL, webURL: connection.webURL, credential: connection.credential, http: connection.http,
                              budgetCredential: connection.budgetCredential)
        })

    public init(apiURL: String = "https://api.digitalocean.com", webURL: String = "https://cloud.digitalocean.com", credential: ProviderCredential,
                http: HTTPClient, budgetCredential: String? = nil) {
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.webURL = webURL.hasSuffix("/") ? String(webURL.dropLast()) : webURL
        self.credential = credential
        self.http = http
        self.budgetCredential = budgetCredential
    }

    /// The API's origin: paths start at `/v2`.
    @Sendable public static func apiURLProblem(_ url: String) -> String? {
        let path = URLComponents(string: url)?.path ?? ""
        return path.isEmpty || path == "/" ? nil : "DigitalOcean's API is https://api.digitalocean.com, without /v2 or any path"
    }

    /// A 429, in either window.
    @Sendable public static func isRateLimit(_ response: HTTPResponse) -> Bool { response.status == 429 }

    var sender: ProviderSender {
        ProviderSender(apiURL: apiURL, webURL: webURL, credential: credential, http: http, budgetCredential: budgetCredential,
                       headers: [("Accept", "application/json")], gitUsername: { _ in "" }, isRateLimit: Self.isRateLimit)
    }

    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        try await sender.send(path.hasPrefix("http") ? path : apiURL + path).decode(type)
    }

    // MARK: Account

    /// `GET /v2/account`: the user is the e-mail, the display name the team's where the token
    /// was made in one, else the account's name.
    public func currentUser() async throws -> ProviderUser {
        let account = try await get("/v2/account", as: AppPlatformWire.AccountEnvelope.self).account
        accountSeen.set(account)
        return ProviderUser(id: account.uuid, username: account.email, displayName: account.team?.name ?? account.name, scopes: nil)
    }

    /// The account's e-mail, from the answer `currentUser` just read when there is one (linking
    /// asks both: one request, not two); used once, so a later ask reads the account afresh.
    public func primaryEmail() async throws -> String? {
        let account: AppPlatformWire.Account
        if let seen = accountSeen.take() { account = seen } else { account = try await get("/v2/account", as: AppPlatformWire.AccountEnvelope.self).account }
        return account.email_verified == false ? nil : account.email
    }

    // MARK: Apps

    /// Every app on the account, 200 a page (the app object carries its active and in-progress
    /// deployments, so this alone shows every app's state).
    public func apps() async throws -> [RemoteApp] {
        var found: [RemoteApp] = []
        var next: String? = apiURL + "/v2/apps?page=1&per_page=200"
        var pages = 0
        while let url = next, pages < 500 {
            let page = try await get(url, as: AppPlatformWire.AppsPage.self)
            found += (page.apps ?? []).map { Self.app($0) }
            next = page.links?.pages?.next
            pages += 1
        }
        return found
    }

    /// An app's most recent deployments (its first page), newest first.
    public func deployments(appID: String, perPage: Int = 20) async throws -> [RemoteDeployment] {
        let page = try await get("/v2/apps/\(WebLinks.escaped(appID))/deployments?page=1&per_page=\(perPage)", as: AppPlatformWire.DeploymentsPage.self)
        return (page.deployments ?? []).map { Self.deployment($0) }
    }

    /// An app spec with one service built from a branch, as `apps create --on digitalocean`
    /// writes it (App Platform's `AppSpec`: name, region, `services[]`).
    public struct ServiceSpec: Sendable, Equatable {
        public var name: String
        public var region: String?
        public var source: RemoteApp.Component.Source
        public var buildCommand: String?
        public var runCommand: String?
        public var httpPort: Int?
        public var instanceSize: String?
        /// Plain and secret (`type: SECRET`) variables.
        public var environment: [String: String]
        public var secrets: [String: String]

        public init(name: String, region: String?, source: RemoteApp.Component.Source, buildCommand: String?, runCommand: String?, httpPort: Int?,
                    instanceSize: String?, environment: [String: String], secrets: [String: String]) {
            self.name = name
            self.region = region
            self.source = source
            self.buildCommand = buildCommand
            self.runCommand = runCommand
            self.httpPort = httpPort
            self.instanceSize = instanceSize
            self.environment = environment
            self.secrets = secrets
        }

        /// App Platform's rule for app and component names: 2–32 of a–z, 0–9 and `-`, a letter first.
        public static func isValidName(_ name: String) -> Bool {
            name.range(of: "^[a-z][a-z0-9-]{0,30}[a-z0-9]$", options: .regularExpression) != nil
        }

        var json: [String: Any] {
            var service: [String: Any] = ["name": name, "instance_count": 1]
            switch source {
            case let .hosted(provider, repository, branch, deployOnPush):
                service[provider.rawValue] = ["repo": repository, "branch": branch ?? "main", "deploy_on_push": deployOnPush]
            case let .git(cloneURL, branch):
                service["git"] = ["repo_clone_url": cloneURL, "branch": branch ?? "main"]
            case .other:
                break
            }
            if let buildCommand { service["build_command"] = buildCommand }
            if let runCommand { service["run_command"] = runCommand }
            if let httpPort { service["http_port"] = httpPort }
            if let instanceSize { service["instance_size_slug"] = instanceSize }
            let envs = environment.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value, "scope": "RUN_AND_BUILD_TIME", "type": "GENERAL"] }
                + secrets.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value, "scope": "RUN_AND_BUILD_TIME", "type": "SECRET"] }
            if !envs.isEmpty { service["envs"] = envs }
            var spec: [String: Any] = ["name": name, "services": [service]]
            if let region { spec["region"] = region }
            return spec
        }
    }

    /// `POST /v2/apps/propose`: what App Platform would charge a month for the spec (USD), or the
    /// first thing wrong with it.
    public func proposedMonthlyCost(_ spec: ServiceSpec) async throws -> Double? {
        try await proposedMonthlyCost(specJSON: try JSONSerialization.data(withJSONObject: spec.json))
    }

    /// The quote for a whole app spec as the user wrote it (JSON), every field passed on as is.
    public func proposedMonthlyCost(specJSON: Data) async throws -> Double? {
        struct Proposal: Decodable { var app_cost: Double?; var app_name_available: Bool? }
        let body = try JSONSerialization.data(withJSONObject: ["spec": try JSONSerialization.jsonObject(with: specJSON)])
        return try await sender.send(apiURL + "/v2/apps/propose", method: .post, json: body).decode(Proposal.self).app_cost
    }

    /// `POST /v2/apps` (`app:create`): the app, with the deployment its creation started.
    public func createApp(_ spec: ServiceSpec) async throws -> RemoteApp {
        try await createApp(specJSON: try JSONSerialization.data(withJSONObject: spec.json))
    }

    /// `POST /v2/apps` with a whole app spec as the user wrote it (as `doctl apps create --spec`).
    public func createApp(specJSON: Data) async throws -> RemoteApp {
        struct Envelope: Decodable { var app: AppPlatformWire.App }
        let body = try JSONSerialization.data(withJSONObject: ["spec": try JSONSerialization.jsonObject(with: specJSON)])
        return Self.app(try await sender.send(apiURL + "/v2/apps", method: .post, json: body).decode(Envelope.self).app)
    }

    /// App Platform cannot read a source: its Git integration is not installed for that
    /// provider, or that account cannot see the repository. The exact answer is unconfirmed, so
    /// the shapes seen are matched — 400 "Account does not have access to the repo", "GitHub
    /// user does not have access to OWNER/REPO", "GitHub user not authenticated" — and
    /// anything else stays App Platform's own message.
    public struct GitAccessRefusal: Sendable, Equatable {
        /// The provider App Platform named, or the one the spec builds from.
        public var provider: ProviderKind?
        public var message: String
        /// Where a user grants App Platform access (the control panel: there is no API for it).
        public var installURL: String?
    }

    public func gitAccessRefusal(_ error: any Error, sources: [RemoteApp.Component.Source]) -> GitAccessRefusal? {
        guard case let .status(code, _, message)? = error as? HTTPError, (400..<500).contains(code), code != 401, code != 404, code != 429 else { return nil }
        let text = message.lowercased()
        let shapes = ["does not have access to", "user not authenticated", "not authorized to access", "has no access to", "is not linked"]
        guard shapes.contains(where: text.contains) else { return nil }
        let named: [(String, ProviderKind)] = [("github", .github), ("gitlab", .gitlab), ("bitbucket", .bitbucket)]
        let hosted = sources.compactMap { source -> ProviderKind? in
            if case let .hosted(provider, _, _, _) = source { return provider }
            return nil
        }
        let provider = named.first { text.contains($0.0) }?.1 ?? (hosted.count == 1 ? hosted[0] : nil)
        return GitAccessRefusal(provider: provider, message: message, installURL: provider.flatMap(installURL(for:)))
    }

    /// The control panel's page that installs App Platform's Git integration for a provider.
    public func installURL(for provider: ProviderKind) -> String? {
        [.github, .gitlab, .bitbucket].contains(provider) ? webURL + "/apps/\(provider.rawValue)/install" : nil
    }

    /// A spec's components with their sources, as App Platform would read them (for an app
    /// created from a spec file, before App Platform has answered).
    public static func sources(ofSpec json: Data) -> [RemoteApp.Component.Source] {
        struct Components: Decodable { var services, workers, jobs, static_sites: [AppPlatformWire.Component]? }
        guard let spec = try? JSONDecoder().decode(Components.self, from: json) else { return [] }
        return ((spec.services ?? []) + (spec.workers ?? []) + (spec.jobs ?? []) + (spec.static_sites ?? [])).map(source)
    }

    /// `GET /v2/apps/{id}`: the app's spec as App Platform keeps it (JSON, every field kept).
    public func spec(appID: String) async throws -> Data {
        let response = try await sender.send(apiURL + "/v2/apps/\(WebLinks.escaped(appID))")
        guard let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any], let app = object["app"] as? [String: Any],
              let spec = app["spec"] as? [String: Any] else {
            throw HTTPError.decoding(url: response.url, expected: "an app with its spec", excerpt: String(decoding: response.body.prefix(120), as: UTF8.self))
        }
        return try JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys])
    }

    /// `PUT /v2/apps/{id}` with a whole spec (`app:update`): App Platform deploys the change.
    public func update(appID: String, spec: Data) async throws -> RemoteApp {
        struct Envelope: Decodable { var app: AppPlatformWire.App }
        let object = try JSONSerialization.jsonObject(with: spec)
        let body = try JSONSerialization.data(withJSONObject: ["spec": object])
        return Self.app(try await sender.send(apiURL + "/v2/apps/\(WebLinks.escaped(appID))", method: .put, json: body).decode(Envelope.self).app)
    }

    /// `POST /v2/apps/{id}/rollback` (`app:update`): a deployment that brings back an earlier one.
    public func rollback(appID: String, to deploymentID: String) async throws -> RemoteDeployment {
        let body = try JSONSerialization.data(withJSONObject: ["deployment_id": deploymentID, "skip_pin": false] as [String: Any])
        let envelope = try await sender.send(apiURL + "/v2/apps/\(WebLinks.escaped(appID))/rollback", method: .post, json: body)
            .decode(AppPlatformWire.DeploymentEnvelope.self)
        return Self.deployment(envelope.deployment)
    }

    /// `DELETE /v2/apps/{id}` (`app:delete`): the app and every deployment it runs, gone for good.
    public func deleteApp(appID: String) async throws {
        _ = try await sender.send(apiURL + "/v2/apps/\(WebLinks.escaped(appID))", method: .delete)
    }

    /// `POST /v2/apps/{id}/deployments`: a new deployment of the branch head (App Platform builds
    /// no pinned commit); needs the token's `app:update` scope.
    public func createDeployment(appID: String) async throws -> RemoteDeployment {
        let body = try JSONSerialization.data(withJSONObject: ["force_build": true])
        let envelope = try await sender.send(apiURL + "/v2/apps/\(WebLinks.escaped(appID))/deployments", method: .post, json: body)
            .decode(AppPlatformWire.DeploymentEnvelope.self)
        return Self.deployment(envelope.deployment)
    }

    public func deployment(appID: String, id: String) async throws -> RemoteDeployment {
        Self.deployment(try await get("/v2/apps/\(WebLinks.escaped(appID))/deployments/\(WebLinks.escaped(id))",
                                      as: AppPlatformWire.DeploymentEnvelope.self).deployment)
    }

    /// `POST …/deployments/{id}/cancel`: stops one in progress (`app:update`).
    public func cancelDeployment(appID: String, id: String) async throws -> RemoteDeployment {
        let envelope = try await sender.send(apiURL + "/v2/apps/\(WebLinks.escaped(appID))/deployments/\(WebLinks.escaped(id))/cancel", method: .post,
                                             json: Data("{}".utf8)).decode(AppPlatformWire.DeploymentEnvelope.self)
        return Self.deployment(envelope.deployment)
    }

    // MARK: Logs

    public enum LogType: String, Sendable, CaseIterable {
        case build = "BUILD", deploy = "DEPLOY", run = "RUN"
    }

    /// Where a deployment's log is: a `live_url` WebSocket while it grows (asked with `follow`),
    /// `historic_urls` once written — both on App Platform's log hosts, carrying their own token.
    public struct LogLocation: Sendable, Equatable {
        public var liveURL: String?
        public var historicURLs: [String]
    }

    /// `GET …/deployments/{id}/logs?type=…` (every component) or `…/components/{name}/logs`.
    public func logs(appID: String, deploymentID: String, component: String?, type: LogType, follow: Bool) async throws -> LogLocation {
        var path = "/v2/apps/\(WebLinks.escaped(appID))/deployments/\(WebLinks.escaped(deploymentID))"
        if let component { path += "/components/\(WebLinks.escaped(component))" }
        let wire = try await get(path + "/logs?type=\(type.rawValue)&follow=\(follow)&pod_connection_timeout=3m", as: AppPlatformWire.Logs.self)
        return LogLocation(liveURL: wire.live_url.flatMap { $0.isEmpty ? nil : $0 }, historicURLs: wire.historic_urls ?? [])
    }

    /// An archived log's text. Its URL is on another host and carries its own access token, so
    /// it is fetched with no credential of ours and outside DigitalOcean's API budget.
    public func archivedLog(_ url: String) async throws -> String {
        var request = HTTPRequest(url: url, lane: RequestContext.current.lane)
        request.credentialOrigins = nil
        let response = try await http.send(request)
        guard (200..<300).contains(response.status) else {
            throw HTTPError.status(response.status, url: URLPolicy.authority(of: url) ?? "the log host", message: "the archived log could not be read")
        }
        return String(decoding: response.body, as: UTF8.self)
    }

    /// A live log's lines as App Platform streams them (each message `{"data": "…"}`), until the
    /// stream closes. Like the archive, the stream takes no credential of ours.
    public static func liveLines(_ url: String, options: TransferOptions = TransferOptions()) -> AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var partial = ""
                    for try await message in WebSocketClient.messages(url, options: options) {
                        let data = (try? JSONDecoder().decode(AppPlatformWire.LogMessage.self, from: Data(message.utf8)))?.data ?? message + "\n"
                        partial += data
                        while let newline = partial.firstIndex(of: "\n") {
                            continuation.yield(String(partial[..<newline]))
                            partial = String(partial[partial.index(after: newline)...])
                        }
                    }
                    if !partial.isEmpty { continuation.yield(partial) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    static func app(_ wire: AppPlatformWire.App) -> RemoteApp {
        let spec = wire.spec
        let components = (spec.services ?? []) + (spec.workers ?? []) + (spec.jobs ?? []) + (spec.static_sites ?? [])
        return RemoteApp(id: wire.id, name: spec.name, region: wire.region?.slug ?? spec.region, liveURL: wire.live_url,
                         components: components.map { RemoteApp.Component(name: $0.name, source: source($0)) },
                         // The one serving is ACTIVE even where the embedded object leaves its phase out
                         // (as App Platform's own example does).
                         active: wire.active_deployment.map { deployment($0, phase: "ACTIVE") },
                         inProgress: (wire.in_progress_deployment ?? wire.pending_deployment).map { deployment($0) })
    }

    static func source(_ c: AppPlatformWire.Component) -> RemoteApp.Component.Source {
        if let s = c.github { return .hosted(provider: .github, repository: s.repo, branch: s.branch, deployOnPush: s.deploy_on_push ?? false) }
        if let s = c.gitlab { return .hosted(provider: .gitlab, repository: s.repo, branch: s.branch, deployOnPush: s.deploy_on_push ?? false) }
        if let s = c.bitbucket { return .hosted(provider: .bitbucket, repository: s.repo, branch: s.branch, deployOnPush: s.deploy_on_push ?? false) }
        if let s = c.git { return .git(cloneURL: s.repo_clone_url, branch: s.branch) }
        return .other
    }

    static func deployment(_ wire: AppPlatformWire.Deployment, phase missing: String = "UNKNOWN") -> RemoteDeployment {
        var commits: [String: String] = [:]
        for service in (wire.services ?? []) + (wire.workers ?? []) + (wire.jobs ?? []) + (wire.static_sites ?? []) {
            if let hash = service.source_commit_hash, !hash.isEmpty { commits[service.name] = hash }
        }
        return RemoteDeployment(id: wire.id, phase: wire.phase ?? missing, cause: wire.cause, createdAt: wire.created_at.flatMap(ProviderDate.parse),
                                updatedAt: wire.updated_at.flatMap(ProviderDate.parse), commits: commits,
                                steps: (wire.progress?.steps ?? []).map(step))
    }

    /// A progress step; App Platform writes an unset time as the year 1.
    static func step(_ wire: AppPlatformWire.Step) -> RemoteStep {
        func time(_ text: String?) -> Date? {
            guard let text, !text.hasPrefix("0001-") else { return nil }
            return ProviderDate.parse(text)
        }
        let reason = wire.reason?.message.flatMap { $0.isEmpty ? nil : $0 }
        return RemoteStep(name: wire.name ?? "", status: RemoteStep.Status(rawValue: wire.status ?? "") ?? .unknown, component: wire.component_name,
                          reason: reason, startedAt: time(wire.started_at), endedAt: time(wire.ended_at), steps: (wire.steps ?? []).map(step))
    }
}

/// One value a client remembers from one call for the next (a struct's copies share it).
final class Remembered<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value?
    func set(_ value: Value) { lock.withLock { stored = value } }
    /// The value, forgotten as it is handed out.
    func take() -> Value? { lock.withLock { defer { stored = nil }; return stored } }
}
