import Foundation

/// What the engine holding the lock wrote about itself.
public struct EngineInfo: Sendable, Equatable, Codable {
    public var pid: Int32
    public var since: Date
    /// "daemon", "tui", "sync" …
    public var host: String
    /// The webhook listener's address, when one runs.
    public var webhookListener: String?

    public init(pid: Int32, since: Date, host: String, webhookListener: String? = nil) {
        self.pid = pid
        self.since = since
        self.host = host
        self.webhookListener = webhookListener
    }
}

public enum EngineLockError: Error, CustomStringConvertible, Equatable {
    case alreadyHeld(EngineInfo?)
    case cannotOpen(String, reason: String)

    public var description: String {
        switch self {
        case let .alreadyHeld(info?):
            "an engine already runs for this home (pid \(info.pid), \(info.host), since \(JSONOutput.timestamp(info.since))); stop it first or work beside it"
        case .alreadyHeld(nil):
            "an engine already runs for this home; stop it first or work beside it"
        case let .cannotOpen(path, reason):
            "cannot open the engine lock \(path): \(reason)"
        }
    }
}

/// One engine per home: an exclusive `flock` on `engine.lock`, held for the engine's life. The
/// kernel drops it when the process dies, so a crash never leaves a stale lock; the file's
/// contents only describe the holder for `slipway status`.
public final class EngineLock: @unchecked Sendable {
    // Mutable state is guarded by `mutex`; the descriptor is owned by this object alone.
    private let mutex = NSLock()
    private var descriptor: Int32
    public let path: String
    public let info: EngineInfo

    private init(descriptor: Int32, path: String, info: EngineInfo) {
        self.descriptor = descriptor
        self.path = path
        self.info = info
    }

    deinit { release() }

    /// Takes the lock without waiting, or says who holds it.
    public static func acquire(path: String, info: EngineInfo) throws(EngineLockError) -> EngineLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotOpen(path, reason: String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno
            close(fd)
            if reason == EWOULDBLOCK { throw .alreadyHeld(readInfo(path: path)) }
            throw .cannotOpen(path, reason: String(cString: strerror(reason)))
        }
        // Describe ourselves: truncate, write, flush.
        let data = (try? JSONOutput.encoder().encode(info)) ?? Data()
        _ = ftruncate(fd, 0)
        _ = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        _ = fsync(fd)
        return EngineLock(descriptor: fd, path: path, info: info)
    }

    /// Who holds the lock right now, or nil when no engine runs.
    public static func holder(path: String) -> EngineInfo? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        // Held, but the holder may not have written its description yet.
        return readInfo(path: path) ?? EngineInfo(pid: 0, since: Date(timeIntervalSince1970: 0), host: "starting")
    }

    private static func readInfo(path: String) -> EngineInfo? {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return nil }
        return try? JSONOutput.decoder().decode(EngineInfo.self, from: data)
    }

    public var isHeld: Bool {
        mutex.lock(); defer { mutex.unlock() }
        return descriptor >= 0
    }

    /// Lets go of the lock (idempotent). The file stays; its contents are stale but harmless.
    public func release() {
        mutex.lock(); defer { mutex.unlock() }
        guard descriptor >= 0 else { return }
        _ = ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }
}
