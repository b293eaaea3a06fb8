import Foundation
import GRDB
import Testing
import SlipwayCore
import SlipwayProviders
import SlipwayTestSupport

/// The real binary, driven the way users and acceptance checks drive it.
@Suite("slipway binary", .timeLimit(.minutes(3)))
struct BinaryTests {
    let home = TemporaryHome()
    var runner: BinaryRunner { BinaryRunner(home: home.path + "/home") }
    var homePath: String { home.path + "/home" }

    @Test("--help lists the contract; --version prints the version")
    func help() throws {
        let help = try runner.run(["--help"])
        #expect(help.status == 0)
        for command in ParsingTests.contractCommands { #expect(help.stdout.contains("  \(command)"), "help lacks \(command)") }
        let version = try runner.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        let completion = try runner.run(["--generate-completion-script", "bash"])
        #expect(completion.status == 0 && completion.stdout.contains("slipway"))
    }

    @Test("doctor --json creates the home owner-only and a WAL database with the current schema (v1 and its successors)")
    func doctorJSON() throws {
        let result = try runner.run(["doctor", "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let ok = try #require(json["ok"] as? Bool)
        #expect(result.status == (ok ? 0 : 1))
        let checks = try #require(json["checks"] as? [[String: Any]])
        let names = Set(checks.compactMap { $0["name"] as? String })
        #expect(names.isSuperset(of: ["home", "config", "database", "vault key", "libcurl", "terminal", "locale"]))
        let database = try #require(checks.first { $0["name"] as? String == "database" })
        #expect(database["status"] as? String == "ok")
        #expect(fileMode(homePath) == 0o700)
        #expect(fileMode(homePath + "/logs") == 0o700)
        #expect(fileMode(homePath + "/slipway.db") == 0o600)
        let store = try Store(path: homePath + "/slipway.db")
        #expect(try store.journalMode() == "wal")
        #expect(try store.schemaVersion() >= 1)
        let versions = try #require(json["versions"] as? [String: String])
        #expect(versions["sqlite"] != nil && versions["libcurl"] != nil)
    }

    @Test("doctor prints its JSON and exits 1 when it finds a problem")
    func doctorFailure() throws {
        _ = try runner.run(["doctor", "--json"])
        let keyPath = homePath + "/key"
        FileManager.default.createFile(atPath: keyPath, contents: Data(repeating: 7, count: 32))
        chmod(keyPath, 0o644)
        let result = try runner.run(["doctor", "--json"])
        #expect(result.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["ok"] as? Bool == false)
        let text = try runner.run(["doctor"])
        #expect(text.status == 1)
        #expect(text.stdout.contains("chmod 600 \(keyPath)"))
    }

    @Test("a malformed config is one line naming file and line; an unknown key only warns")
    func configErrors() throws {
        try FileManager.default.createDirectory(atPath: homePath, withIntermediateDirectories: true)
        let config = homePath + "/config.toml"
        try "[engine]\nbudget_fraction = [\n".write(toFile: config, atomically: true, encoding: .utf8)
        let bad = try runner.run(["status"])
        #expect(bad.status == 1)
        #expect(bad.stderr.hasPrefix("slipway: \(config):"))
        #expect(bad.stderr.split(separator: "\n").count == 1)

        try "[engine]\nbudget_fractoin = 0.5\n".write(toFile: config, atomically: true, encoding: .utf8)
        let warned = try runner.run(["status", "--json"])
        #expect(warned.status == 0)
        #expect(warned.stderr.contains("\(config):2: unknown key 'engine.budget_fractoin' ignored"))
    }

    @Test("exit codes: usage 2, a failure 1 with one line, the dashboard without a terminal 1")
    func exitCodes() throws {
        let usage = try runner.run(["link", "bitbucket"])
        #expect(usage.status == 2)
        let failure = try runner.run(["deploy", "nosuch"])
        #expect(failure.status == 1)
        #expect(failure.stderr == "slipway: no app named 'nosuch'; see 'slipway apps'\n")
        let noTerminal = try runner.run([])
        #expect(noTerminal.status == 1)
        #expect(noTerminal.stderr == "slipway: the dashboard needs a terminal; in scripts use 'slipway ls' or 'slipway status'\n")
        let nothingLinked = try runner.run(["sync", "--once"])
        #expect(nothingLinked.status == 1)
        #expect(nothingLinked.stderr == "slipway: no accounts linked; run 'slipway link bitbucket --token-file -' first\n")
        let unknown = try runner.run(["frobnicate"])
        #expect(unknown.status == 2)
    }

    @Test("status sees an engine holding the lock, with a --home before the command")
    func status() throws {
        let idle = try runner.run(["--home", homePath, "status", "--json"])
        #expect(idle.status == 0)
        #expect(idle.stdout.contains(#""running":false"#))
        let since = Date(timeIntervalSince1970: 1_790_000_000)
        let lock = try EngineLock.acquire(path: homePath + "/engine.lock",
                                          info: EngineInfo(pid: getpid(), since: since, host: "daemon", webhookListener: "127.0.0.1:8787"))
        defer { lock.release() }
        let busy = try runner.run(["status", "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(busy.stdout.utf8)) as? [String: Any])
        #expect(json["running"] as? Bool == true)
        #expect(json["pid"] as? Int == Int(getpid()))
        #expect(json["since"] as? String == "2026-09-21T14:13:20Z")
        #expect(json["webhook_listener"] as? String == "127.0.0.1:8787")
    }

    @Test("ls, accounts and unlink read the store; provider strings stay raw in JSON and inert on the terminal")
    func listing() throws {
        _ = try runner.run(["doctor", "--json"])
        let store = try Store(path: homePath + "/slipway.db")
        let hostile = "fix\u{1B}[2Jlogin\r\u{202E}"
        let sha = "0123456789abcdef0123456789abcdef01234567"
        try store.write { db in
            let now = Date(timeIntervalSince1970: 1_790_000_000)
            var account = Account(provider: .bitbucket, username: "ada", displayName: "Ada", apiURL: "https://api.bitbucket.org/2.0",
                                  webURL: "https://bitbucket.org", auth: .token, scopes: ["repository"], createdAt: now)
            try account.insert(db)
            var ws = Workspace(accountID: account.id!, slug: "acme", name: "Acme Corp", updatedAt: now)
            try ws.insert(db)
            var repo = Repository(workspaceID: ws.id!, slug: "api", name: "API", fullName: "acme/api", mainBranch: "main",
                                  isAdmin: true, updatedOn: now, updatedAt: now)
            try repo.insert(db)
            var branch = Branch(repositoryID: repo.id!, name: "feature/x", headHash: sha, headDate: now,
                                headAuthor: "Ada <ada@example.com>", headMessage: hostile, updatedAt: now)
            try branch.insert(db)
        }

        let providers = try runner.run(["ls", "--json"])
        #expect(providers.stdout.contains(#""kind":"provider""#) && providers.stdout.contains(#""path":"bitbucket""#))

        let workspaces = try JSONSerialization.jsonObject(with: Data(try runner.run(["ls", "bitbucket", "--json"]).stdout.utf8)) as? [[String: Any]]
        #expect(workspaces?.first?["display_name"] as? String == "Acme Corp")
        #expect(workspaces?.first?["path"] as? String == "bitbucket/acme")

        let repos = try JSONSerialization.jsonObject(with: Data(try runner.run(["ls", "bitbucket/acme", "--json"]).stdout.utf8)) as? [[String: Any]]
        #expect(repos?.first?["main_branch"] as? String == "main")
        #expect(repos?.first?["is_admin"] as? Bool == true)
        #expect(repos?.first?["updated_on"] as? String == "2026-09-21T14:13:20Z")

        let branchesResult = try runner.run(["ls", "bitbucket/acme/api", "--json"])
        let branches = try JSONSerialization.jsonObject(with: Data(branchesResult.stdout.utf8)) as? [[String: Any]]
        let head = branches?.first?["head"] as? [String: Any]
        #expect(branches?.first?["path"] as? String == "bitbucket/acme/api/feature/x")
        #expect(head?["hash"] as? String == sha)
        #expect(head?["author"] as? String == "Ada <ada@example.com>")
        #expect(head?["message"] as? String == hostile)

        let text = try runner.run(["ls", "bitbucket/acme/api"])
        #expect(text.status == 0)
        #expect(!text.stdout.contains("\u{1B}") && !text.stdout.contains("\r") && !text.stdout.contains("\u{202E}"))
        #expect(text.stdout.contains("fix^[[2Jlogin^M\\u{202E}"))
        #expect(text.stdout.contains(" ago"), "text tables give ages, JSON the exact time")

        let missing = try runner.run(["ls", "bitbucket/nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no workspace 'nope'"))

        let accounts = try runner.run(["accounts", "--json"])
        let list = try JSONSerialization.jsonObject(with: Data(accounts.stdout.utf8)) as? [[String: Any]]
        #expect(list?.first?["auth"] as? String == "token")
        #expect(list?.first?["status"] as? String == "ok")
        #expect(list?.first?["api_url"] as? String == "https://api.bitbucket.org/2.0")
        #expect(list?.first.map { $0.keys.contains("token_expires_at") } == true)

        let relink = try runner.run(["link", "bitbucket", "--token-file", "-"], stdin: "secret\n")
        #expect(relink.status == 1)
        #expect(relink.stderr == "slipway: bitbucket is already linked as @ada; run 'slipway unlink bitbucket' first\n")

        let unlink = try runner.run(["unlink", "bitbucket", "--yes"])
        #expect(unlink.status == 0)
        #expect(try store.accounts().isEmpty)
        #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM branches") } == 0)
        #expect(try runner.run(["unlink", "bitbucket", "--yes"]).status == 1)
    }
}

@Suite("slipway sandbox binary", .timeLimit(.minutes(3)))
struct SandboxBinaryTests {
    @Test("--print-token prints the seed's token; the server answers with it and git ls-remote lists its branches")
    func sandboxProcess() async throws {
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        let token = try runner.run(["sandbox", "--seed", "3", "--print-token"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("sbx_"))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: BinaryRunner.binary)
        process.arguments = ["sandbox", "--port", "0", "--seed", "3", "--workspaces", "1", "--repos", "2"]
        process.environment = runner.environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { process.stopAndReap() }

        // The banner names the origin and the token.
        var banner = ""
        while !banner.contains("Ctrl-C") {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            banner += String(decoding: chunk, as: UTF8.self)
        }
        #expect(banner.contains("token  \(token)"))
        // One block per personality, each headed by its name and origin.
        #expect(banner.contains("bitbucket on http://127.0.0.1:"))
        let origin = try #require(banner.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("http://127.0.0.1:") && !$0.contains("/2.0") && !$0.contains("/git") && !$0.contains("/_sandbox") })
        #expect(banner.contains("slipway link bitbucket --api-url \(origin)/2.0 --web-url \(origin) --token-file -"))

        let user = try curl(["-s", "-H", "Authorization: Bearer \(token)", "\(origin)/2.0/user"])
        #expect(user.contains(#""type":"user""#))
        let workspaces = try curl(["-s", "-H", "Authorization: Bearer \(token)", "\(origin)/2.0/user/workspaces"])
        let slug = try #require(workspaces.firstMatch(of: /"slug":"([a-z-]+)"/)?.1)
        let listing = try curl(["-s", "-H", "Authorization: Bearer \(token)", "\(origin)/2.0/repositories/\(slug)"])
        let repo = try #require(listing.firstMatch(of: /"slug":"([a-z0-9-]+)"/)?.1)
        let remote = origin.replacingOccurrences(of: "http://", with: "http://x-token-auth:\(token)@") + "/git/\(slug)/\(repo).git"
        let refs = try run("/usr/bin/git", ["ls-remote", "--heads", String(remote)], environment: ["GIT_TERMINAL_PROMPT": "0", "HOME": home.path])
        #expect(refs.split(separator: "\n").count >= 6)
    }

    func curl(_ arguments: [String]) throws -> String { try run("/usr/bin/curl", arguments, environment: [:]) }

    func run(_ tool: String, _ arguments: [String], environment: [String: String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
