import Foundation
import SlipwayHTTP
import Testing
@testable import SlipwayCore
import SlipwayProviders

@Suite("Config")
struct ConfigTests {
    @Test("no file means every default from DESIGN.md")
    func defaults() throws {
        let loaded = try ConfigLoader.load(path: "/nonexistent/config.toml")
        #expect(!loaded.fileExists)
        let c = loaded.config
        #expect(c.engine.budgetFraction == 0.8)
        #expect(c.engine.appPollSeconds == 30)
        #expect(c.provider("bitbucket") == .init())
        #expect(c.maxInFlight(.bitbucket) == 4 && c.maxInFlight(.gitlab) == 8, "each adapter's own concurrency unless the config names one")
        // Unset allowances are the adapter's own.
        #expect(c.allowances(.bitbucket) == (1000, 60000))
        // GitHub meters GraphQL apart (5,000 points); a provider that states no GraphQL budget shares its REST one.
        #expect(c.allowance(.github, for: .graphql) == 5000 && c.allowance(.github, for: .rest) == 5000 && c.allowance(.github, for: .git) == 5000)
        #expect(c.allowance(.bitbucket, for: .graphql) == 1000)
        let tuned = try ConfigLoader.parse("[providers.github]\ngraphql_points_per_hour = 300\n", file: "config.toml")
        #expect(tuned.warnings.isEmpty && tuned.config.allowance(.github, for: .graphql) == 300)
        #expect(c.webhooks.listen == "127.0.0.1:8787")
        #expect(c.webhooks.publicURL == "")
        #expect(c.deploy.maxParallel == 1)
        #expect(c.deploy.keepDeployments == 50)
        #expect(c.ui.theme == "default")
        #expect(c.keys.isEmpty)
    }

    @Test("every documented key is read")
    func everyKey() throws {
        let text = """
            [engine]
            budget_fraction = 0.5
            app_poll_seconds = 10
            [providers.bitbucket]
            requests_per_hour = 900
            git_requests_per_hour = 5000
            max_in_flight = 2
            [webhooks]
            listen = "0.0.0.0:9000"
            public_url = "https://hooks.example.com"
            [deploy]
            max_parallel = 3
            keep_deployments = 7
            [ui]
            theme = "dracula"
            [keys]
            quit = "Q"
            """
        let loaded = try ConfigLoader.parse(text, file: "config.toml")
        #expect(loaded.warnings.isEmpty)
        let c = loaded.config
        #expect(c.engine.budgetFraction == 0.5)
        #expect(c.engine.appPollSeconds == 10)
        #expect(c.provider("bitbucket") == .init(requestsPerHour: 900, gitRequestsPerHour: 5000, maxInFlight: 2))
        #expect(c.webhooks.listen == "0.0.0.0:9000")
        #expect(c.webhooks.publicURL == "https://hooks.example.com")
        #expect(c.deploy.maxParallel == 3)
        #expect(c.deploy.keepDeployments == 7)
        #expect(c.ui.theme == "dracula")
        #expect(c.keys == ["quit": ["Q"]])
    }

    @Test("an unknown key is a warning naming file and line, and the rest still loads")
    func unknownKeyWarns() throws {
        let text = """
            [engine]
            budget_fraction = 0.6
            budget_fration = 0.7

            [colour]
            x = 1
            """
        let loaded = try ConfigLoader.parse(text, file: "/h/config.toml")
        #expect(loaded.config.engine.budgetFraction == 0.6)
        #expect(loaded.warnings.map(\.description) == [
            "/h/config.toml:5: unknown key 'colour' ignored",
            "/h/config.toml:3: unknown key 'engine.budget_fration' ignored",
        ])
    }

    @Test("an unknown provider table is a warning, not an error")
    func unknownProvider() throws {
        let loaded = try ConfigLoader.parse("[providers.sourceforge]\nrequests_per_hour = 5\n", file: "c.toml")
        #expect(loaded.warnings.count == 1)
        #expect(loaded.warnings[0].line == 1)
    }

    @Test("malformed TOML is a one-line error with file and line")
    func malformed() {
        let text = "[engine]\nbudget_fraction = 0.8\napp_poll_seconds = = 3\n"
        do {
            _ = try ConfigLoader.parse(text, file: "/h/config.toml")
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.problems.first?.file == "/h/config.toml")
            #expect(error.problems.first?.line == 3)
            #expect(error.description.hasPrefix("/h/config.toml:3: not valid TOML"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test("a wrong type names the key and its line")
    func wrongType() {
        let text = "[deploy]\n\nmax_parallel = \"two\"\n"
        do {
            _ = try ConfigLoader.parse(text, file: "c.toml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "c.toml:3: deploy.max_parallel: expected an integer, found string")
        }
    }

    @Test("every problem in the file is reported at once, each with its line, warnings too")
    func allProblemsAtOnce() {
        let text = "[engine]\nbudget_fraction = 7\nnonsense = 1\n[deploy]\nmax_parallel = \"two\"\n[ui]\nreadonly = \"yes\"\n"
        do {
            _ = try ConfigLoader.parse(text, file: "c.toml")
            Issue.record("expected problems")
        } catch {
            #expect(error.problems.map(\.description) == [
                "c.toml:5: deploy.max_parallel: expected an integer, found string",
                "c.toml:2: engine.budget_fraction: 7.0 is out of range 0.01…1.0",
                "c.toml:7: ui.readonly: expected true or false, found string",
            ])
            #expect(error.description.split(separator: "\n").count == 3)
        }
    }

    @Test("[ui] readonly")
    func readonly() throws {
        #expect(try ConfigLoader.parse("[ui]\nreadonly = true\n", file: "c").config.ui.readonly)
        #expect(try !ConfigLoader.parse("", file: "c").config.ui.readonly)
    }

    @Test("[ui] notify: bell by default, osc or off; anything else names the key and its line")
    func notify() throws {
        #expect(try ConfigLoader.parse("", file: "c").config.ui.notify == "bell")
        #expect(try ConfigLoader.parse("[ui]\nnotify = \"osc\"\n", file: "c").config.ui.notify == "osc")
        #expect(try ConfigLoader.parse("[ui]\nnotify = \"off\"\n", file: "c").config.ui.notify == "off")
        do {
            _ = try ConfigLoader.parse("[ui]\nnotify = \"loud\"\n", file: "c.toml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "c.toml:2: ui.notify: must be \"bell\", \"osc\" or \"off\", not \"loud\"")
        }
    }

    @Test("out-of-range values and bad addresses are errors")
    func ranges() {
        #expect(throws: ConfigProblems.self) { try ConfigLoader.parse("[engine]\nbudget_fraction = 1.5", file: "c") }
        #expect(throws: ConfigProblems.self) { try ConfigLoader.parse("[providers.bitbucket]\nmax_in_flight = 0", file: "c") }
        #expect(throws: ConfigProblems.self) { try ConfigLoader.parse("[webhooks]\nlisten = \"nowhere\"", file: "c") }
        #expect(throws: ConfigProblems.self) { try ConfigLoader.parse("[webhooks]\npublic_url = \"ftp://x\"", file: "c") }
        #expect(throws: ConfigProblems.self) { try ConfigLoader.parse("engine = 3", file: "c") }
    }

    @Test("integers are accepted where a fraction is expected")
    func integerFraction() throws {
        #expect(try ConfigLoader.parse("[engine]\nbudget_fraction = 1", file: "c").config.engine.budgetFraction == 1.0)
    }

    @Test("a file that is not UTF-8 is an error")
    func notUTF8() throws {
        let tmp = TemporaryDirectory()
        let path = tmp.file("config.toml")
        FileManager.default.createFile(atPath: path, contents: Data([0xFF, 0xFE, 0x00, 0x41]))
        #expect(throws: ConfigProblems.self) { try ConfigLoader.load(path: path) }
    }

    @Test("listen addresses", arguments: [
        ("127.0.0.1:8787", "127.0.0.1", 8787), ("[::1]:80", "::1", 80), ("localhost:0", "localhost", 0),
    ])
    func listen(text: String, host: String, port: Int) {
        #expect(ListenAddress(text) == .some(.init(host: host, port: port)!))
    }
}

extension ListenAddress {
    init?(host: String, port: Int) {
        self.init(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
    }
}

@Suite("Config writer")
struct ConfigWriterTests {
    @Test("sets a key in place, keeping comments and order; adds the key or the table when missing")
    func setting() throws {
        let text = "# mine\n[engine]\nbudget_fraction = 0.5\n\n[ui]\ntheme = \"default\"  \n# end\n"
        #expect(ConfigWriter.setting("theme", to: "dracula", inTable: "ui", text: text)
                == "# mine\n[engine]\nbudget_fraction = 0.5\n\n[ui]\ntheme = \"dracula\"\n# end\n")
        #expect(ConfigWriter.setting("theme", to: "gruvbox", inTable: "ui", text: "[ui]\n[keys]\nquit = \"Q\"\n")
                == "[ui]\ntheme = \"gruvbox\"\n[keys]\nquit = \"Q\"\n")
        #expect(ConfigWriter.setting("theme", to: "light", inTable: "ui", text: "[engine]\napp_poll_seconds = 10\n")
                == "[engine]\napp_poll_seconds = 10\n\n[ui]\ntheme = \"light\"\n")
        #expect(ConfigWriter.setting("theme", to: "a\"b", inTable: "ui", text: "") == "[ui]\ntheme = \"a\\\"b\"\n")
    }

    @Test("what it writes loads back")
    func roundTrip() throws {
        let tmp = TemporaryDirectory()
        let path = tmp.file("config.toml")
        try "[keys]\nquit = [\"Q\", \"ctrl-q\"]\n".write(toFile: path, atomically: true, encoding: .utf8)
        try ConfigWriter.set("theme", to: "solarized-dark", inTable: "ui", path: path)
        let loaded = try ConfigLoader.load(path: path)
        #expect(loaded.config.ui.theme == "solarized-dark")
        #expect(loaded.config.keys == ["quit": ["Q", "ctrl-q"]])
        #expect(loaded.line(of: ["keys", "quit"]) == 2)
    }
}
