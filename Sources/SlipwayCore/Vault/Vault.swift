import Crypto
import CSpawn
import Foundation

public enum VaultError: Error, CustomStringConvertible, Equatable {
    case keyMissing(String)
    case keyTooOpen(String, mode: UInt16)
    case keyMalformed(String, bytes: Int)
    case keyUnreadable(String, reason: String)
    case cannotCreateKey(String, reason: String)
    case cannotOpen(context: String)

    public var description: String {
        switch self {
        case let .keyMissing(path):
            "the vault key \(path) is missing, so stored secrets cannot be read; restore it or relink the accounts"
        case let .keyTooOpen(path, mode):
            "the vault key \(path) is readable by others (mode \(String(mode, radix: 8))); run 'chmod 600 \(path)'"
        case let .keyMalformed(path, bytes):
            "the vault key \(path) holds \(bytes) bytes, not 32; restore the original key or relink the accounts"
        case let .keyUnreadable(path, reason):
            "cannot read the vault key \(path): \(reason)"
        case let .cannotCreateKey(path, reason):
            "cannot create the vault key \(path): \(reason)"
        case let .cannotOpen(context):
            "a stored secret (\(context)) cannot be decrypted with this vault key; it was sealed with another key — restore that key or relink"
        }
    }
}

/// Seals secrets with AES-256-GCM: a random 96-bit nonce per message, and associated data that
/// binds each ciphertext to its owner (e.g. "account:7:token") so rows cannot be swapped.
public struct Vault: Sendable {
    private let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    /// Opens the vault with the key file, creating a new key only when `create` is true and no
    /// key exists yet. An existing key is never replaced, so ciphertext is never orphaned.
    public static func open(keyFile path: String, create: Bool) throws(VaultError) -> Vault {
        let found = slw_file_mode(path, 1)
        if found < 0 {
            guard errno == ENOENT else { throw .keyUnreadable(path, reason: reason(errno)) }
            guard create else { throw .keyMissing(path) }
            return Vault(key: try createKey(at: path))
        }
        let mode = UInt16(found & 0o777)
        guard mode & 0o077 == 0 else { throw .keyTooOpen(path, mode: mode) }
        let data = try readKey(path)
        guard data.count == 32 else { throw .keyMalformed(path, bytes: data.count) }
        return Vault(key: SymmetricKey(data: data))
    }

    /// The key file's bytes, or what exactly stopped reading them (a full descriptor table reads
    /// very differently from a wrong owner).
    private static func readKey(_ path: String) throws(VaultError) -> Data {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .keyUnreadable(path, reason: reason(errno)) }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw .keyUnreadable(path, reason: reason(errno))
            }
            if n == 0 { return data }
            data.append(contentsOf: buffer[0..<n])
            // A key is 32 bytes; anything much larger is not a key (and is not read whole).
            if data.count > 4096 { return data }
        }
    }

    /// errno as a sentence that says what to do about it.
    public static func reason(_ code: Int32) -> String {
        switch code {
        case EMFILE, ENFILE: "no file descriptors left (too many open files); close some connections or raise 'ulimit -n'"
        case EACCES, EPERM: "permission denied; it must belong to this user (chown it, or run as its owner)"
        case ENOENT: "it does not exist"
        case EISDIR: "it is a directory, not a key file"
        default: String(cString: strerror(code))
        }
    }

    private static func createKey(at path: String) throws(VaultError) -> SymmetricKey {
        let key = SymmetricKey(size: .bits256)
        // O_EXCL: if another process created the key a moment ago, use theirs instead.
        let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return try open(keyFile: path, create: false).key }
            throw .cannotCreateKey(path, reason: reason(errno))
        }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == 32, synced == 0 else {
            unlink(path)
            throw .cannotCreateKey(path, reason: "short write (is the disk full?)")
        }
        return key
    }

    public func seal(_ plaintext: Data, context: String) throws -> Data {
        let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(), authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw VaultError.cannotOpen(context: context) }
        return combined
    }

    public func seal(_ secret: String, context: String) throws -> Data {
        try seal(Data(secret.utf8), context: context)
    }

    public func open(_ ciphertext: Data, context: String) throws(VaultError) -> Data {
        do {
            let box = try AES.GCM.SealedBox(combined: ciphertext)
            return try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
        } catch {
            throw .cannotOpen(context: context)
        }
    }

    public func openString(_ ciphertext: Data, context: String) throws(VaultError) -> String {
        String(decoding: try open(ciphertext, context: context), as: UTF8.self)
    }
}
