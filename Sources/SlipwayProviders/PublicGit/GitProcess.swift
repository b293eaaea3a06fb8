import Foundation

/// One git command for public repositories, run with nothing of the user's around it: no config
/// files (system or global), no credential helper, no prompt, no redirects, no protocol but
/// http(s) — so a repository that asks for credentials fails at once instead of asking anyone,
/// and nothing secret can be sent. It runs on a thread of its own, never on the concurrency pool,
/// and is killed when it outlives its timeout.
struct GitProcess: Sendable {
    var executable = "/usr/bin/env"
    var timeout: TimeInterval = 120

    struct Failure: Error, CustomStringConvertible {
        var status: Int32
        var stderr: String
        var description: String {
            let line = stderr.split(separator: "\n").last { $0.hasPrefix("fatal:") || $0.hasPrefix("error:") } ?? stderr.split(separator: "\n").last ?? ""
            return status == 15 || status == 9 ? "git timed out" : "git failed: \(line.trimmingCharacters(in: .whitespaces))"
        }
    }

    static let isolation = ["-c", "credential.helper=", "-c", "core.askPass=", "-c", "http.followRedirects=false",
                            "-c", "protocol.allow=never", "-c", "protocol.https.allow=always", "-c", "protocol.http.allow=always",
                            "-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=30", "-c", "gc.auto=0", "-c", "maintenance.auto=false"]

    /// git's output; a non-zero exit is a `Failure` with git's last error line.
    func run(_ arguments: [String], in directory: String) async throws -> Data {
        let timeout = self.timeout
        let executable = self.executable
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try Self.runBlocking(executable: executable, arguments: arguments, directory: directory, timeout: timeout) })
            }
            thread.start()
        }
    }

    private static func runBlocking(executable: String, arguments: [String], directory: String, timeout: TimeInterval) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["git"] + isolation + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory,
                               "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_TERMINAL_PROMPT": "0",
                               "GIT_ASKPASS": "/bin/false", "SSH_ASKPASS": "/bin/false", "LC_ALL": "C"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
        // stderr is read beside stdout so neither pipe can fill and stall git.
        let errors = Collected()
        let reading = DispatchGroup()
        reading.enter()
        DispatchQueue.global().async {
            errors.set(err.fileHandleForReading.readDataToEndOfFile())
            reading.leave()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        killer.cancel()
        reading.wait()
        guard process.terminationStatus == 0 else {
            throw Failure(status: process.terminationStatus, stderr: String(decoding: errors.value, as: UTF8.self))
        }
        return data
    }
}

/// What one thread read, for another to take once it is done.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = Data()
    func set(_ value: Data) { lock.withLock { stored = value } }
    var value: Data { lock.withLock { stored } }
}
