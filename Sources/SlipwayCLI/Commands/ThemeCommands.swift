import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayTUI

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
