import ArgumentParser
import SlipwayTUI
import Foundation
import SlipwayCore

struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Install, list and remove push webhooks on repositories.",
        subcommands: [Install.self, List.self, Remove.self]
    )

    struct Target: ParsableArguments {
        @Argument(help: ArgumentHelp("The repository, as PROVIDER/WORKSPACE/REPO.", valueName: "PATH")) var repository: String

        func validate() throws {
            let path = try MirrorPath.parse(repository)
            guard path.repository != nil, path.branch == nil else { throw ValidationError("expected PROVIDER/WORKSPACE/REPO, got '\(repository)'") }
        }

        func resolve(in store: Store) throws -> Repository {
            let path = try MirrorPath.parse(repository)
            guard let repo = try store.repository(at: path) else {
                throw SlipwayCLIError.failure("\(repository) is not in the mirror; run 'slipway sync --once' first")
            }
            return repo
        }
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "install", abstract: "Install a repo:push webhook (admin needed).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: Target
        @Option(help: "The URL the provider calls (default: webhooks.public_url).") var url: String?

        func run() async throws {
            let context = try global.context()
            _ = try target.resolve(in: context.store)
            throw SlipwayCLIError.unavailable(command: "webhooks install", capability: "the webhook installer")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List a repository's webhooks known to Slipway.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: JSONFlag
        @OptionGroup var target: Target

        struct Row: Encodable {
            var id: Int64
            var url: String
            var events: [String]
            var installedBySlipway: Bool
            var lastDeliveryAt: Date?
            var lastFailureAt: Date?
            var lastFailureMessage: String?
        }

        func run() async throws {
            let context = try global.context()
            let repo = try target.resolve(in: context.store)
            let rows = try context.store.webhookSubscriptions(repositoryID: repo.id ?? 0).map {
                Row(id: $0.id ?? 0, url: $0.url, events: $0.events, installedBySlipway: $0.installedBySlipway,
                    lastDeliveryAt: $0.lastDeliveryAt, lastFailureAt: $0.lastFailureAt, lastFailureMessage: $0.lastFailureMessage)
            }
            if output.json { return try printJSON(rows) }
            if rows.isEmpty { Terminal.error("no webhooks on \(target.repository)"); return }
            var table = TextTable("ID", "URL", "EVENTS", "LAST DELIVERY", "LAST FAILURE")
            for r in rows {
                table.add(String(r.id), r.url, r.events.joined(separator: ","), r.lastDeliveryAt.map(JSONOutput.timestamp),
                          r.lastFailureMessage)
            }
            Terminal.out(table.render())
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove the webhook Slipway installed.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: Target
        @Option(help: "Remove only the hook calling this URL.") var url: String?

        func run() async throws {
            let context = try global.context()
            _ = try target.resolve(in: context.store)
            throw SlipwayCLIError.unavailable(command: "webhooks remove", capability: "the webhook installer")
        }
    }
}

struct ThemesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "themes",
        abstract: "List the dashboard's themes or preview one.",
        subcommands: [List.self, Preview.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List built-in and user themes.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let context = try global.context()
            let entries = ThemeCatalog(userDirectory: context.paths.userThemesDirectory).entries()
            let current = context.config.ui.theme
            if output.json {
                struct Row: Encodable { var name: String; var origin: String; var description: String; var current: Bool }
                return try printJSON(entries.map { entry in
                    Row(name: entry.name, origin: { if case let .file(path) = entry.origin { return path } else { return "built-in" } }(),
                        description: entry.description, current: entry.name == current)
                })
            }
            var table = TextTable("", "NAME", "ORIGIN", "DESCRIPTION")
            for entry in entries {
                let origin: String
                switch entry.origin {
                case .builtIn: origin = "built-in"
                case let .file(path): origin = path
                }
                table.add(entry.name == current ? "*" : "", entry.name, origin, entry.description)
            }
            Terminal.out(table.render())
            Terminal.error("* is ui.theme; switch with ':theme NAME' in the dashboard, add your own as \(context.paths.userThemesDirectory)/NAME.toml")
        }
    }

    struct Preview: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "preview", abstract: "Show every element of a theme in its colours.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The theme's name.") var name: String

        func run() async throws {
            let context = try global.context()
            switch ThemeCatalog(userDirectory: context.paths.userThemesDirectory).load(name) {
            case let .success(theme):
                let environment = ProcessInfo.processInfo.environment
                let colour = Terminal.stdoutIsTerminal && (environment["NO_COLOR"] ?? "").isEmpty
                Terminal.out(ThemePreview.render(theme, colors: colour ? 256 : 0))
            case let .failure(error):
                throw SlipwayCLIError.failure(error.description)
            }
        }
    }
}
