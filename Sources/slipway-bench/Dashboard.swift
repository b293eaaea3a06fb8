import CSpawn
import ArgumentParser
import Foundation
import GRDB
import SlipwayCore
import SlipwayProviders

/// The dashboard at 100,000 branches, measured through a pseudo-terminal as a user meets it:
/// launch to the first painted frame, a filter keystroke to its frame, a page of scrolling, and
/// peak RSS. The store is built directly (no sync); the bench holds the engine lock, so the
/// dashboard works beside an idle "daemon" and nothing else writes during the measurements.
struct DashboardBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Time the dashboard over a pty with a large mirror (first frame, keystrokes, paging, RSS)."
    )

    @Option(help: "The slipway binary (default: the one beside this benchmark).") var binary: String?
    @Option(help: "Workspaces.") var workspaces = 10
    @Option(help: "Git providers the workspaces are spread over, one account each (1–3: bitbucket, github, gitlab).") var providers = 1
    @Option(help: "Repositories per workspace.") var repos = 100
    @Option(help: "Branches per repository.") var branches = 100
    @Option(help: "Filter keystrokes to time.") var keystrokes = 24
    @Option(help: "Page-downs to time.") var pages = 20
    @Option(help: "Launches to time (the first frame).") var launches = 5
    @Flag(help: "Keep the generated home (its path goes to stderr) to look at its store.") var keep = false
    @Option(help: "Measure over a home kept by an earlier run (--keep) instead of building one; it is left in place.") var reuse: String?

    /// The accounts' providers, in the order workspaces are dealt to them.
    var kinds: [ProviderKind] { Array([ProviderKind.bitbucket, .github, .gitlab].prefix(max(1, min(3, providers)))) }

    func run() async throws {
        // One provider opens at its workspaces; several at the providers list, the last one named there.
        let firstFrame = kinds.count == 1 ? "Acme 1" : kinds.last!.rawValue
        let slipway = binary ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("slipway").path
        let home = reuse ?? FileManager.default.temporaryDirectory.appendingPathComponent("slipway-bench-dashboard-\(getpid())").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer {
            if keep || reuse != nil { FileHandle.standardError.write(Data("home kept at \(home)\n".utf8)) } else { try? FileManager.default.removeItem(atPath: home) }
        }
        let built = Date()
        let total = try reuse.map { try Store(path: $0 + "/slipway.db").branchCount(accountID: nil, repositoryID: nil) } ?? populate(home: home)
        let populateSeconds = Date().timeIntervalSince(built)
        let lock = try EngineLock.acquire(path: home + "/engine.lock", info: EngineInfo(pid: getpid(), since: Date(), host: "bench"))
        defer { lock.release() }
        let environment = ["SLIPWAY_HOME": home, "TERM": "xterm-256color", "LANG": "C.UTF-8", "HOME": home, "PATH": "/usr/bin:/bin"]

        var firstFrames: [Double] = []
        for _ in 0..<launches {
            let session = try PTYSession(binary: slipway, arguments: [], environment: environment, width: 120, height: 40)
            guard let first = session.waitFor(firstFrame, timeout: 10) else { throw ValidationError("no first frame") }
            firstFrames.append(first * 1000)
            session.settle()
            session.send("q")
            session.finish()
        }

        let session = try PTYSession(binary: slipway, arguments: [], environment: environment, width: 120, height: 40)
        guard session.waitFor(firstFrame, timeout: 10) != nil else { throw ValidationError("no first frame") }
        session.settle()
        // Typing the command, then Enter: the time to the list of every branch.
        for character in ":branches" { session.send(String(character)) }
        session.settle()
        let openAll = session.timeKey("\r")
        guard session.waitFor("all branches", timeout: 1) != nil || session.screenMentions("all branches") else { throw ValidationError("no branch list") }
        session.settle()
        session.send("/")
        session.settle()
        // Typing narrows 100,000 branches; backspace widens them again.
        let word = Array("feature/7")
        var keystrokeTimes: [Double] = []
        while keystrokeTimes.count < keystrokes {
            for character in word where keystrokeTimes.count < keystrokes { keystrokeTimes.append(session.timeKey(String(character)) * 1000) }
            for _ in word where keystrokeTimes.count < keystrokes { keystrokeTimes.append(session.timeKey("\u{7F}") * 1000) }
        }
        session.send("\u{1B}")
        session.settle()
        var pageTimes: [Double] = []
        for _ in 0..<pages { pageTimes.append(session.timeKey("\u{1B}[6~") * 1000) }
        let rss = session.peakRSSKiB()
        session.send("q")
        session.finish()

        let result: [String: Any] = [
            "branches": total, "providers": kinds.map(\.rawValue), "terminal": "120x40", "populate_seconds": populateSeconds,
            "first_frame_ms": Self.summary(firstFrames), "open_all_branches_ms": openAll * 1000,
            "filter_keystroke_ms": Self.summary(keystrokeTimes), "filter_keystrokes_each_ms": keystrokeTimes.map { ($0 * 10).rounded() / 10 },
            "page_down_ms": Self.summary(pageTimes),
            "peak_rss_mib": Double(rss) / 1024,
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: data, as: UTF8.self))
    }

    static func summary(_ samples: [Double]) -> [String: Double] {
        let sorted = samples.sorted()
        func at(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))] }
        return ["p50": at(0.5), "p95": at(0.95), "max": sorted.last ?? 0, "min": sorted.first ?? 0]
    }

    /// An account per provider, `workspaces × repos × branches` branches with heads dealt over
    /// them by workspace, in one transaction.
    func populate(home: String) throws -> Int {
        let store = try Store(path: home + "/slipway.db")
        // Ages of minutes and more, so the once-a-second tick repaints nothing during a measurement.
        let now = Date().addingTimeInterval(-600)
        let authors = ["Ada Lovelace <ada@example.com>", "Grace Hopper <grace@example.com>", "李小龙 <li@example.cn>", "Zoë Ångström <zoe@example.se>"]
        let prefixes = ["feature", "bugfix", "release", "hotfix", "chore"]
        return try store.write { [workspaces, repos, branches, kinds] db in
            var accounts: [Int64] = []
            for kind in kinds {
                var account = Account(provider: kind, username: "bench", apiURL: "http://127.0.0.1:9/\(kind.rawValue)", webURL: "http://127.0.0.1:9",
                                      auth: .token, createdAt: now)
                try account.insert(db)
                var state = SyncState(accountID: account.id!, scope: "account", lastAttemptAt: now, lastSuccessAt: now)
                try state.insert(db)
                accounts.append(account.id!)
            }
            var count = 0
            for w in 0..<workspaces {
                var workspace = Workspace(accountID: accounts[w % accounts.count], slug: "acme-\(w + 1)", name: "Acme \(w + 1)", updatedAt: now)
                try workspace.insert(db)
                for r in 0..<repos {
                    var repository = Repository(workspaceID: workspace.id!, slug: "service-\(r)", name: "Service \(r)", fullName: "acme-\(w + 1)/service-\(r)",
                                                mainBranch: "main", updatedOn: now.addingTimeInterval(-Double(r * 60)), branchCount: branches,
                                                lastCheckedAt: now, updatedAt: now)
                    try repository.insert(db)
                    for b in 0..<branches {
                        let name = b == 0 ? "main" : "\(prefixes[b % prefixes.count])/\(b)-\(["login", "cache", "api", "build"][b % 4])"
                        var hash = ""
                        var seed = UInt64(count &* 2654435761 &+ 97)
                        for _ in 0..<5 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; hash += String(format: "%08x", UInt32(truncatingIfNeeded: seed >> 32)) }
                        var branch = Branch(repositoryID: repository.id!, name: name, headHash: hash, headDate: now.addingTimeInterval(-86400 - Double(count % 100_000) * 37),
                                            headAuthor: authors[count % authors.count], headMessage: "Change \(count): tidy the \(name) code path", updatedAt: now)
                        try branch.insert(db)
                        count += 1
                    }
                }
            }
            return count
        }
    }
}

/// A child process on a pseudo-terminal, with its output read and timed.
final class PTYSession {
    let master: Int32
    let pid: pid_t
    let started = DispatchTime.now().uptimeNanoseconds
    private var output: [UInt8] = []

    init(binary: String, arguments: [String], environment: [String: String], width: Int, height: Int) throws {
        // posix_openpt and friends are not visible to Swift here; /dev/ptmx with the two ioctls
        // they wrap does the same (Linux's generic values of TIOCSPTLCK and TIOCGPTN).
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else { throw ValidationError("no pty") }
        let slavePath = "/dev/pts/\(number)"
        var size = winsize(ws_row: UInt16(height), ws_col: UInt16(width), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // After setsid, the first terminal opened becomes the controlling one.
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        posix_spawn_file_actions_addclose(&actions, master)
        slw_spawn_addclosefrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        // 0x80 is glibc's POSIX_SPAWN_SETSID (a GNU extension Swift does not see).
        posix_spawnattr_setflags(&attributes, Int16(0x80 | POSIX_SPAWN_SETSIGMASK))
        let argv = ([binary] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, binary, &actions, &attributes, argv, envp)
        guard status == 0 else { throw ValidationError("cannot start \(binary): \(String(cString: strerror(status)))") }
        pid = child
    }

    private func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Reads what is there within `timeout` seconds; returns the time the last byte came.
    @discardableResult
    private func read(for timeout: Double) -> UInt64? {
        var fds = [pollfd(fd: master, events: Int16(POLLIN), revents: 0)]
        var last: UInt64?
        let end = now() + UInt64(timeout * 1e9)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while now() < end {
            let remaining = Int32(max(0, Double(end - now()) / 1e6))
            guard poll(&fds, 1, remaining) > 0 else { break }
            let count = Glibc.read(master, &buffer, buffer.count)
            guard count > 0 else { break }
            output.append(contentsOf: buffer[0..<count])
            last = now()
        }
        return last
    }

    /// Reads until at least one byte arrives (or `within` seconds pass); the time of the last.
    private func readFirst(within seconds: Double) -> UInt64? {
        var fds = [pollfd(fd: master, events: Int16(POLLIN), revents: 0)]
        guard poll(&fds, 1, Int32(seconds * 1000)) > 0 else { return nil }
        return read(for: 0.001)
    }

    /// Seconds from launch until the output holds `text`.
    func waitFor(_ text: String, timeout: Double) -> Double? {
        let needle = Array(text.utf8)
        let end = now() + UInt64(timeout * 1e9)
        while now() < end {
            if let at = read(for: 0.005), contains(needle) { return Double(at - started) / 1e9 }
            if contains(needle) { return Double(now() - started) / 1e9 }
        }
        return nil
    }

    private func contains(_ needle: [UInt8]) -> Bool {
        guard output.count >= needle.count else { return false }
        let hay = output
        outer: for start in stride(from: hay.count - needle.count, through: 0, by: -1) {
            for (offset, byte) in needle.enumerated() where hay[start + offset] != byte { continue outer }
            return true
        }
        return false
    }

    /// Whether anything read since the last settle holds `text`.
    func screenMentions(_ text: String) -> Bool { contains(Array(text.utf8)) }

    /// Waits until the screen has been quiet for a while (a frame is complete).
    func settle() {
        while read(for: 0.15) != nil {}
        output.removeAll(keepingCapacity: true)
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBufferPointer { Glibc.write(master, $0.baseAddress, $0.count) }
    }

    /// Seconds from a key to the last byte of the frame it caused (the screen then quiet 80 ms).
    func timeKey(_ key: String) -> Double {
        settle()
        output.removeAll(keepingCapacity: true)
        let sent = now()
        send(key)
        // The first byte may take a while (that is what is measured); then the frame's rest.
        var last = readFirst(within: 5)
        while let at = read(for: 0.08) { last = at }
        return last.map { Double($0 - sent) / 1e9 } ?? 0
    }

    func peakRSSKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return -1 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
        }
        return -1
    }

    /// Waits for the child to exit (it was asked to quit), reading what it still writes.
    func finish() {
        for _ in 0..<50 {
            read(for: 0.05)
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { close(master); return }
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(master)
    }
}

/// The same pty measurements for another terminal program (an anchor such as `tig refs` over a
/// repository with as many branches): launch to the first frame showing `--wait`, page-downs,
/// peak RSS.
struct PTYAnchor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "anchor",
        abstract: "Time another terminal program through the pty (first frame, page-downs, peak RSS)."
    )

    @Option(help: "The program.") var program: String
    @Option(parsing: .upToNextOption, help: "Its arguments.") var arguments: [String] = []
    @Option(help: "Working directory.") var directory: String = FileManager.default.currentDirectoryPath
    @Option(help: "Text on its first frame.") var wait: String
    @Option(help: "Launches to time.") var launches = 5
    @Option(help: "Page-downs to time.") var pages = 20
    @Option(help: "Keys that quit it.") var quit = "q"

    func run() async throws {
        FileManager.default.changeCurrentDirectoryPath(directory)
        let environment = ["TERM": "xterm-256color", "LANG": "C.UTF-8", "HOME": NSTemporaryDirectory(), "PATH": "/usr/bin:/bin"]
        var firstFrames: [Double] = []
        for _ in 0..<launches {
            let session = try PTYSession(binary: program, arguments: arguments, environment: environment, width: 120, height: 40)
            guard let first = session.waitFor(wait, timeout: 30) else { throw ValidationError("'\(wait)' never appeared") }
            firstFrames.append(first * 1000)
            session.settle()
            session.send(quit)
            session.finish()
        }
        let session = try PTYSession(binary: program, arguments: arguments, environment: environment, width: 120, height: 40)
        _ = session.waitFor(wait, timeout: 30)
        session.settle()
        var pageTimes: [Double] = []
        for _ in 0..<pages { pageTimes.append(session.timeKey("\u{1B}[6~") * 1000) }
        let rss = session.peakRSSKiB()
        session.send(quit)
        session.finish()
        let result: [String: Any] = [
            "program": ([program] + arguments).joined(separator: " "), "terminal": "120x40",
            "first_frame_ms": DashboardBench.summary(firstFrames), "page_down_ms": DashboardBench.summary(pageTimes), "peak_rss_mib": Double(rss) / 1024,
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: data, as: UTF8.self))
    }
}
