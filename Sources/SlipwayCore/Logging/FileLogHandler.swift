import Foundation
import Logging

/// Writes log lines to a file that never grows past a cap: when it would, the file becomes
/// `<name>.1` (replacing the older one) and a new file starts. Logs never go to the terminal the
/// TUI owns. Lines are single-line: newlines and control characters inside messages are escaped,
/// so a provider string cannot forge log lines.
public final class LogFile: @unchecked Sendable {
    // `handle` and `size` are guarded by `mutex`.
    private let mutex = NSLock()
    private var handle: FileHandle?
    private var size: UInt64 = 0
    public let path: String
    public let maxBytes: UInt64

    public init(path: String, maxBytes: UInt64 = 5 * 1024 * 1024) throws {
        self.path = path
        self.maxBytes = maxBytes
        try SlipwayPaths.createPrivateDirectory((path as NSString).deletingLastPathComponent)
        try open()
    }

    deinit { try? handle?.close() }

    private func open() throws {
        if !FileManager.default.fileExists(atPath: path) {
            let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw FileError.cannotCreate(path, reason: String(cString: strerror(errno))) }
            close(fd)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw FileError.cannotWrite(path, reason: "permission denied")
        }
        size = (try? handle.seekToEnd()) ?? 0
        self.handle = handle
    }

    public func write(_ line: String) {
        let data = Data((line + "\n").utf8)
        mutex.lock(); defer { mutex.unlock() }
        if size + UInt64(data.count) > maxBytes { rotate() }
        guard let handle else { return }
        do {
            try handle.write(contentsOf: data)
            size += UInt64(data.count)
        } catch {
            // A full disk must not take the program down with it; the line is dropped.
        }
    }

    private func rotate() {
        try? handle?.close()
        handle = nil
        let old = path + ".1"
        try? FileManager.default.removeItem(atPath: old)
        try? FileManager.default.moveItem(atPath: path, toPath: old)
        try? open()
    }
}

public struct FileLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let file: LogFile

    public init(label: String, file: LogFile, level: Logger.Level = .info) {
        self.label = label
        self.file = file
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\(LogLine.escape("\($0.value)"))" }
        let line = ([JSONOutput.timestamp(Date()), event.level.rawValue.uppercased(), label, LogLine.escape("\(event.message)")] + fields)
            .joined(separator: " ")
        file.write(line)
    }
}

enum LogLine {
    /// Escapes control characters so one event is always one line.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x00..<0x20, 0x7F, 0x80..<0xA0: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Sets up swift-log once per process: everything goes to the size-capped file in the state
/// folder. `SLIPWAY_LOG_LEVEL` (trace … critical) raises or lowers the level.
public enum SlipwayLogging {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var bootstrapped = false

    public static func bootstrap(paths: SlipwayPaths, environment: [String: String]) throws {
        lock.lock(); defer { lock.unlock() }
        guard !bootstrapped else { return }
        let file = try LogFile(path: paths.logFile)
        let level = environment["SLIPWAY_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        LoggingSystem.bootstrap { label in FileLogHandler(label: label, file: file, level: level) }
        bootstrapped = true
    }
}
