import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwayTUI

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the terminal, libcurl, SQLite and the home folder; say how to fix what is wrong."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: JSONFlag

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let report = try Self.report(global: global, environment: environment)
        if output.json {
            try printJSON(report)
        } else {
            var table = TextTable("CHECK", "STATUS", "DETAIL")
            for check in report.checks { table.add(check.name, check.status.rawValue, check.detail) }
            Terminal.out(table.render())
            let fixes = report.checks.compactMap { c in c.fix.map { "  \(c.name): \($0)" } }
            if !fixes.isEmpty { Terminal.out("\nTo fix:\n" + fixes.joined(separator: "\n")) }
        }
        if !report.ok { throw ExitCode(1) }
    }

    static func report(global: GlobalOptions, environment: [String: String]) throws -> DoctorReport {
        var checks: [DoctorCheck] = []
        var pathsInfo: [String: String] = [:]
        var versions = ["slipway": Slipway.version]

        do {
            let paths = try SlipwayPaths.resolve(homeFlag: global.home, environment: environment)
            pathsInfo = [
                "home": paths.home ?? "", "config": paths.configFile, "database": paths.databaseFile,
                "key": paths.keyFile, "log": paths.logFile, "work": paths.workDirectory, "origin": paths.origin.rawValue,
            ]
            let home = HomeDoctor.checks(paths: paths)
            checks += home.checks
            // What the dashboard would say before it opens: key remaps and themes.
            if let loaded = try? ConfigLoader.load(path: paths.configFile) {
                if FileManager.default.fileExists(atPath: paths.databaseFile), let store = try? Store(path: paths.databaseFile),
                   let plans = try? TrackedPolling.plan(store: store, settings: EngineFactory.settings(config: loaded.config)) {
                    checks.append(Self.pollingCheck(plans))
                }
                let setup = DashboardSetup.load(paths: paths, config: loaded.config, loaded: loaded)
                checks.append(setup.keyProblems.isEmpty
                    ? DoctorCheck("keys", .ok, loaded.config.keys.isEmpty ? "default bindings" : "\(loaded.config.keys.count) remapped in [keys]")
                    : DoctorCheck("keys", .warn, setup.keyProblems.joined(separator: "; "), fix: "correct [keys] at the lines shown; the README's key table names every action"))
                checks.append(setup.themeProblems.isEmpty
                    ? DoctorCheck("theme", .ok, loaded.config.ui.theme)
                    : DoctorCheck("theme", .warn, setup.themeProblems.joined(separator: "; "), fix: "correct the theme file at the line shown, or 'slipway themes list'"))
            }
            if let sqlite = home.sqliteVersion { versions["sqlite"] = sqlite }
        } catch {
            checks.append(DoctorCheck("home", .fail, "\(error)", fix: "set HOME or SLIPWAY_HOME, or pass --home DIR"))
        }

        // libcurl: TLS is required (HTTPS only), HTTP/2 is wanted.
        let curl = CurlRuntime.versionInfo()
        versions["libcurl"] = curl.version
        if !curl.supportsHTTPS {
            checks.append(DoctorCheck("libcurl", .fail, "libcurl \(curl.version) cannot speak HTTPS",
                                      fix: "sudo apt-get install libcurl4-openssl-dev"))
        } else {
            let extras = [curl.supportsHTTP2 ? "HTTP/2" : nil, curl.supportsGzip ? "gzip" : nil, curl.supportsBrotli ? "brotli" : nil]
                .compactMap { $0 }.joined(separator: ", ")
            let detail = "\(curl.version), TLS \(curl.tlsBackend ?? "?")" + (extras.isEmpty ? "" : ", \(extras)")
            checks.append(curl.supportsHTTP2
                ? DoctorCheck("libcurl", .ok, detail)
                : DoctorCheck("libcurl", .warn, detail + "; no HTTP/2", fix: "install a libcurl built with nghttp2 for fewer connections"))
        }

        // Terminal: problems here degrade the dashboard, they don't stop Slipway.
        let terminal = TerminalProbe.probe(environment: environment)
        versions["ncurses"] = terminal.ncursesVersion
        if let term = terminal.term {
            if terminal.terminfoFound {
                let colors = terminal.noColor ? "colours off (NO_COLOR)" : "\(terminal.colors) colours"
                checks.append(DoctorCheck("terminal", .ok, "TERM=\(term), \(colors)"))
            } else {
                checks.append(DoctorCheck("terminal", .warn, "TERM=\(term) has no terminfo entry; the dashboard falls back to xterm-256color",
                                          fix: "sudo apt-get install ncurses-term, or export TERM=xterm-256color"))
            }
        } else {
            checks.append(DoctorCheck("terminal", .warn, "TERM is not set; the dashboard needs a terminal",
                                      fix: "run from a terminal, or export TERM=xterm-256color"))
        }
        if terminal.isUTF8 {
            checks.append(DoctorCheck("locale", .ok, "\(terminal.localeCodeset)"))
        } else {
            checks.append(DoctorCheck("locale", .warn, "codeset \(terminal.localeCodeset.isEmpty ? "unknown" : terminal.localeCodeset), not UTF-8; the dashboard draws with ASCII",
                                      fix: "export LANG=C.UTF-8"))
        }

        // git runs deployments' fetch steps.
        if let git = Self.findExecutable("git", environment: environment) {
            checks.append(DoctorCheck("git", .ok, git))
        } else {
            checks.append(DoctorCheck("git", .warn, "git is not on PATH; deployments cannot fetch code", fix: "sudo apt-get install git"))
        }
        return DoctorReport(checks: checks, paths: pathsInfo, versions: versions)
    }

    /// Whether the repositories apps build from get their `app_poll_seconds` within the budgets.
    static func pollingCheck(_ plans: [TrackedPolling]) -> DoctorCheck {
        let stretched = plans.filter(\.stretched)
        guard !stretched.isEmpty else {
            let tracked = plans.reduce(0) { $0 + $1.tracked }
            return DoctorCheck("polling", .ok, tracked == 0 ? "no app tracks a repository" : "\(tracked) tracked repositor\(tracked == 1 ? "y" : "ies") within app_poll_seconds")
        }
        return DoctorCheck("polling", .warn, stretched.map(\.message).joined(separator: "; "),
                           fix: "raise that provider's git_requests_per_hour in [providers.NAME] if the host allows, raise app_poll_seconds, or install webhooks")
    }

    static func findExecutable(_ name: String, environment: [String: String]) -> String? {
        for dir in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
