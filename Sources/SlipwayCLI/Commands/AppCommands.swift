import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwayTUI

/// Parsing shared by `apps create` and `apps update`.
enum AppOptions {
    static func pairs(_ items: [String]) -> [String: String] {
        var variables: [String: String] = [:]
        for pair in items {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            variables[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return variables
    }

    /// `--secret-env` values: `K=V`, or a bare `K` whose value comes from the caller's environment
    /// (readable only by the same user, unlike the process list).
    static func secretPairs(_ items: [String], environment: [String: String]) throws -> [String: String] {
        var variables: [String: String] = [:]
        for item in items {
            if item.contains("=") {
                variables.merge(pairs([item])) { $1 }
            } else if let value = environment[item] {
                variables[item] = value
            } else {
                throw SlipwayCLIError.failure("--secret-env \(item): \(item) is not set in your environment (a bare name takes its value from there; or give \(item)=VALUE)")
            }
        }
        return variables
    }

    /// `K=V`, or a bare `K`: what `--secret-env` accepts.
    static func isSecretItem(_ item: String) -> Bool {
        !item.isEmpty && !item.hasPrefix("=")
    }

    /// `90`, `90s`, `10m`, `1h`, `1h30m` → seconds.
    static func seconds(_ text: String) -> Int? {
        if let plain = Int(text), plain > 0 { return plain }
        var total = 0
        var number = ""
        for character in text.lowercased() {
            if character.isNumber { number.append(character); continue }
            guard let value = Int(number) else { return nil }
            switch character {
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            default: return nil
            }
            number = ""
        }
        return number.isEmpty && total > 0 ? total : nil
    }
}

struct AppsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apps",
        abstract: "List, create and delete apps built from a branch.",
        subcommands: [List.self, Create.self, Update.self, Delete.self, Spec.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List apps.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: JSONFlag

        struct Row: Encodable {
            var id: Int64
            var name: String
            var source: String
            var branch: String
            var build: String?
            var run: String
            var service: Bool
            var healthUrl: String?
            var autodeploy: Bool
            var backend: String
            var components: [AppComponent]
            /// The backend's app id, region and live URL (App Platform's; null on this host).
            var remoteId: String?
            var region: String?
            var liveUrl: String?
            /// "unlinked" once the source's provider was unlinked (relinking re-attaches it).
            var sourceState: String
            /// The latest deployment's phase.
            var phase: String?
            var timeoutSeconds: Int?
            /// Plain variables with their values; secret ones by name only, masked.
            var variables: [Variable]
            var createdAt: Date

            enum CodingKeys: String, CodingKey {
                case id, name, source, branch, build, run, service, healthUrl, autodeploy, backend, components, remoteId, region, liveUrl,
                     sourceState, phase, timeoutSeconds, variables, createdAt
            }

            // Absent values are printed as null, not dropped: the contract lists every field.
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(id, forKey: .id)
                try c.encode(name, forKey: .name)
                try c.encode(source, forKey: .source)
                try c.encode(branch, forKey: .branch)
                try c.encode(build, forKey: .build)
                try c.encode(run, forKey: .run)
                try c.encode(service, forKey: .service)
                try c.encode(healthUrl, forKey: .healthUrl)
                try c.encode(autodeploy, forKey: .autodeploy)
                try c.encode(backend, forKey: .backend)
                try c.encode(components, forKey: .components)
                try c.encode(remoteId, forKey: .remoteId)
                try c.encode(region, forKey: .region)
                try c.encode(liveUrl, forKey: .liveUrl)
                try c.encode(sourceState, forKey: .sourceState)
                try c.encode(phase, forKey: .phase)
                try c.encode(timeoutSeconds, forKey: .timeoutSeconds)
                try c.encode(variables, forKey: .variables)
                try c.encode(createdAt, forKey: .createdAt)
            }
        }

        struct Variable: Encodable {
            var name: String
            var value: String
            var secret: Bool
        }

        static let masked = "••••••"

        func run() async throws {
            let context = try global.context()
            await AppsCommand.observeAppPlatform(context)
            let apps = try context.store.apps()
            // The vault is read once, and only if an app has secrets.
            let keyFile = context.paths.keyFile
            var opened: Vault?
            func vault() throws -> Vault {
                if let opened { return opened }
                let fresh = try Vault.open(keyFile: keyFile, create: false)
                opened = fresh
                return fresh
            }
            let rows = try apps.map { app in
                // Names only: the values stay sealed (and masked) on every output.
                let secretNames = ((try? context.store.secretEnvironment(appID: app.id!, vault: vault)) ?? [:]).keys.sorted()
                let variables = app.environment.sorted { $0.key < $1.key }.map { Variable(name: $0.key, value: $0.value, secret: false) }
                    + secretNames.map { Variable(name: $0, value: Self.masked, secret: true) }
                return Row(id: app.id ?? 0, name: app.name, source: app.sourcePath, branch: app.branch, build: app.buildCommand,
                           run: app.runCommand, service: app.isService, healthUrl: app.healthURL, autodeploy: app.autodeploy,
                           backend: app.backend.rawValue, components: app.components, remoteId: app.remoteID,
                           region: app.backendSettings["region"], liveUrl: app.backendSettings["live_url"],
                           sourceState: app.isSourceUnlinked ? "unlinked" : "ok", phase: try context.store.deployments(appID: app.id!, limit: 1).first?.phase.rawValue,
                           timeoutSeconds: app.timeoutSeconds, variables: variables, createdAt: app.createdAt)
            }
            if output.json { return try printJSON(rows) }
            if rows.isEmpty { Terminal.error("no apps; create one with 'slipway apps create NAME --source bitbucket/WS/REPO --branch B --run CMD'"); return }
            var table = TextTable("NAME", "BACKEND", "SOURCE", "BRANCH", "AUTODEPLOY", "LATEST DEPLOYMENT", "TIMEOUT", "VARIABLES", "RUN")
            for r in rows {
                let variables = r.variables.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
                table.add(r.name, r.backend + (r.region.map { " (\($0))" } ?? ""), r.source.isEmpty ? "-" : r.source + (r.sourceState == "unlinked" ? " (unlinked)" : ""),
                          r.branch, r.autodeploy ? "yes" : "no",
                          r.phase ?? "none yet", r.timeoutSeconds.map { "\($0) s" } ?? "none", variables.isEmpty ? "-" : TerminalText.sanitize(variables),
                          TerminalText.sanitize(r.run))
            }
            Terminal.out(table.render())
        }
    }

    /// An app by name; one not stored yet may be an App Platform app made since the last look, so
    /// App Platform is asked once before the name is refused.
    static func app(named name: String, context: CommandContext) async throws -> App {
        if let found = try context.store.app(named: name) { return found }
        if try context.store.account(for: .digitalocean) != nil {
            await observeAppPlatform(context)
            if let found = try context.store.app(named: name) { return found }
        }
        throw SlipwayCLIError.failure("no app named '\(name)'; see 'slipway apps'")
    }

    /// With no engine running, this process looks at App Platform's apps itself (as `ls BRANCH`
    /// fetches for itself); a running engine keeps them fresh on its own.
    static func observeAppPlatform(_ context: CommandContext) async {
        guard let account = try? context.store.account(for: .digitalocean), account.status == .ok,
              !EngineRequest(context: context).engineRuns else { return }
        do {
            let client = try ProviderFactory(context: context).appPlatform(for: account)
            try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(15)) {
                try context.store.applyRemoteApps(try await client.apps(), now: Date())
            }
        } catch {
            Terminal.warning("showing the App Platform apps stored before; reading them failed: \(error)")
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an app from a branch and deploy its head.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app's name (lowercase letters, digits, - and _).") var name: String
        @Option(help: ArgumentHelp("The repository, as PROVIDER/WORKSPACE/REPO.", valueName: "PATH"), completion: .custom(Completions.repositoryPaths))
        var source: String?
        @Option(help: "The branch to build.") var branch: String?
        @Option(help: ArgumentHelp("App Platform: the whole app spec as JSON, as 'doctl apps create --spec' takes it ('-' reads stdin); instead of --source, --branch and the commands.", valueName: "FILE"),
                completion: .file())
        var spec: String?
        @Option(help: "Build command (run with /bin/sh -c).") var build: String?
        @Option(help: "Run command (run with /bin/sh -c); exit 0 means ACTIVE unless --service. Required on this host.") var run: String?
        @Flag(help: "The run command is a long-running service.") var service = false
        @Option(name: .customLong("health-url"), help: "With --service: ready once this URL answers 2xx.") var healthURL: String?
        @Option(name: .customLong("env"), help: ArgumentHelp("An environment variable (repeatable).", valueName: "K=V")) var env: [String] = []
        @Option(name: .customLong("secret-env"),
                help: ArgumentHelp("A secret variable, sealed in the vault (repeatable); a bare K takes its value from your environment, out of the process list.", valueName: "K[=V]"))
        var secretEnv: [String] = []
        @Flag(name: .customLong("no-autodeploy"), help: "Do not deploy when the branch gets a new commit.") var noAutodeploy = false
        @Option(help: ArgumentHelp("Give up on a deployment after this long (90s, 10m, 1h).", valueName: "DURATION")) var timeout: String?
        @Option(help: ArgumentHelp("Where it runs: local (this host) or digitalocean (App Platform).", valueName: "BACKEND")) var on: String = "local"
        @Option(help: "App Platform: the region (nyc, ams, fra, …; App Platform's nearest if unset).") var region: String?
        @Option(name: .customLong("http-port"), help: "App Platform: the port the service listens on (8080 if unset).") var httpPort: Int?
        @Option(name: .customLong("instance-size"), help: "App Platform: the instance size slug (apps-s-1vcpu-0.5gb if unset).") var instanceSize: String?
        @OptionGroup var confirmation: ConfirmFlag

        var backend: AppBackend { AppBackend(rawValue: on) ?? .local }

        func validate() throws {
            guard AppBackend(rawValue: on) != nil else { throw ValidationError("--on '\(on)' is not local or digitalocean") }
            if spec != nil {
                guard backend == .digitalocean else { throw ValidationError("--spec is an App Platform app spec: add --on digitalocean") }
                let given = [("--source", source != nil), ("--branch", branch != nil), ("--build", build != nil), ("--run", run != nil),
                             ("--env", !env.isEmpty), ("--secret-env", !secretEnv.isEmpty), ("--region", region != nil),
                             ("--http-port", httpPort != nil), ("--instance-size", instanceSize != nil)].filter(\.1).map(\.0)
                if !given.isEmpty { throw ValidationError("--spec gives the whole app; drop \(given.joined(separator: ", ")) (or write them in the spec)") }
                return try validateForAppPlatform()
            }
            guard let source else { throw ValidationError("--source PROVIDER/WORKSPACE/REPO is required (or --spec FILE with --on digitalocean)") }
            guard branch != nil else { throw ValidationError("--branch is required") }
            if backend == .local {
                guard run != nil else { throw ValidationError("--run is required for an app on this host") }
                if region != nil || httpPort != nil || instanceSize != nil {
                    throw ValidationError("--region, --http-port and --instance-size go with --on digitalocean")
                }
            } else {
                try validateForAppPlatform()
            }
            guard App.isValidName(name) else {
                throw ValidationError("'\(name)' is not a valid app name: use 1–63 lowercase letters, digits, '-' or '_', starting with a letter or digit")
            }
            // Syntax only: which parts are the workspace and the repository, the mirror decides.
            guard try MirrorPath.parse(source).repository != nil else { throw ValidationError("--source must be PROVIDER/WORKSPACE/REPO") }
            for pair in env where !pair.contains("=") || pair.hasPrefix("=") {
                throw ValidationError("--env '\(pair)' is not K=V")
            }
            for item in secretEnv where !AppOptions.isSecretItem(item) {
                throw ValidationError("--secret-env '\(item.split(separator: "=").first ?? "")' is not K=V or K")
            }
            if healthURL != nil && !service { throw ValidationError("--health-url goes with --service") }
            if let timeout, AppOptions.seconds(timeout) == nil { throw ValidationError("--timeout '\(timeout)' is not a duration such as 90s, 10m or 1h") }
        }

        /// What an App Platform app may be called, and the options only this host has.
        func validateForAppPlatform() throws {
            guard AppPlatformClient.ServiceSpec.isValidName(name) else {
                throw ValidationError("'\(name)' is not an App Platform app name: 2–32 lowercase letters, digits and '-', starting with a letter")
            }
            if service || healthURL != nil || timeout != nil { throw ValidationError("--service, --health-url and --timeout are for apps on this host") }
        }

        /// The app on App Platform: a spec of one service from the branch (`deploy_on_push` unless
        /// --no-autodeploy), App Platform's monthly quote confirmed, then `POST /v2/apps`.
        func createOnAppPlatform(context: CommandContext, path: MirrorPath, repository: Repository, branch: String) async throws {
            let source: RemoteApp.Component.Source
            switch path.provider {
            case .bitbucket?, .github?, .gitlab?:
                source = .hosted(provider: path.provider!, repository: "\(path.workspace ?? "")/\(repository.slug)", branch: branch, deployOnPush: !noAutodeploy)
            case .git?:
                guard let clone = repository.cloneURL else { throw SlipwayCLIError.failure("\(path) has no clone URL") }
                source = .git(cloneURL: clone, branch: branch)
            default:
                throw SlipwayCLIError.failure("App Platform builds from Bitbucket, GitHub, GitLab or a public Git repository, not \(path)")
            }
            let secrets = try AppOptions.secretPairs(secretEnv, environment: ProcessInfo.processInfo.environment)
            let spec = AppPlatformClient.ServiceSpec(name: name, region: region, source: source, buildCommand: build, runCommand: run, httpPort: httpPort,
                                                     instanceSize: instanceSize, environment: AppOptions.pairs(env), secrets: secrets)
            let actions = AppPlatformActions(context: context)
            let platform = try actions.client()
            let cost: Double?
            do {
                cost = try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(30)) { try await platform.proposedMonthlyCost(spec) }
            } catch {
                throw AppPlatformActions.explain(error, doing: "check the spec of \(name)", scope: "app:read")
            }
            let quote = cost.map { String(format: "$%.2f a month", $0) } ?? "an unstated cost"
            try confirmation.confirm("App Platform quotes \(quote) for \(name) (\(region ?? "its nearest region"), \(instanceSize ?? "apps-s-1vcpu-0.5gb")). Create it?",
                                     refused: "nothing was created on App Platform")
            let created: RemoteApp
            do {
                created = try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(60)) { try await platform.createApp(spec) }
            } catch {
                throw AppPlatformActions.explain(error, doing: "create \(name)", scope: "app:create", platform: platform, sources: [source])
            }
            let app = try context.store.recordCreatedRemoteApp(created, autodeploy: !noAutodeploy, now: Date())
            let first = try context.store.deployments(appID: app.id!, limit: 1).first
            Terminal.error("created app '\(name)' on App Platform (\(created.id)) from \(path) \(branch), \(quote)"
                           + (first.map { "; its first deployment \($0.id!) is \($0.phase.rawValue) ('slipway deployments watch \($0.id!)' follows it)" } ?? ""))
        }

        func offerWebhook(context: CommandContext, repository: Repository, path: String) async {
            let resolved = try? context.store.resolvePath(path)
            let account = try? resolved?.provider.flatMap { try context.store.account(for: $0) }
            switch AppsCommand.webhookPlan(context: context, repository: repository, account: account) {
            case let .failure(skip):
                Terminal.error(skip.message)
            case let .success(url):
                do {
                    let target = WebhookInstaller.Target(repository: repository, workspaceSlug: resolved?.workspace ?? "", path: path)
                    switch try await WebhooksCommand.installer(context, account: account!).install(target, url: url) {
                    case .installed: Terminal.error("installed a push webhook on \(path) → \(url), so pushes deploy at once")
                    case .unchanged: Terminal.error("pushes to \(path) arrive by its webhook (→ \(url))")
                    }
                } catch {
                    Terminal.error("it polls \(path) every \(context.config.engine.appPollSeconds) s instead: installing the webhook failed: \(error)")
                }
            }
        }

        /// `--spec FILE`: the user's own App Platform spec, quoted and created as written (its
        /// name filled in from NAME, or required to be NAME); the app's sources are matched to the
        /// mirror like any found app's.
        func createFromSpec(context: CommandContext, file: String) async throws {
            let json = try AppSpecFile.read(file, name: name)
            let sources = AppPlatformClient.sources(ofSpec: json)
            let actions = AppPlatformActions(context: context)
            let platform = try actions.client()
            let cost: Double? = try await actions.ask("check the spec of \(name)", scope: "app:read") { try await platform.proposedMonthlyCost(specJSON: json) }
            let quote = cost.map { String(format: "$%.2f a month", $0) } ?? "an unstated cost"
            try confirmation.confirm("App Platform quotes \(quote) for \(name) from \(file == "-" ? "the spec on stdin" : file). Create it?",
                                     refused: "nothing was created on App Platform")
            let created: RemoteApp
            do {
                created = try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(60)) { try await platform.createApp(specJSON: json) }
            } catch {
                throw AppPlatformActions.explain(error, doing: "create \(name)", scope: "app:create", platform: platform, sources: sources)
            }
            // Autodeploy as the spec says: on where its sources deploy on push (a git source,
            // which App Platform cannot deploy on push, is Slipway's to deploy), off with --no-autodeploy.
            let specDeploysOnPush = sources.allSatisfy { if case let .hosted(_, _, _, onPush) = $0 { onPush } else { true } }
            let app = try context.store.recordCreatedRemoteApp(created, autodeploy: !noAutodeploy && specDeploysOnPush, now: Date())
            let first = try context.store.deployments(appID: app.id!, limit: 1).first
            let matched = app.repositoryID != nil ? " from \(app.sourcePath) \(app.branch)"
                : " (its source is not in the mirror; link its provider to see its branch beside it)"
            Terminal.error("created app '\(name)' on App Platform (\(created.id))\(matched), \(quote)"
                           + (first.map { "; its first deployment \($0.id!) is \($0.phase.rawValue) ('slipway deployments watch \($0.id!)' follows it)" } ?? ""))
        }

        func run() async throws {
            let context = try global.context()
            try context.refuseIfReadonly("apps create")
            if try context.store.app(named: name) != nil {
                throw SlipwayCLIError.failure("an app named '\(name)' exists; delete it first or choose another name")
            }
            if let spec { return try await createFromSpec(context: context, file: spec) }
            guard let source, let branch else { throw SlipwayCLIError.failure("--source and --branch are required") }
            let path = try context.store.resolvePath(source)
            guard let repository = try context.store.repository(at: path) else {
                throw SlipwayCLIError.failure(NearestName.missing(path, in: context.store))
            }
            guard path.branch == nil else {
                throw SlipwayCLIError.failure("--source names a repository, not a branch: use --source \(MirrorPath(provider: path.provider, workspace: path.workspace, repository: path.repository)) --branch \(path.branch!)")
            }
            guard try context.store.branch(repositoryID: repository.id!, name: branch) != nil else {
                var branchPath = path
                branchPath.branch = branch
                throw SlipwayCLIError.failure(NearestName.missing(branchPath, in: context.store).replacingOccurrences(of: "no branch", with: "--branch: no branch"))
            }
            if backend == .digitalocean { return try await createOnAppPlatform(context: context, path: path, repository: repository, branch: branch) }
            let app = App(name: name, repositoryID: repository.id, sourcePath: path.description, branch: branch, buildCommand: build,
                          runCommand: run ?? "", isService: service, healthURL: healthURL, autodeploy: !noAutodeploy,
                          timeoutSeconds: timeout.flatMap(AppOptions.seconds), environment: AppOptions.pairs(env), createdAt: Date())
            // Secrets are resolved first: a missing one leaves no half-made app behind.
            let secrets = try AppOptions.secretPairs(secretEnv, environment: ProcessInfo.processInfo.environment)
            do {
                let created = try context.store.createApp(app)
                if !secrets.isEmpty {
                    let vault = try Vault.open(keyFile: context.paths.keyFile, create: true)
                    try context.store.setSecretEnvironment(appID: created.id!, secrets, vault: vault)
                }
            } catch let error as StoreError {
                throw SlipwayCLIError.failure(error.description)
            } catch let error as VaultError {
                throw SlipwayCLIError.failure(error.description)
            }
            Terminal.error("created app '\(name)' from \(path) \(branch)")
            await offerWebhook(context: context, repository: repository, path: path.description)
            // Creating an app deploys the branch's current head.
            switch try await EngineRequest(context: context).send(DeployPayload(app: name, cause: "app created")) {
            case let .answered(result): Terminal.error(result)
            case .queued: Terminal.error("its first deployment is queued; " + EngineRequest.noEngine)
            }
        }
    }

    /// As App Platform does when an app is created: a push webhook on the source, when the user
    /// administers it and the provider can reach the receiver; otherwise one line saying it polls, and why.
    static func webhookPlan(context: CommandContext, repository: Repository, account: Account?) -> Result<String, WebhookSkip> {
        let polls = "it polls \(TerminalText.sanitize(repository.fullName)) every \(context.config.engine.appPollSeconds) s instead"
        guard let account else { return .failure(WebhookSkip(message: "\(polls): its provider is not linked")) }
        guard repository.isAdmin else {
            return .failure(WebhookSkip(message: "\(polls): you do not administer the repository, so no webhook can be installed on it"))
        }
        // A receiver listening on port 0 has its real address in the running engine's lock.
        var listen = context.config.webhooks.listen
        if listen.hasSuffix(":0"), let running = EngineLock.holder(path: context.paths.engineLockFile)?.webhookListener { listen = running }
        do {
            return .success(try WebhookTarget.url(for: account, override: nil, publicURL: context.config.webhooks.publicURL, listen: listen))
        } catch {
            return .failure(WebhookSkip(message: "\(polls): \(error.description)"))
        }
    }

    struct WebhookSkip: Error { var message: String }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "update", abstract: "Change an app; the next deployment uses the change.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app's name.", completion: .custom(Completions.apps)) var name: String
        @Option(help: "The branch to build.") var branch: String?
        @Option(help: "Build command (empty to drop it).") var build: String?
        @Option(help: "Run command.") var run: String?
        @Option(name: .customLong("env"), help: ArgumentHelp("Set a variable (repeatable).", valueName: "K=V")) var env: [String] = []
        @Option(name: .customLong("unset-env"), help: ArgumentHelp("Remove a variable, plain or secret (repeatable).", valueName: "K")) var unset: [String] = []
        @Option(name: .customLong("secret-env"),
                help: ArgumentHelp("Set a secret variable (repeatable); a bare K takes its value from your environment.", valueName: "K[=V]"))
        var secretEnv: [String] = []
        @Option(help: ArgumentHelp("Give up on a deployment after this long (0 for never).", valueName: "DURATION")) var timeout: String?
        @Flag(inversion: .prefixedNo, help: "Deploy when the branch gets a new commit.") var autodeploy: Bool?
        @Option(help: "App Platform: the component to change (needed when the app has several).") var component: String?

        func validate() throws {
            for pair in env where !pair.contains("=") || pair.hasPrefix("=") {
                throw ValidationError("'\(pair.split(separator: "=").first ?? "")' is not K=V")
            }
            for item in secretEnv where !AppOptions.isSecretItem(item) {
                throw ValidationError("--secret-env '\(item.split(separator: "=").first ?? "")' is not K=V or K")
            }
            if let timeout, timeout != "0", AppOptions.seconds(timeout) == nil { throw ValidationError("--timeout '\(timeout)' is not a duration such as 90s, 10m or 1h") }
        }

        func run() async throws {
            let context = try global.context()
            try context.refuseIfReadonly("apps update")
            guard var app = try context.store.app(named: name) else { throw SlipwayCLIError.failure("no app named '\(name)'; see 'slipway apps'") }
            if app.backend == .digitalocean {
                if timeout != nil { throw SlipwayCLIError.failure("--timeout is for apps on this host; App Platform times its own deployments") }
                var edit = AppSpecEdit(component: component)
                edit.branch = branch
                edit.buildCommand = build
                edit.runCommand = run
                edit.environment = AppOptions.pairs(env)
                edit.secrets = try AppOptions.secretPairs(secretEnv, environment: ProcessInfo.processInfo.environment)
                edit.unset = unset
                return try await AppPlatformActions(context: context).update(app, edit: edit, autodeploy: autodeploy)
            }
            if component != nil { throw SlipwayCLIError.failure("--component is for App Platform apps; \(app.name) runs on this host") }
            if let branch {
                guard let repositoryID = app.repositoryID, try context.store.branch(repositoryID: repositoryID, name: branch) != nil else {
                    throw SlipwayCLIError.failure("\(app.sourcePath) has no branch '\(branch)' in the mirror")
                }
                app.branch = branch
            }
            if let build { app.buildCommand = build.isEmpty ? nil : build }
            if let run { app.runCommand = run }
            if let autodeploy { app.autodeploy = autodeploy }
            if let timeout { app.timeoutSeconds = timeout == "0" ? nil : AppOptions.seconds(timeout) }
            app.environment.merge(AppOptions.pairs(env)) { $1 }
            for key in unset { app.environment[key] = nil }
            let newSecrets = try AppOptions.secretPairs(secretEnv, environment: ProcessInfo.processInfo.environment)
            do {
                try context.store.updateApp(app)
                if !secretEnv.isEmpty || !unset.isEmpty {
                    let vault = { try Vault.open(keyFile: context.paths.keyFile, create: true) }
                    var secrets = try context.store.secretEnvironment(appID: app.id!, vault: vault)
                    secrets.merge(newSecrets) { $1 }
                    for key in unset { secrets[key] = nil }
                    try context.store.setSecretEnvironment(appID: app.id!, secrets, vault: try vault())
                }
            } catch let error as StoreError {
                throw SlipwayCLIError.failure(error.description)
            } catch let error as VaultError {
                throw SlipwayCLIError.failure(error.description)
            }
            Terminal.error("updated app '\(name)'; the next deployment uses it ('slipway deploy \(name)' to deploy now)")
        }
    }

    struct Spec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "spec", abstract: "Print an App Platform app's spec (JSON, as App Platform keeps it).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app's name.", completion: .custom(Completions.apps)) var name: String

        func run() async throws {
            let context = try global.context()
            guard let app = try context.store.app(named: name) else { throw SlipwayCLIError.failure("no app named '\(name)'; see 'slipway apps'") }
            guard app.backend == .digitalocean else {
                throw SlipwayCLIError.failure("\(app.name) runs on this host; it has no App Platform spec ('slipway apps' shows its commands)")
            }
            try await AppPlatformActions(context: context).printSpec(app)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an app with its deployments and logs.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app's name.", completion: .custom(Completions.apps)) var name: String
        @Flag(help: "App Platform: delete the app on App Platform itself (its deployments stop for good).") var remote = false
        @OptionGroup var confirmation: ConfirmFlag

        func run() async throws {
            let context = try global.context()
            try context.refuseIfReadonly("apps delete")
            guard let app = try context.store.app(named: name) else { throw SlipwayCLIError.failure("no app named '\(name)'; see 'slipway apps'") }
            if app.backend == .digitalocean {
                guard remote else {
                    throw SlipwayCLIError.failure("\(app.name) is an App Platform app; 'slipway apps delete \(name) --remote' deletes it there, with everything it serves")
                }
                try confirmation.confirm("Delete '\(app.name)' on App Platform? Its live deployment stops and App Platform keeps nothing of it.",
                                         refused: "nothing was deleted on App Platform")
                return try await AppPlatformActions(context: context).delete(app)
            }
            if remote { throw SlipwayCLIError.failure("--remote is for App Platform apps; \(app.name) runs on this host") }
            let count = try context.store.deployments(appID: app.id!, limit: 10_000).count
            try confirmation.confirm("Delete app '\(name)' with its \(count) deployment\(count == 1 ? "" : "s") and their logs (a running service stops)?",
                                     refused: "app '\(name)' is kept")
            do {
                try context.store.deleteApp(named: name)
            } catch let error as StoreError {
                throw SlipwayCLIError.failure(error.description)
            }
            Terminal.error("deleted app '\(name)'")
        }
    }
}

struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deploy", abstract: "Deploy an app now (its branch head, or --commit).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The app's name.", completion: .custom(Completions.apps)) var app: String
    @Option(help: "A full or abbreviated commit hash.") var commit: String?
    @Flag(help: "Follow the deployment until it ends: exit 0 when it is ACTIVE, 1 otherwise.") var wait = false

    func validate() throws {
        if let commit, !(4...40).contains(commit.count) || !commit.allSatisfy(\.isHexDigit) {
            throw ValidationError("--commit '\(commit)' is not a commit hash")
        }
    }

    func run() async throws {
        let context = try global.context()
        try context.refuseIfReadonly("deploy")
        _ = try await AppsCommand.app(named: app, context: context)
        let full = try commit.map { try resolve($0, app: app, store: context.store) }
        try await DeploymentRequest(context: context, app: app)
            .send(commit: full, cause: commit.map { "commit \($0.prefix(7)) deployed by hand" } ?? "deployed by hand", wait: wait)
    }

    /// A full hash from an abbreviated one, among the commits stored for the app's repository.
    func resolve(_ commit: String, app name: String, store: Store) throws -> String {
        guard commit.count < 40 else { return commit.lowercased() }
        guard let app = try store.app(named: name), let repositoryID = app.repositoryID else { return commit }
        let matches = try store.commitHashes(repositoryID: repositoryID, prefix: commit)
        guard matches.count == 1 else {
            throw SlipwayCLIError.failure(matches.isEmpty ? "no stored commit starts with \(commit); give the full hash" : "\(commit) is ambiguous; give more of the hash")
        }
        return matches[0]
    }
}

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rollback", abstract: "Redeploy the commit that was ACTIVE before the current one.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The app's name.", completion: .custom(Completions.apps)) var app: String
    @Flag(help: "Follow the deployment until it ends: exit 0 when it is ACTIVE, 1 otherwise.") var wait = false

    func run() async throws {
        let context = try global.context()
        try context.refuseIfReadonly("rollback")
        let found = try await AppsCommand.app(named: app, context: context)
        let deployments = try context.store.deployments(appID: found.id!)
        // App Platform rolls back to the deployment that served before (its spec too, whatever the commit).
        let earlier = found.backend == .digitalocean ? deployments.first { $0.phase == .superseded && $0.remoteID != nil } : Self.previousActive(in: deployments)
        guard let target = earlier else {
            throw SlipwayCLIError.failure("\(app) has no earlier ACTIVE deployment to roll back to; see 'slipway deployments \(app)'")
        }
        if found.backend == .digitalocean {
            return try await AppPlatformActions(context: context).rollback(found, to: target, wait: wait)
        }
        try await DeploymentRequest(context: context, app: app)
            .send(commit: target.commitHash, cause: "rollback to \(target.commitHash.prefix(7)) (deployment \(target.id!))", wait: wait)
    }

    /// The newest deployment that was ACTIVE (now SUPERSEDED) with another commit than the
    /// current ACTIVE one; deployments come newest first.
    static func previousActive(in deployments: [Deployment]) -> Deployment? {
        let current = deployments.first { $0.phase == .active }
        return deployments.first { $0.phase == .superseded && $0.commitHash != current?.commitHash }
    }
}

/// A user's deployment, asked of the engine; with `wait`, followed to its end.
struct DeploymentRequest {
    let context: CommandContext
    let app: String

    func send(commit: String?, cause: String, wait: Bool) async throws {
        guard let found = try context.store.app(named: app), let appID = found.id else {
            throw SlipwayCLIError.failure("no app named '\(app)'; see 'slipway apps'")
        }
        if found.backend == .digitalocean {
            guard commit == nil else {
                throw SlipwayCLIError.failure("App Platform builds the head of \(found.branch), never a pinned commit; deploy \(app) without --commit")
            }
            return try await AppPlatformActions(context: context).deploy(found, wait: wait)
        }
        let newestBefore = try context.store.deployments(appID: appID, limit: 1).first?.id ?? 0
        let request = EngineRequest(context: context)
        switch try await request.send(DeployPayload(app: app, commit: commit, cause: cause)) {
        case let .answered(result):
            Terminal.error(result)
        case let .queued(id):
            guard wait else {
                Terminal.error("deployment requested; " + EngineRequest.noEngine)
                return
            }
            Terminal.error("deployment requested; waiting: \(EngineRequest.noEngine) (Ctrl-C stops waiting; the request stays queued)")
            let command = try await request.finished(id, until: nil, whileNoEngine: true)
            if command?.status == .failed { throw SlipwayCLIError.failure(command?.result ?? "the engine could not deploy \(app)") }
            if let result = command?.result { Terminal.error(result) }
        }
        guard wait else { return }
        guard let deployment = try context.store.deployments(appID: appID, limit: 20)
            .last(where: { $0.id! > newestBefore && (commit == nil || $0.commitHash == commit) }) else {
            throw SlipwayCLIError.failure("the engine queued no deployment of \(app) to follow; see 'slipway deployments \(app)'")
        }
        try await DeploymentFollower(store: context.store, engineRuns: { request.engineRuns }).follow(deployment.id!, app: app)
    }
}

struct DeploymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployments",
        abstract: "List deployments, newest first, or watch one.",
        subcommands: [List.self, Watch.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List deployments, newest first, with why any failed and each step's duration.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: JSONFlag
        @Argument(help: "Only this app's deployments.", completion: .custom(Completions.apps)) var app: String?

        func run() async throws {
            let context = try global.context()
            var appID: Int64?
            if let app {
                guard let found = try context.store.app(named: app) else { throw SlipwayCLIError.failure("no app named '\(app)'; see 'slipway apps'") }
                appID = found.id
            }
            let apps = Dictionary(try context.store.apps().map { ($0.id ?? 0, $0) }, uniquingKeysWith: { first, _ in first })
            let deployments = try context.store.deployments(appID: appID)
            let steps = try context.store.steps(deploymentIDs: deployments.compactMap(\.id))
            let rows = deployments.map { DeploymentRow($0, app: apps[$0.appID]?.name ?? "?", backend: apps[$0.appID]?.backend ?? .local,
                                                       steps: steps[$0.id!] ?? []) }
            if output.json { return try printJSON(rows) }
            if rows.isEmpty { Terminal.error("no deployments yet"); return }
            var table = TextTable("ID", "APP", "COMMIT", "PHASE", "CREATED", "TOOK", "STEPS", "CAUSE / REASON")
            for (row, deployment) in zip(rows, deployments) {
                let took = DeploymentFollower.seconds((deployment.finishedAt ?? Date()).timeIntervalSince(deployment.createdAt))
                let stepsText = (steps[deployment.id!] ?? []).filter { $0.status != .pending && $0.status != .skipped }.map { step in
                    step.name + " " + (step.startedAt.map { DeploymentFollower.seconds((step.finishedAt ?? Date()).timeIntervalSince($0)) } ?? "-")
                        + (step.status == .failed ? " ✗" : step.status == .canceled ? " (canceled)" : "")
                }.joined(separator: ", ")
                let why = TerminalText.sanitize(row.reason.map { "\(row.cause): \($0)" } ?? row.cause)
                table.add(String(row.id), row.app, String(row.commit.prefix(7)), row.phase, RelativeTime.text(row.createdAt) ?? "-",
                          deployment.phase == .pendingBuild ? "-" : took, stepsText.isEmpty ? "-" : stepsText, why)
            }
            Terminal.out(table.render())
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "watch", abstract: "Follow a deployment until it ends: exit 0 when it is ACTIVE, 1 otherwise.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The deployment's id.", completion: .custom(Completions.deployments)) var deployment: Int64

        func run() async throws {
            let context = try global.context()
            guard let found = try context.store.deployment(id: deployment) else {
                throw SlipwayCLIError.failure("no deployment \(deployment); see 'slipway deployments'")
            }
            if let owner = try context.store.apps().first(where: { $0.id == found.appID }), owner.backend == .digitalocean {
                return try await AppPlatformActions(context: context).follow(found, of: owner)
            }
            let app = try context.store.appNames()[found.appID] ?? "?"
            let request = EngineRequest(context: context)
            try await DeploymentFollower(store: context.store, engineRuns: { request.engineRuns }).follow(deployment, app: app)
        }
    }
}

/// A deployment in `deployments --json` (DESIGN.md's contract).
struct DeploymentRow: Encodable {
    var id: Int64
    var app: String
    var backend: String
    var remoteId: String?
    var commit: String
    var phase: String
    var cause: String
    /// Why it failed, in one line.
    var reason: String?
    var createdAt: Date
    var updatedAt: Date
    var finishedAt: Date?
    var progress: Progress

    struct Progress: Encodable {
        var done: Int
        var total: Int
        var steps: [Step]
    }

    struct Step: Encodable {
        var name: String
        var status: String
        var startedAt: Date?
        var endedAt: Date?
        var steps: [Step] = []

        enum CodingKeys: String, CodingKey { case name, status, startedAt, endedAt, steps }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(status, forKey: .status)
            try c.encode(startedAt, forKey: .startedAt)
            try c.encode(endedAt, forKey: .endedAt)
            try c.encode(steps, forKey: .steps)
        }
    }

    init(_ deployment: Deployment, app: String, backend: AppBackend, steps: [DeploymentStep]) {
        id = deployment.id ?? 0
        self.app = app
        self.backend = backend.rawValue
        remoteId = deployment.remoteID
        commit = deployment.commitHash
        phase = deployment.phase.rawValue
        cause = deployment.cause
        reason = deployment.reason
        createdAt = deployment.createdAt
        updatedAt = deployment.updatedAt
        finishedAt = deployment.finishedAt
        let leaves = steps.leaves
        progress = Progress(done: leaves.filter { $0.status == .succeeded || $0.status == .skipped }.count, total: leaves.count,
                            steps: Self.tree(steps[...], depth: 0))
    }

    /// Steps kept in pre-order with their depth, nested again as App Platform nests them.
    static func tree(_ steps: ArraySlice<DeploymentStep>, depth: Int) -> [Step] {
        var out: [Step] = []
        var index = steps.startIndex
        while index < steps.endIndex {
            let step = steps[index]
            var end = index + 1
            while end < steps.endIndex, steps[end].depth > step.depth { end += 1 }
            out.append(Step(name: step.name, status: step.status.rawValue, startedAt: step.startedAt, endedAt: step.finishedAt,
                            steps: tree(steps[(index + 1)..<end], depth: depth + 1)))
            index = end
        }
        return out
    }

    enum CodingKeys: String, CodingKey { case id, app, backend, remoteId, commit, phase, cause, reason, createdAt, updatedAt, finishedAt, progress }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(app, forKey: .app)
        try c.encode(backend, forKey: .backend)
        try c.encode(remoteId, forKey: .remoteId)
        try c.encode(commit, forKey: .commit)
        try c.encode(phase, forKey: .phase)
        try c.encode(cause, forKey: .cause)
        try c.encode(reason, forKey: .reason)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(progress, forKey: .progress)
    }
}

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a deployment's log.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The deployment's id.", completion: .custom(Completions.deployments)) var deployment: Int64
    @Flag(name: .shortAndLong, help: "Keep printing as the log grows, until the deployment finishes (a service: until it is replaced or stops).")
    var follow = false
    @Option(help: ArgumentHelp("Only this log: build (fetch, checkout, build), deploy, or run (a service's output).", valueName: "TYPE"))
    var type: LogKind?
    @Option(help: "App Platform: one component's log (every component's if unset).") var component: String?

    enum LogKind: String, ExpressibleByArgument, CaseIterable {
        case build, deploy, run
        /// The local deployer's steps that make up this log.
        var localSteps: Set<String> {
            switch self {
            case .build: ["fetch", "checkout", "build"]
            case .deploy: ["deploy"]
            case .run: ["run"]
            }
        }
    }

    func run() async throws {
        let context = try global.context()
        guard let found = try context.store.deployment(id: deployment) else {
            throw SlipwayCLIError.failure("no deployment \(deployment); see 'slipway deployments'")
        }
        let owner = try context.store.apps().first { $0.id == found.appID }
        if let owner, owner.backend == .digitalocean {
            return try await AppPlatformActions(context: context).logs(found, of: owner, types: type.map { [$0] } ?? LogKind.allCases,
                                                                        component: component, follow: follow)
        }
        if component != nil { throw SlipwayCLIError.failure("--component is for App Platform apps; deployment \(deployment) ran on this host") }
        let isService = owner?.isService ?? false
        var last: Int64 = 0
        while true {
            let chunks = try context.store.logChunks(deploymentID: deployment, after: last)
            for chunk in chunks {
                last = chunk.id ?? last
                if let type, !type.localSteps.contains(chunk.step) { continue }
                // Build output is untrusted: make control sequences inert, keep line breaks.
                let text = chunk.text.split(separator: "\n", omittingEmptySubsequences: false)
                    .map { TerminalText.sanitize(String($0)) }.joined(separator: "\n")
                FileHandle.standardOutput.write(Data(text.utf8))
                last = chunk.id ?? last
            }
            if chunks.isEmpty {
                // A service keeps writing once it is ACTIVE: followed until replaced or stopped.
                guard follow, let current = try context.store.deployment(id: deployment), !current.phase.isFinal,
                      current.finishedAt == nil || (isService && current.phase == .active) else { break }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }
}

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a running deployment.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The deployment's id.", completion: .custom(Completions.deployments)) var deployment: Int64

    func run() async throws {
        let context = try global.context()
        try context.refuseIfReadonly("cancel")
        guard let found = try context.store.deployment(id: deployment) else {
            throw SlipwayCLIError.failure("no deployment \(deployment); see 'slipway deployments'")
        }
        guard found.phase.isInProgress else {
            throw SlipwayCLIError.failure("deployment \(deployment) is \(found.phase.rawValue), not running; nothing to cancel")
        }
        if let owner = try context.store.apps().first(where: { $0.id == found.appID }), owner.backend == .digitalocean {
            return try await AppPlatformActions(context: context).cancel(found, of: owner)
        }
        switch try await EngineRequest(context: context).send(CancelPayload(deployment: deployment)) {
        case let .answered(result): Terminal.error(result)
        case let .queued(id):
            try context.store.finishCommand(id: id, status: .failed, result: "no engine ran", now: Date())
            throw SlipwayCLIError.failure("no engine runs for this home, so nothing runs there to cancel")
        }
    }
}
