import ArgumentParser

struct TUICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui",
        abstract: "Open the dashboard (the default when no command is given)."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        _ = try global.context()
        throw SlipwayCLIError.unavailable(command: "tui", capability: "the dashboard")
    }
}

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start a sandbox, a temporary home linked to it and the engine, and open the dashboard."
    )

    func run() async throws {
        throw SlipwayCLIError.unavailable(command: "demo", capability: "the sandbox world and the dashboard")
    }
}
