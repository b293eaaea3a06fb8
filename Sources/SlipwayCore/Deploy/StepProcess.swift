import CSpawn
import Foundation
import SlipwayHTTP
import Synchronization

/// Asks a running step to stop (the deployer's cancel, `slipway cancel`).
public final class CancelFlag: Sendable {
    /// Fires on cancel, so a wait on the clock ends at once.
    let signal = Signal()
    public init() {}
    public func cancel() { signal.fire() }
    public var isCanceled: Bool { signal.hasFired }
}

/// One deployment step's process: its own process group, exactly the environment it is given
/// (nothing inherited), output delivered line by line as it comes. Cancel and timeout send
/// SIGTERM to the whole group, then SIGKILL after a grace period. Everything blocking happens on
/// a thread of its own, never on the concurrency pool. The timeout and the grace period are read
/// from `clock` (policy); how often the process is looked at is real time (mechanics).
public enum StepProcess {
    public struct Outcome: Sendable, Equatable {
        public var exitStatus: Int32?
        public var signal: Int32?
        public var canceled: Bool
        public var timedOut: Bool

        public var succeeded: Bool { exitStatus == 0 && !canceled && !timedOut }

        /// "exit status 2", "killed by signal 9", "timed out after 30 s", "canceled".
        public func describe(timeout: TimeInterval?) -> String {
            if timedOut { return "timed out after \(Int(timeout ?? 0)) s" }
            if canceled { return "canceled" }
            if let exitStatus { return "exit status \(exitStatus)" }
            return "killed by signal \(signal ?? 0)"
        }
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    /// `started` is told the process group (its leader's pid) as soon as it exists.
    public static func run(_ arguments: [String], environment: [String: String], directory: String, timeout: TimeInterval? = nil,
                           grace: TimeInterval = 5, cancel: CancelFlag = CancelFlag(), clock: any SlipwayClock = SystemClock(),
                           started: @escaping @Sendable (pid_t) -> Void = { _ in },
                           output: @escaping @Sendable (LogStream, String) -> Void) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result {
                    try runBlocking(arguments, environment: environment, directory: directory, timeout: timeout, grace: grace, cancel: cancel,
                                    clock: clock, started: started, output: output)
                })
            }
            thread.name = "slipway-step"
            thread.start()
        }
    }

    static func runBlocking(_ arguments: [String], environment: [String: String], directory: String, timeout: TimeInterval?,
                            grace: TimeInterval, cancel: CancelFlag, clock: any SlipwayClock, started: @escaping @Sendable (pid_t) -> Void = { _ in },
                            output: @escaping @Sendable (LogStream, String) -> Void) throws -> Outcome {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw SpawnError(description: "cannot create pipes: \(String(cString: strerror(errno)))") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        // Nothing else of the engine's: not its database, sockets or other steps' pipes (a
        // service would hold them open for as long as it runs).
        slw_spawn_addclosefrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // A group of its own (pgid = its pid), so a signal reaches everything it started.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        // The working directory: posix_spawn has no portable chdir action, so the step runs
        // through `cd DIR && exec …` — DIR passed as an argument, never spliced into the script.
        // Slipway itself runs with umask 077; a build gets a shell's usual 022. `cd` would leave
        // OLDPWD (the engine's folder) in the step's environment: unset, as it was not given.
        let argv = ["/bin/sh", "-c", "umask 022 && cd -- \"$0\" && unset OLDPWD && exec \"$@\"", directory] + arguments
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, "/bin/sh", &actions, &attributes, cArgs, cEnv)
        close(outPipe[1])
        close(errPipe[1])
        guard status == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw SpawnError(description: "cannot start the step: \(String(cString: strerror(status)))")
        }
        defer { close(outPipe[0]); close(errPipe[0]) }
        started(pid)

        let started = clock.now
        var pending: [LogStream: [UInt8]] = [.stdout: [], .stderr: []]
        var open: [LogStream: Int32] = [.stdout: outPipe[0], .stderr: errPipe[0]]
        var outcome = Outcome(exitStatus: nil, signal: nil, canceled: false, timedOut: false)
        var killAt: Date?
        var exited = false
        var exitedAt: Date?
        var buffer = [UInt8](repeating: 0, count: 65536)

        func flush(_ stream: LogStream, all: Bool) {
            guard var bytes = pending[stream], !bytes.isEmpty else { return }
            if all {
                output(stream, String(decoding: bytes, as: UTF8.self))
                pending[stream] = []
                return
            }
            guard let newline = bytes.lastIndex(of: 10) else {
                // A long line without a newline still goes out in pieces.
                if bytes.count >= 16384 { output(stream, String(decoding: bytes, as: UTF8.self)); pending[stream] = [] }
                return
            }
            output(stream, String(decoding: bytes[...newline], as: UTF8.self))
            bytes.removeSubrange(...newline)
            pending[stream] = bytes
        }

        while true {
            // Stop requests: SIGTERM to the group first, SIGKILL after the grace period.
            if killAt == nil, !exited {
                if cancel.isCanceled { outcome.canceled = true }
                if let timeout, clock.now.timeIntervalSince(started) >= timeout { outcome.timedOut = true }
                if outcome.canceled || outcome.timedOut {
                    kill(-pid, SIGTERM)
                    killAt = clock.now.addingTimeInterval(grace)
                }
            }
            if let killAt, clock.now >= killAt, !exited { kill(-pid, SIGKILL) }

            var fds = open.map { pollfd(fd: $0.value, events: Int16(POLLIN), revents: 0) }
            let streams = open.map(\.key)
            if !fds.isEmpty {
                _ = poll(&fds, nfds_t(fds.count), 100)
                for (index, fd) in fds.enumerated() where fd.revents != 0 {
                    let stream = streams[index]
                    let count = read(fd.fd, &buffer, buffer.count)
                    if count > 0 {
                        pending[stream, default: []].append(contentsOf: buffer[0..<count])
                        flush(stream, all: false)
                    } else {
                        flush(stream, all: true)
                        open[stream] = nil
                    }
                }
            } else {
                usleep(20_000)
            }
            if !exited {
                var wait: Int32 = 0
                if waitpid(pid, &wait, WNOHANG) == pid {
                    exited = true
                    exitedAt = Date()
                    if wait & 0x7f == 0 { outcome.exitStatus = (wait >> 8) & 0xff } else { outcome.signal = wait & 0x7f }
                }
            }
            // Done when the shell is gone and its output is read — or, if something it left
            // behind keeps the pipes open, a second after it exited: the rest of the group goes.
            if exited && (open.isEmpty || Date().timeIntervalSince(exitedAt!) > 1) {
                kill(-pid, SIGKILL)
                for stream in [LogStream.stdout, .stderr] { flush(stream, all: true) }
                return outcome
            }
        }
    }
}

extension StepProcess {
    /// When a process started, in clock ticks since boot (`/proc/PID/stat` field 22): with the pid
    /// it names one process for good, since a reused pid starts later.
    public static func startTicks(of pid: pid_t) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, starttime 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }
}
