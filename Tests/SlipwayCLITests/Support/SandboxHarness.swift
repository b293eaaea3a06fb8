import Foundation
import Testing
import SlipwaySandbox

/// A small sandbox world for the binary's tests (no 125-branch repositories).
func smallSandbox(seed: UInt64, workspaces: Int = 1, repos: Int, branches: Int = 2, demo: Bool = false) async throws -> SandboxServer {
    var options = SandboxOptions()
    options.seed = seed
    options.workspaces = workspaces
    options.reposPerWorkspace = repos
    options.branchesPerRepo = branches
    options.largeRepositories = false
    options.demoRepositories = demo
    return try await SandboxServer.start(options: options)
}

/// The sandbox's first workspace, its first repository and that repository's first branch (by name).
func firstBranch(of server: SandboxServer) throws -> (workspace: String, repository: String, branch: String) {
    let ws = try #require(server.service.workspaceSlugs().first)
    let slug = try #require(server.service.repositorySlugs(workspace: ws).first)
    let branch = try #require(server.service.branches(workspace: ws, repository: slug).keys.sorted().first)
    return (ws, slug, branch)
}

extension BinaryRunner {
    /// `slipway link bitbucket` against the sandbox, its token on stdin.
    @discardableResult
    func link(_ server: SandboxServer) async throws -> Result {
        try await runAsync(["link", "bitbucket", "--api-url", server.bitbucket.apiURL, "--web-url", server.bitbucket.webURL, "--token-file", "-"],
                           stdin: server.service.bitbucket.accessToken + "\n")
    }

    /// Linked to the sandbox and mirrored once (`link`, then `sync --once`).
    func mirror(_ server: SandboxServer) async throws {
        let linked = try await link(server)
        #expect(linked.status == 0, "\(linked.stderr)")
        let synced = try await runAsync(["sync", "--once"])
        #expect(synced.status == 0, "\(synced.stderr)")
    }

    /// `deployments APP --json`, newest first.
    func deployments(of app: String) async throws -> [[String: Any]] {
        let listed = try await runAsync(["deployments", app, "--json"])
        return (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    /// The app's newest deployment once there are `count` and the newest is in `phase` (about
    /// 30 s at most); else whatever the newest is then.
    func newestDeployment(of app: String, count: Int, phase: String) async throws -> [String: Any]? {
        for _ in 0..<200 {
            let rows = try await deployments(of: app)
            if rows.count >= count, let newest = rows.first, newest["phase"] as? String == phase { return newest }
            try await Task.sleep(nanoseconds: 150_000_000)
        }
        return try await deployments(of: app).first
    }

    /// Writes the home's config.toml.
    func writeConfig(_ toml: String) throws {
        try toml.write(toFile: environment["SLIPWAY_HOME"]! + "/config.toml", atomically: true, encoding: .utf8)
    }

    /// `slipway daemon` in the background, its output discarded. Its receiver binds a free port
    /// (tests run in parallel: the default 8787 may be taken), unless the config names one.
    func startDaemon() throws -> Process {
        let config = environment["SLIPWAY_HOME"]! + "/config.toml"
        var toml = (try? String(contentsOfFile: config, encoding: .utf8)) ?? ""
        if !toml.contains("listen") {
            if let header = toml.range(of: "[webhooks]\n") {
                toml.insert(contentsOf: "listen = \"127.0.0.1:0\"\n", at: header.upperBound)
            } else {
                toml += "\n[webhooks]\nlisten = \"127.0.0.1:0\"\n"
            }
            try FileManager.default.createDirectory(atPath: environment["SLIPWAY_HOME"]!, withIntermediateDirectories: true)
            try toml.write(toFile: config, atomically: true, encoding: .utf8)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BinaryRunner.binary)
        process.arguments = ["daemon"]
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Where the running engine's webhook receiver listens (`status --json`), once it does.
    func webhookListener(timeout: TimeInterval = 15) async throws -> String? {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            let status = try await runAsync(["status", "--json"])
            let object = (try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8))) as? [String: Any]
            if let listener = object?["webhook_listener"] as? String ?? (object?["engine"] as? [String: Any])?["webhook_listener"] as? String {
                return listener
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return nil
    }
}
