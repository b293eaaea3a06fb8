import Foundation
import Testing
@testable import SlipwayCore

@Suite("Paths")
struct PathsTests {
    let env = ["HOME": "/home/ada", "XDG_CONFIG_HOME": "/x/config", "XDG_DATA_HOME": "/x/data", "XDG_STATE_HOME": "/x/state"]

    @Test("--home beats SLIPWAY_HOME beats XDG")
    func precedence() throws {
        var environment = env
        environment["SLIPWAY_HOME"] = "/env/home"
        let flag = try SlipwayPaths.resolve(homeFlag: "/flag/home", environment: environment)
        #expect(flag.origin == .flag)
        #expect(flag.configFile == "/flag/home/config.toml")
        #expect(flag.databaseFile == "/flag/home/slipway.db")
        #expect(flag.keyFile == "/flag/home/key")
        #expect(flag.logFile == "/flag/home/logs/slipway.log")
        #expect(flag.workDirectory == "/flag/home/work")

        let fromEnv = try SlipwayPaths.resolve(homeFlag: nil, environment: environment)
        #expect(fromEnv.origin == .environment)
        #expect(fromEnv.databaseFile == "/env/home/slipway.db")

        let xdg = try SlipwayPaths.resolve(homeFlag: nil, environment: env)
        #expect(xdg.origin == .xdg)
        #expect(xdg.configFile == "/x/config/slipway/config.toml")
        #expect(xdg.databaseFile == "/x/data/slipway/slipway.db")
        #expect(xdg.keyFile == "/x/data/slipway/key")
        #expect(xdg.logFile == "/x/state/slipway/slipway.log")
    }

    @Test("HOME defaults when XDG variables are unset or empty")
    func homeDefaults() throws {
        let paths = try SlipwayPaths.resolve(homeFlag: nil, environment: ["HOME": "/home/ada", "XDG_DATA_HOME": ""])
        #expect(paths.configFile == "/home/ada/.config/slipway/config.toml")
        #expect(paths.databaseFile == "/home/ada/.local/share/slipway/slipway.db")
        #expect(paths.logFile == "/home/ada/.local/state/slipway/slipway.log")
    }

    @Test("a relative XDG path is ignored, as the spec says")
    func relativeXDGIgnored() throws {
        let paths = try SlipwayPaths.resolve(homeFlag: nil, environment: ["HOME": "/home/ada", "XDG_CONFIG_HOME": "relative/cfg"])
        #expect(paths.configFile == "/home/ada/.config/slipway/config.toml")
    }

    @Test("an empty SLIPWAY_HOME falls through to XDG; a relative --home is made absolute")
    func emptyAndRelative() throws {
        let paths = try SlipwayPaths.resolve(homeFlag: nil, environment: ["HOME": "/h", "SLIPWAY_HOME": ""])
        #expect(paths.origin == .xdg)
        let relative = try SlipwayPaths.resolve(homeFlag: "rel/dir", environment: [:], currentDirectory: "/work")
        #expect(relative.home == "/work/rel/dir")
    }

    @Test("SLIPWAY_KEY_FILE moves the vault key")
    func keyOverride() throws {
        let paths = try SlipwayPaths.resolve(homeFlag: "/h", environment: ["SLIPWAY_KEY_FILE": "/secure/slipway.key"])
        #expect(paths.keyFile == "/secure/slipway.key")
    }

    @Test("no HOME and no override is a clear error")
    func noHome() {
        #expect(throws: SlipwayPaths.ResolutionError.noHome) {
            try SlipwayPaths.resolve(homeFlag: nil, environment: [:])
        }
    }

    @Test("folders are created 0700; existing ones keep their mode")
    func createsPrivateFolders() throws {
        let tmp = TemporaryDirectory()
        let existing = tmp.file("existing")
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: true)
        chmod(existing, 0o755)
        let paths = try SlipwayPaths.resolve(homeFlag: nil, environment: [
            "HOME": tmp.path, "XDG_CONFIG_HOME": existing, "XDG_DATA_HOME": tmp.file("new/data"), "XDG_STATE_HOME": tmp.file("new/state"),
        ])
        try paths.createDirectories()
        #expect(mode(of: tmp.file("new/data/slipway")) == 0o700)
        #expect(mode(of: tmp.file("new/data/slipway/work")) == 0o700)
        #expect(mode(of: tmp.file("new/state/slipway")) == 0o700)
        #expect(mode(of: existing + "/slipway") == 0o700)
        #expect(mode(of: existing) == 0o755)
    }

    @Test("a file where a folder should be is reported")
    func fileInTheWay() throws {
        let tmp = TemporaryDirectory()
        let blocker = tmp.write("home", "not a folder")
        let paths = try SlipwayPaths.resolve(homeFlag: blocker, environment: [:])
        #expect(throws: FileError.notADirectory(blocker)) { try paths.createDirectories() }
    }
}
