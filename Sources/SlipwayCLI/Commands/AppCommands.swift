import ArgumentParser
import Foundation
import SlipwayCore
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
        subcommands: [List.self, Create.self, Update.self, Delete.self],
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
            var backend = "local"
            /// "unlinked" once the source's provider was unlinked (relinking re-attaches it).
            var sourceState: String
            var phase: String?
            var createdAt: Date
        }

        func run() async throws {
            let context = try global.context()
            let apps = try context.store.apps()
            let rows = try apps.map {
                Row(id: $0.id ?? 0, name: $0.name, source: $0.sourcePath, branch: $0.branch, build: $0.buildCommand,
                    run: $0.runCommand, service: $0.isService, healthUrl: $0.healthURL, autodeploy: $0.autodeploy,
                    sourceState: $0.isSourceUnlinked ? "unlinked" : "ok", phase: try context.store.deployments(appID: $0.id!, limit: 1).first?.phase.rawValue,
                    createdAt: $0.createdAt)
            }
            if output.json { return try printJSON(rows) }
            if rows.isEmpty { Terminal.error("no apps; create one with 'slipway apps create NAME --source bitbucket/WS/REPO --branch B --run CMD'"); return }
            var table = TextTable("NAME", "SOURCE", "BRANCH", "AUTODEPLOY", "RUN")
            for r in rows { table.add(r.name, r.source + (r.sourceState == "unlinked" ? " (unlinked)" : ""), r.branch, r.autodeploy ? "yes" : "no", r.run) }
            Terminal.out(table.render())
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an app from a branch and deploy its head.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app's name (lowercase letters, digits, - and _).") var name: String
        @Option(help: ArgumentHelp("The repository, as PROVIDER/WORKSPACE/REPO.", valueName: "PATH")) var source: String
        @Option(help: "The branch to build.") var branch: String
        @Option(help: "Build command (run with /bin/sh -c).") var build: String?
        @Option(help: "Run command (run with /bin/sh -c); exit 0 means ACTIVE unless --service.") var run: String
        @Flag(help: "The run command is a long-running service.") var service = false
        @Option(name: .customLong("health-url"), help: "With --service: ready once this URL answers 2xx.") var healthURL: String?
        @Option(name: .customLong("env"), help: ArgumentHelp("An environment variable (repeatable).", valueName: "K=V")) var env: [String] = []
        @Option(name: .customLong("secret-env"),
                help: ArgumentHelp("A secret variable, sealed in the vault (repeatable); a bare K takes its value from your environment, out of the process list.", valueName: "K[=V]"))
        var secretEnv: [String] = []
        @Flag(name: .customLong("no-autodeploy"), help: "Do not deploy when the branch gets a new commit.") var noAutodeploy = false
        @Option(help: ArgumentHelp("Give up on a deployment after this long (90s, 10m, 1h).", valueName: "DURATION")) var timeout: String?

        func validate() throws {
            guard App.isValidName(name) else {
                throw ValidationError("'\(name)' is not a valid app name: use 1–63 lowercase letters, digits, '-' or '_', starting with a letter or digit")
            }
            let path = try MirrorPath.parse(source)
            guard path.repository != nil, path.branch == nil else { throw ValidationError("--source must be PROVIDER/WORKSPACE/REPO") }
            for pair in env where !pair.contains("=") || pair.hasPrefix("=") {
                throw ValidationError("--env '\(pair)' is not K=V")
            }
            for item in secretEnv where !AppOptions.isSecretItem(item) {
                throw ValidationError("--secret-env '\(item.split(separator: "=").first ?? "")' is not K=V or K")
            }
            if healthURL != nil && !service { throw ValidationError("--health-url goes with --service") }
            if let timeout, AppOptions.seconds(timeout) == nil { throw ValidationError("--timeout '\(timeout)' is not a duration such as 90s, 10m or 1h") }
        }

        func run() async throws {
            let context = try global.context()
            if try context.store.app(named: name) != nil {
                throw SlipwayCLIError.failure("an app named '\(name)' exists; delete it first or choose another name")
            }
            let path = try MirrorPath.parse(source)
            guard let repository = try context.store.repository(at: path) else {
                throw SlipwayCLIError.failure("\(source) is not in the mirror; run 'slipway sync --once' or check 'slipway ls \(path.provider?.rawValue ?? "")'")
            }
            guard try context.store.branch(repositoryID: repository.id!, name: branch) != nil else {
                throw SlipwayCLIError.failure("\(source) has no branch '\(branch)' in the mirror; see 'slipway ls \(source)'")
            }
            let app = App(name: name, repositoryID: repository.id, sourcePath: path.description, branch: branch, buildCommand: build,
                          runCommand: run, isService: service, healthURL: healthURL, autodeploy: !noAutodeploy,
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
            // Creating an app deploys the branch's current head.
            switch try await EngineRequest(context: context).send(.deploy, payload: ["app": name, "cause": "app created"]) {
            case let .answered(result): Terminal.error(result)
            case .queued: Terminal.error("its first deployment is queued; " + EngineRequest.noEngine)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "update", abstract: "Change an app; the next deployment uses the change.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app's name.") var name: String
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
            guard var app = try context.store.app(named: name) else { throw SlipwayCLIError.failure("no app named '\(name)'; see 'slipway apps'") }
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

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an app with its deployments and logs.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The app's name.") var name: String

        func run() async throws {
            let context = try global.context()
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
    @Argument(help: "The app's name.") var app: String
    @Option(help: "A full or abbreviated commit hash.") var commit: String?

    func validate() throws {
        if let commit, !(4...40).contains(commit.count) || !commit.allSatisfy(\.isHexDigit) {
            throw ValidationError("--commit '\(commit)' is not a commit hash")
        }
    }

    func run() async throws {
        let context = try global.context()
        guard try context.store.app(named: app) != nil else { throw SlipwayCLIError.failure("no app named '\(app)'; see 'slipway apps'") }
        var payload: [String: Any] = ["app": app, "cause": commit.map { "commit \($0.prefix(7)) deployed by hand" } ?? "deployed by hand"]
        if let commit { payload["commit"] = try resolve(commit, app: app, store: context.store) }
        switch try await EngineRequest(context: context).send(.deploy, payload: payload) {
        case let .answered(result): Terminal.error(result)
        case .queued: Terminal.error("deployment requested; " + EngineRequest.noEngine)
        }
    }

    /// A full hash from an abbreviated one, among the commits stored for the app's repository.
    func resolve(_ commit: String, app name: String, store: Store) throws -> String {
        guard commit.count < 40 else { return commit.lowercased() }
        guard let app = try store.app(named: name), let repositoryID = app.repositoryID else { return commit }
        let matches = try store.read { db in
            try String.fetchAll(db, sql: "SELECT hash FROM commits WHERE repository_id = ? AND hash LIKE ? UNION SELECT head_hash FROM branches WHERE repository_id = ? AND head_hash LIKE ?",
                                arguments: [repositoryID, commit.lowercased() + "%", repositoryID, commit.lowercased() + "%"])
        }
        guard matches.count == 1 else {
            throw SlipwayCLIError.failure(matches.isEmpty ? "no stored commit starts with \(commit); give the full hash" : "\(commit) is ambiguous; give more of the hash")
        }
        return matches[0]
    }
}

struct DeploymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deployments", abstract: "List deployments, newest first.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: JSONFlag
    @Argument(help: "Only this app's deployments.") var app: String?

    struct Row: Encodable {
        var id: Int64
        var app: String
        var commit: String
        var phase: String
        var cause: String
        var createdAt: Date
        var updatedAt: Date
        var finishedAt: Date?

        enum CodingKeys: String, CodingKey { case id, app, commit, phase, cause, createdAt, updatedAt, finishedAt }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(app, forKey: .app)
            try c.encode(commit, forKey: .commit)
            try c.encode(phase, forKey: .phase)
            try c.encode(cause, forKey: .cause)
            try c.encode(createdAt, forKey: .createdAt)
            try c.encode(updatedAt, forKey: .updatedAt)
            try c.encode(finishedAt, forKey: .finishedAt)
        }
    }

    func run() async throws {
        let context = try global.context()
        var appID: Int64?
        if let app {
            guard let found = try context.store.app(named: app) else { throw SlipwayCLIError.failure("no app named '\(app)'; see 'slipway apps'") }
            appID = found.id
        }
        let names = try context.store.appNames()
        let rows = try context.store.deployments(appID: appID).map {
            Row(id: $0.id ?? 0, app: names[$0.appID] ?? "?", commit: $0.commitHash, phase: $0.phase.rawValue, cause: $0.cause,
                createdAt: $0.createdAt, updatedAt: $0.updatedAt, finishedAt: $0.finishedAt)
        }
        if output.json { return try printJSON(rows) }
        if rows.isEmpty { Terminal.error("no deployments yet"); return }
        var table = TextTable("ID", "APP", "COMMIT", "PHASE", "CREATED", "CAUSE")
        for r in rows { table.add(String(r.id), r.app, String(r.commit.prefix(7)), r.phase, RelativeTime.text(r.createdAt), r.cause) }
        Terminal.out(table.render())
    }
}

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a deployment's log.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The deployment's id.") var deployment: Int64
    @Flag(name: .shortAndLong, help: "Keep printing as the log grows, until the deployment finishes (a service: until it is replaced or stops).")
    var follow = false

    func run() async throws {
        let context = try global.context()
        guard let found = try context.store.deployment(id: deployment) else {
            throw SlipwayCLIError.failure("no deployment \(deployment); see 'slipway deployments'")
        }
        let isService = try context.store.apps().first { $0.id == found.appID }?.isService ?? false
        var last: Int64 = 0
        while true {
            let chunks = try context.store.logChunks(deploymentID: deployment, after: last)
            for chunk in chunks {
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
    @Argument(help: "The deployment's id.") var deployment: Int64

    func run() async throws {
        let context = try global.context()
        guard let found = try context.store.deployment(id: deployment) else {
            throw SlipwayCLIError.failure("no deployment \(deployment); see 'slipway deployments'")
        }
        guard found.phase.isInProgress else {
            throw SlipwayCLIError.failure("deployment \(deployment) is \(found.phase.rawValue), not running; nothing to cancel")
        }
        switch try await EngineRequest(context: context).send(.cancel, payload: ["deployment": deployment]) {
        case let .answered(result): Terminal.error(result)
        case let .queued(id):
            try context.store.finishCommand(id: id, status: .failed, result: "no engine ran", now: Date())
            throw SlipwayCLIError.failure("no engine runs for this home, so nothing runs there to cancel")
        }
    }
}
