import ArgumentParser
import Foundation
import Testing
@testable import SlipwayCLI
import SlipwayProviders
import SlipwaySandbox
import SlipwayCore

@Suite("CLI parsing", .timeLimit(.minutes(3)))
struct ParsingTests {
    static let contractCommands = ["tui", "demo", "sandbox", "link", "unlink", "accounts", "ls", "sync", "daemon", "status",
                                   "apps", "deploy", "deployments", "logs", "cancel", "webhooks", "themes", "doctor"]

    @Test("help lists every command of the contract")
    func helpListsContract() {
        let help = Slipway.helpMessage(columns: 200)
        for command in Self.contractCommands {
            #expect(help.contains("\n  \(command) ") || help.contains("\n  \(command)\n"), "help lacks \(command)")
        }
    }

    @Test("no command means the dashboard")
    func defaultIsTUI() throws {
        #expect(try Slipway.parseAsRoot([]) is TUICommand)
    }

    @Test("global --home and --json on a command")
    func doctorOptions() throws {
        let command = try #require(try Slipway.parseAsRoot(["doctor", "--json", "--home", "/tmp/h"]) as? DoctorCommand)
        #expect(command.output.json)
        #expect(command.global.home == "/tmp/h")
    }

    @Test("a --home before the command is lifted out for it")
    func leadingHome() {
        var args = ["--home", "/h", "status", "--json"]
        #expect(SlipwayMain.extractLeadingHome(&args) == "/h")
        #expect(args == ["status", "--json"])
        var eq = ["--home=/x", "ls"]
        #expect(SlipwayMain.extractLeadingHome(&eq) == "/x")
        #expect(eq == ["ls"])
        var none = ["ls", "--home", "/y"]
        #expect(SlipwayMain.extractLeadingHome(&none) == nil)
    }

    @Test("ls takes branch names with slashes unquoted")
    func lsPath() throws {
        let command = try #require(try Slipway.parseAsRoot(["ls", "bitbucket/acme/api/feature/x", "--json"]) as? LsCommand)
        #expect(command.path == "bitbucket/acme/api/feature/x")
        #expect(throws: (any Error).self) { try Slipway.parseAsRoot(["ls", "svn/acme"]) }
    }

    @Test("link: exactly one way to authenticate")
    func linkModes() throws {
        let token = try #require(try Slipway.parseAsRoot(["link", "bitbucket", "--token-file", "-"]) as? LinkCommand)
        #expect(token.authKind == .token)
        let api = try #require(try Slipway.parseAsRoot(["link", "bitbucket", "--email", "a@b.c", "--api-token", "t"]) as? LinkCommand)
        #expect(api.authKind == .apiToken)
        let oauth = try #require(try Slipway.parseAsRoot(["link", "bitbucket", "--oauth", "--client-id", "id"]) as? LinkCommand)
        #expect(oauth.authKind == .oauth)
        let cc = try #require(try Slipway.parseAsRoot(["link", "bitbucket", "--client-credentials", "--client-id", "id", "--client-secret", "s"]) as? LinkCommand)
        #expect(cc.authKind == .clientCredentials)
        let device = try #require(try Slipway.parseAsRoot(["link", "github", "--device", "--client-id", "Iv23li", "--public-only", "--json"]) as? LinkCommand)
        #expect(device.authKind == .device && device.publicOnly && device.output.json)
        let sandbox = try #require(try Slipway.parseAsRoot(["link", "bitbucket", "--api-url", "http://127.0.0.1:9/2.0", "--token", "t"]) as? LinkCommand)
        #expect(sandbox.apiURL == "http://127.0.0.1:9/2.0")
    }

    @Test("link: bad combinations are usage errors", arguments: [
        ["link", "bitbucket"],
        ["link", "bitbucket", "--token", "a", "--oauth", "--client-id", "x"],
        ["link", "bitbucket", "--email", "a@b.c"],
        ["link", "bitbucket", "--token", "t", "--client-id", "x"],
        ["link", "bitbucket", "--token", "t", "--token-file", "f"],
        ["link", "bitbucket", "--token", "t", "--api-url", "http://api.example.com/2.0"],
        ["link", "github", "--device", "--client-id", "x", "--webhooks"],
        ["link", "github", "--email", "a@b.c", "--api-token", "t"],
        ["link", "nowhere", "--token", "t"],
        ["link", "bitbucket", "--device", "--client-id", "x"],
        ["link", "github", "--device", "--client-id", "x", "--client-secret", "s"],
        ["link", "github", "--device", "--oauth", "--client-id", "x"],
        ["link", "github", "--token", "t", "--public-only"],
        ["link", "github", "--token", "t", "--json"],
        ["link", "bitbucket", "--oauth", "--client-id", "x", "--public-only"],
    ])
    func linkErrors(arguments: [String]) {
        #expect(throws: (any Error).self) { try Slipway.parseAsRoot(arguments) }
        #expect(Slipway.exitCode(for: ValidationError("x")) == .validationFailure)
    }

    @Test("sync, sandbox and apps validate their options")
    func otherValidation() throws {
        #expect(throws: (any Error).self) { try Slipway.parseAsRoot(["sync", "--deadline", "5"]) }
        let sync = try #require(try Slipway.parseAsRoot(["sync", "--once", "--deadline", "5", "--json"]) as? SyncCommand)
        #expect(sync.once && sync.deadline == 5 && sync.output.json)

        let sandbox = try #require(try Slipway.parseAsRoot(["sandbox", "--port", "0", "--seed", "7", "--workspaces", "2", "--repos", "120",
                                                            "--branches", "130", "--push-every", "2", "--rate-limit", "0",
                                                            "--fault", "503~0.1", "--fault", "reset"]) as? SandboxCommand)
        #expect(try sandbox.options().reposPerWorkspace == 120)
        #expect(try sandbox.options().faults == ["503~0.1", "reset"])
        #expect(try sandbox.options().rateLimitPerHour == 0)
        #expect(throws: (any Error).self) { try Slipway.parseAsRoot(["sandbox", "--fault", "explode"]) }

        // Personalities: --only, limits and faults that name one.
        let only = try #require(try Slipway.parseAsRoot(["sandbox", "--only", "bitbucket", "--rate-limit", "bitbucket=50", "--rate-limit", "7",
                                                         "--git-rate-limit", "bitbucket=9", "--fault", "bitbucket:503~0.2"]) as? SandboxCommand)
        let options = try only.options()
        #expect(options.personalities == [.bitbucket])
        // Unless --only says, the personalities Slipway can link with; others only when named.
        let plain = try #require(try Slipway.parseAsRoot(["sandbox"]) as? SandboxCommand)
        #expect(try plain.options().personalities == [.bitbucket, .github, .gitlab, .git, .digitalocean])
        let github = try #require(try Slipway.parseAsRoot(["sandbox", "--only", "github", "--rate-limit", "github=10"]) as? SandboxCommand)
        #expect(try github.options().personalities == [.github] && github.options().rateLimits == [.github: 10])
        #expect(options.rateLimits == [.bitbucket: 50] && options.rateLimitPerHour == 7 && options.gitRateLimits == [.bitbucket: 9])
        #expect(try FaultSpec(parsing: "bitbucket:503~0.2").personality == .bitbucket)
        #expect(try FaultSpec(parsing: "delay:2@/git/*").personality == nil)
        for bad in [["--only", "gitlub"], ["--only", ","], ["--rate-limit", "bitbucket=lots"], ["--rate-limit", "nowhere=5"], ["--fault", "gitlub:503"]] {
            #expect(throws: (any Error).self, "\(bad)") { try Slipway.parseAsRoot(["sandbox"] + bad) }
        }
        #expect(throws: (any Error).self) { try Slipway.parseAsRoot(["sandbox", "--workspaces", "0"]) }

        let create = try #require(try Slipway.parseAsRoot(["apps", "create", "api", "--source", "bitbucket/acme/api", "--branch", "main",
                                                           "--run", "make run", "--env", "PORT=8080", "--service", "--health-url", "http://127.0.0.1:8080/health"])
                                  as? AppsCommand.Create)
        #expect(create.env == ["PORT=8080"])
        #expect(throws: (any Error).self) { try Slipway.parseAsRoot(["apps", "create", "Bad Name", "--source", "bitbucket/a/b", "--branch", "m", "--run", "x"]) }
        #expect(throws: (any Error).self) { try Slipway.parseAsRoot(["apps", "create", "ok", "--source", "bitbucket/a", "--branch", "m", "--run", "x"]) }
        #expect(throws: (any Error).self) { try Slipway.parseAsRoot(["apps", "create", "ok", "--source", "bitbucket/a/b", "--branch", "m", "--run", "x", "--env", "NOEQUALS"]) }
        #expect(try Slipway.parseAsRoot(["apps"]) is AppsCommand.List)
        #expect(throws: (any Error).self) { try Slipway.parseAsRoot(["deploy", "api", "--commit", "xyz!"]) }
        #expect(try Slipway.parseAsRoot(["logs", "12", "--follow"]) is LogsCommand)
        #expect(try Slipway.parseAsRoot(["webhooks", "install", "bitbucket/acme/api", "--url", "https://h.example.com"]) is WebhooksCommand.Install)
        #expect(throws: (any Error).self) { try Slipway.parseAsRoot(["webhooks", "list", "bitbucket/acme"]) }
        #expect(try Slipway.parseAsRoot(["themes", "preview", "dracula"]) is ThemesCommand.Preview)
    }
}

@Suite("App options", .timeLimit(.minutes(3)))
struct AppOptionsTests {
    @Test("durations and K=V pairs")
    func parsing() {
        #expect(AppOptions.seconds("90") == 90)
        #expect(AppOptions.seconds("90s") == 90)
        #expect(AppOptions.seconds("10m") == 600)
        #expect(AppOptions.seconds("1h30m") == 5400)
        #expect(AppOptions.seconds("soon") == nil)
        #expect(AppOptions.seconds("5x") == nil)
        #expect(AppOptions.seconds("0") == nil)
        #expect(AppOptions.pairs(["A=1", "B=x=y", "C="]) == ["A": "1", "B": "x=y", "C": ""])
    }
}

@Suite("Relative times in text output", .timeLimit(.minutes(3)))
struct RelativeTimeTests {
    @Test("past, future and now read like gh's")
    func phrases() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(RelativeTime.text(now.addingTimeInterval(-300), now: now) == "5m ago")
        #expect(RelativeTime.text(now.addingTimeInterval(7200), now: now) == "in 2h")
        #expect(RelativeTime.text(now.addingTimeInterval(-1), now: now) == "just now")
        #expect(RelativeTime.text(nil, now: now) == nil)
        #expect(RelativeTime.withTimestamp(now.addingTimeInterval(-3 * 86400), now: now) == "3d ago (2027-01-12T08:00:00Z)")
    }
}
