import Foundation
import Synchronization
import Testing
@testable import SlipwaySandbox

@Suite("Sandbox GraphQL serving", .timeLimit(.minutes(1)))
struct GraphQLServingTests {
    @Test("a query's child tasks run on its own queue one at a time (no two stretches between suspensions overlap), every one of them, results in order")
    func serialChildren() async throws {
        let running = Occupancy()
        let results = await SerialTaskExecutor.run(label: "test.serial") {
            await withTaskGroup(of: (Int, Int).self) { group in
                for index in 0..<200 {
                    group.addTask {
                        // A stretch of work between two suspension points: on a pool, others run meanwhile.
                        running.enter()
                        var sum = 0
                        for step in 0..<20_000 { sum &+= step &* index }
                        running.leave()
                        await Task.yield()
                        _ = sum
                        return (index, index * index)
                    }
                }
                var found: [Int: Int] = [:]
                for await (index, square) in group { found[index] = square }
                return (0..<200).map { found[$0] }
            }
        }
        #expect(results == (0..<200).map { $0 * $0 })
        #expect(running.most == 1)
    }

    @Test("a commit's message loses its leading and trailing line breaks as CharacterSet.newlines would strip them, and nothing else")
    func trimmedMessages() {
        let messages = ["", "\n", "\r\n\r\n", "subject", "\nsubject\n", "subject\n\nbody\n", "\r\nwindows\r\n",
                        "\u{2028}separator\u{2029}", "\u{85}next line\u{0B}\u{0C}", "  spaced  \n", "\u{1B}[2J esc\r",
                        "bidi \u{202E}\n", "日本\n語\n"]
        for message in messages {
            #expect(Resolvers.trimmingNewlines(message) == message.trimmingCharacters(in: .newlines), "\(message.debugDescription)")
        }
    }

    #if canImport(Glibc)
    @Test("the standalone sandbox's allocator keeps freed memory: glibc takes the settings")
    func allocatorSettings() {
        #expect(SandboxAllocator.keepFreedMemory())
    }
    #endif
}

/// How many tasks are inside at once, and the most there ever were.
private final class Occupancy: Sendable {
    private let state = Mutex((now: 0, most: 0))
    func enter() { state.withLock { $0.now += 1; $0.most = max($0.most, $0.now) } }
    func leave() { state.withLock { $0.now -= 1 } }
    var most: Int { state.withLock { $0.most } }
}
