import ArgumentParser
import SlipwayHTTP

/// The root command. `slipway` alone opens the dashboard.
public struct Slipway: AsyncParsableCommand {
    public static let version = SlipwayVersion.current

    public static let configuration = CommandConfiguration(
        commandName: "slipway",
        abstract: "A terminal dashboard for git-driven deployments.",
        discussion: """
            Link Git provider accounts, browse providers → workspaces → repositories → branches → \
            commits, and watch deployments of the apps built from those branches go live.

            Files live under --home DIR, else $SLIPWAY_HOME, else the XDG folders.
            """,
        version: version,
        subcommands: [
            TUICommand.self, DemoCommand.self, SandboxCommand.self,
            LinkCommand.self, UnlinkCommand.self, AccountsCommand.self,
            ReposCommand.self, LsCommand.self, SyncCommand.self, DaemonCommand.self, StatusCommand.self,
            AppsCommand.self, DeployCommand.self, RollbackCommand.self, DeploymentsCommand.self, LogsCommand.self, CancelCommand.self,
            WebhooksCommand.self, ThemesCommand.self, DoctorCommand.self,
        ],
        defaultSubcommand: TUICommand.self
    )

    public init() {}
}
