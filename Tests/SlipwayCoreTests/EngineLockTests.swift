import Foundation
import Testing
@testable import SlipwayCore

@Suite("Engine lock")
struct EngineLockTests {
    let tmp = TemporaryDirectory()
    let info = EngineInfo(pid: getpid(), since: Date(timeIntervalSince1970: 1_790_000_000), host: "daemon", webhookListener: "127.0.0.1:8787")

    @Test("one engine per home: the second taker is told who holds it")
    func exclusive() throws {
        let path = tmp.file("engine.lock")
        let lock = try EngineLock.acquire(path: path, info: info)
        #expect(lock.isHeld)
        #expect(mode(of: path) == 0o600)
        do {
            _ = try EngineLock.acquire(path: path, info: EngineInfo(pid: 1, since: Date(), host: "tui"))
            Issue.record("a second engine took the lock")
        } catch {
            #expect(error == .alreadyHeld(info))
            #expect(error.description.contains("pid \(getpid())"))
        }
        #expect(EngineLock.holder(path: path) == info)
        lock.release()
        #expect(!lock.isHeld)
        #expect(EngineLock.holder(path: path) == nil)
        let again = try EngineLock.acquire(path: path, info: info)
        #expect(again.isHeld)
    }

    @Test("no lock file means no engine")
    func noFile() {
        #expect(EngineLock.holder(path: tmp.file("missing.lock")) == nil)
    }

    @Test("the lock dies with its process (no stale locks after a crash)")
    func releasedWhenHolderDies() throws {
        let path = tmp.file("engine.lock")
        // Another process takes the lock (flock(1) on an inherited descriptor, then exec, so one
        // process holds it), as a crashed engine would have.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", #"exec 9>>"$0"; flock -x 9; exec sleep 30"#, path]
        try holder.run()
        defer { if holder.isRunning { holder.terminate() } }
        // Wait (bounded) until the other process has it.
        var held = false
        for _ in 0..<200 where !held {
            held = EngineLock.holder(path: path) != nil
            if !held { usleep(10_000) }
        }
        #expect(held)
        #expect(throws: EngineLockError.self) { try EngineLock.acquire(path: path, info: info) }
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        #expect(EngineLock.holder(path: path) == nil)
        #expect(try EngineLock.acquire(path: path, info: info).isHeld)
    }

    @Test("an unopenable lock path is a clear error")
    func cannotOpen() {
        #expect(throws: EngineLockError.self) { try EngineLock.acquire(path: "/nonexistent/dir/engine.lock", info: info) }
    }
}
