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
}
