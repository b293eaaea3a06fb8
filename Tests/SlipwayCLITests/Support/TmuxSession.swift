import CSpawn
import Foundation

/// A terminal a test types into, as a person would: a tmux server of its own (tests run in
/// parallel), a shell at a fixed size, `send-keys` and `capture-pane`.
final class TmuxSession {
    let socket = "slipway-test-" + UUID().uuidString.prefix(12)
    let target = "main"

    init(width: Int, height: Int, environment: [String: String]) throws {
        var arguments = ["new-session", "-d", "-s", target, "-x", "\(width)", "-y", "\(height)"]
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) { arguments += ["-e", "\(key)=\(value)"] }
        arguments += ["bash --norc --noprofile"]
        try tmux(arguments)
        try tmux(["set-option", "-t", target, "status", "off"])
    }

    deinit { _ = try? tmux(["kill-server"]) }

    /// Runs a tmux command with posix_spawn and waitpid: Foundation's Process waits for its
    /// termination notice on machinery an async test may be blocking. Output is read only for
    /// commands that print; the first command starts the server, which would inherit the pipe.
    @discardableResult
    func tmux(_ arguments: [String], output: Bool = false) throws -> String {
        let argv = ["tmux", "-L", socket] + arguments
        var pipeFDs: [Int32] = [-1, -1]
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        if output {
            _ = pipe(&pipeFDs)
            posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
            posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        // The first command starts the tmux server, which lives as long as the session: it must
        // not inherit the pipes of other tests' children, or their readers never see EOF (the
        // suite's stall: a runner waiting on a pipe a tmux server held open).
        slw_spawn_addclosefrom(&actions, 3)
        // The test's threads block most signals; tmux and its shell must not inherit that mask,
        // or the shell ignores the SIGHUP kill-server sends and the server never exits.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        // The server's global environment is ours, minus NO_COLOR (`swift test` sets it when its
        // output is not a terminal); a session that wants it passes it with -e.
        let environment = ProcessInfo.processInfo.environment.filter { $0.key != "NO_COLOR" }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { environment.forEach { free($0) } }
        let status = posix_spawnp(&pid, "tmux", &actions, &attributes, cArguments, environment)
        if output { close(pipeFDs[1]) }
        guard status == 0 else {
            if output { close(pipeFDs[0]) }
            throw CocoaError(.executableNotLoadable, userInfo: [NSLocalizedDescriptionKey: "cannot run tmux: \(String(cString: strerror(status)))"])
        }
        var data = Data()
        if output {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(pipeFDs[0], &buffer, buffer.count)
                if count <= 0 { break }
                data.append(contentsOf: buffer[0..<count])
            }
            close(pipeFDs[0])
        }
        var exitStatus: Int32 = 0
        _ = waitpid(pid, &exitStatus, 0)
        return String(decoding: data, as: UTF8.self)
    }

    /// Types text literally, then presses Enter.
    func type(_ line: String) throws {
        try typeWithoutEnter(line)
        try tmux(["send-keys", "-t", target, "Enter"])
    }

    /// Types text literally (`--`: text starting with `-` is not an option).
    func typeWithoutEnter(_ text: String) throws {
        try tmux(["send-keys", "-t", target, "-l", "--", text])
    }

    /// Presses keys by tmux name (`Enter`, `Escape`, `j`, `C-c`).
    func press(_ keys: String...) throws {
        for key in keys { try tmux(["send-keys", "-t", target, key]) }
    }

    func screen() throws -> String {
        try tmux(["capture-pane", "-p", "-t", target], output: true)
    }

    func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", target, "-x", "\(width)", "-y", "\(height)"])
    }

    /// Waits until the screen satisfies `condition`; returns the last screen either way.
    func waitFor(_ timeout: TimeInterval = 20, _ condition: (String) -> Bool) async throws -> (Bool, String) {
        let end = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < end {
            last = try screen()
            if condition(last) { return (true, last) }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return (false, last)
    }

    func waitFor(_ text: String, timeout: TimeInterval = 20) async throws -> (Bool, String) {
        try await waitFor(timeout) { $0.contains(text) }
    }
}
