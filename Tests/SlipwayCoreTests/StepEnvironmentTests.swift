import Foundation
import Testing
@testable import SlipwayCore

@Suite("Step environment")
struct StepEnvironmentTests {
    let tmp = TemporaryDirectory()

    @Test("a step gets exactly the environment it is given (plus the PWD every shell sets): no OLDPWD of the engine's")
    func exactEnvironment() async throws {
        final class Output: @unchecked Sendable { var text = ""; let lock = NSLock() }
        let output = Output()
        let given = ["PATH": "/usr/bin:/bin", "SLIPWAY_APP": "web", "GREETING": "hi"]
        let outcome = try await StepProcess.run(["/bin/sh", "-c", "env"], environment: given, directory: tmp.path) { stream, text in
            if stream == .stdout { output.lock.withLock { output.text += text } }
        }
        #expect(outcome.succeeded)
        let names = Set(output.lock.withLock { output.text }.split(separator: "\n").compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) })
        #expect(names == Set(given.keys).union(["PWD"]), "\(names.sorted())")
    }

    @Test("a step inherits no descriptor of the engine's beyond stdin, stdout and stderr")
    func noInheritedDescriptors() async throws {
        // Something this process holds open that a careless spawn would pass on.
        let held = open(tmp.file("held"), O_CREAT | O_WRONLY, 0o600)
        defer { close(held) }
        final class Output: @unchecked Sendable { var text = ""; let lock = NSLock() }
        let output = Output()
        let outcome = try await StepProcess.run(["/bin/sh", "-c", "ls /proc/$$/fd"], environment: ["PATH": "/usr/bin:/bin"], directory: tmp.path) { stream, text in
            if stream == .stdout { output.lock.withLock { output.text += text } }
        }
        #expect(outcome.succeeded)
        let fds = Set(output.lock.withLock { output.text }.split(whereSeparator: \.isWhitespace).compactMap { Int($0) })
        #expect(fds.isSubset(of: [0, 1, 2, 10]), "inherited: \(fds.sorted())")   // dash keeps 10 for the script it reads
        #expect(!fds.contains(Int(held)) || held <= 2)
    }
}
