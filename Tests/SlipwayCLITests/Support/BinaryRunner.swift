import CSpawn
import Foundation

/// Runs the built `slipway` binary as a user would, with a controlled environment.
struct BinaryRunner {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let binary: String = {
        let fm = FileManager.default
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("slipway").path
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        for candidate in [besideTests, packageRoot.appendingPathComponent(".build/debug/slipway").path] where fm.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return besideTests
    }()

    var environment: [String: String]
    /// The caller's umask, when a test needs one other than its own.
    var umask: mode_t?

    init(home: String, extra: [String: String] = [:]) {
        var env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "TERM": "xterm-256color", "SLIPWAY_HOME": home]
        env["HOME"] = home
        env.merge(extra) { $1 }
        environment = env
    }

    /// Runs the binary on a thread of its own, so a server in this test process (whose handlers
    /// need the concurrency pool) keeps answering while the binary talks to it.
    func runAsync(_ arguments: [String], stdin: String? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Swift.Result { try self.run(arguments, stdin: stdin) })
            }
            thread.start()
        }
    }

    func run(_ arguments: [String], stdin: String? = nil) throws -> Result {
        if let umask {
            return try run(executable: "/bin/sh", ["-c", "umask \(String(umask, radix: 8)) && exec \"$0\" \"$@\"", Self.binary] + arguments, stdin: stdin)
        }
        return try run(executable: Self.binary, arguments, stdin: stdin)
    }

    /// Any program, with this runner's environment.
    func run(executable: String, _ arguments: [String], stdin: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Both pipes at once (stderr on a thread of its own), so a child that fills one pipe
        // while the other is being read cannot block.
        final class Collected: @unchecked Sendable { var data = Data() }
        let errors = Collected()
        let errorsRead = DispatchSemaphore(value: 0)
        let reader = Thread {
            errors.data = err.fileHandleForReading.readDataToEndOfFile()
            errorsRead.signal()
        }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errorsRead.wait()
        let errData = errors.data
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}

final class TemporaryHome {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.path + "/slipway-cli-" + UUID().uuidString
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

func fileMode(_ path: String) -> Int {
    let mode = slw_file_mode(path, 1)
    return mode < 0 ? -1 : Int(mode & 0o777)
}
