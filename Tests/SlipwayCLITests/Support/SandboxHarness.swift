import Foundation
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

extension BinaryRunner {
    /// `slipway link bitbucket` against the sandbox, its token on stdin.
    @discardableResult
    func link(_ server: SandboxServer) async throws -> Result {
        try await runAsync(["link", "bitbucket", "--api-url", server.apiURL, "--web-url", server.webURL, "--token-file", "-"],
                           stdin: server.service.accessToken + "\n")
    }

    /// `slipway daemon` in the background, its output discarded.
    func startDaemon() throws -> Process {
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
