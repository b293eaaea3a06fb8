import Foundation
import Testing
import SlipwayTestSupport
@testable import SlipwayCore

/// Deployment steps as processes: output as it comes, exact environment, own process group,
/// cancel and timeout reaching everything the step started.
@Suite("Step processes", .timeLimit(.minutes(3)))
struct StepProcessTests {
    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var parts: [(LogStream, String)] = []
        func add(_ stream: LogStream, _ text: String) { lock.withLock { parts.append((stream, text)) } }
        func text(_ stream: LogStream) -> String { lock.withLock { parts.filter { $0.0 == stream }.map(\.1).joined() } }
    }

    let tmp = TemporaryDirectory()

    @Test("runs in the given folder with exactly the given environment; stdout and stderr apart; the exit status")
    func basics() async throws {
        let collected = Collected()
        let outcome = try await StepProcess.run(["/bin/sh", "-c", "pwd; echo \"app=$SLIPWAY_APP home=${HOME:-none}\"; echo oops >&2; exit 3"],
                                                environment: ["SLIPWAY_APP": "web", "PATH": "/usr/bin:/bin"], directory: tmp.path,
                                                output: collected.add)
        #expect(outcome.exitStatus == 3)
        #expect(!outcome.succeeded)
        #expect(outcome.describe(timeout: nil) == "exit status 3")
        #expect(collected.text(.stdout) == "\(tmp.path)\napp=web home=none\n")
        #expect(collected.text(.stderr) == "oops\n")
    }

    @Test("a timeout stops the whole group, background children included")
    func timeout() async throws {
        let marker = tmp.file("child.pid")
        let started = Date()
        let outcome = try await StepProcess.run(["/bin/sh", "-c", "sleep 30 & echo $! > \(marker); sleep 30"],
                                                environment: ["PATH": "/usr/bin:/bin"], directory: tmp.path, timeout: 0.5, grace: 0.5) { _, _ in }
        #expect(outcome.timedOut)
        #expect(outcome.describe(timeout: 0.5) == "timed out after 0 s")
        // Well short of the 30 s sleeps, even on a loaded 2-core machine.
        #expect(Date().timeIntervalSince(started) < 25)
        let child = try #require(Int32(try String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // Gone, or a zombie waiting for init to reap it: either way no longer running.
        #expect(await eventually(within: 10) { !isProcessRunning(child) }, "the background child survived")
    }

    @Test("cancel sends SIGTERM first, and SIGKILL to what ignores it")
    func cancel() async throws {
        let flag = CancelFlag()
        let collected = Collected()
        // Canceled once it has set its trap and said so.
        let outcome = try await StepProcess.run(["/bin/sh", "-c", "trap 'echo got TERM' TERM; echo ready; while :; do sleep 0.1; done"],
                                                environment: ["PATH": "/usr/bin:/bin"], directory: tmp.path, grace: 0.5, cancel: flag) { stream, text in
            collected.add(stream, text)
            if text.contains("ready") { flag.cancel() }
        }
        #expect(outcome.canceled)
        #expect(collected.text(.stdout).hasPrefix("ready\n"))
    }
}
