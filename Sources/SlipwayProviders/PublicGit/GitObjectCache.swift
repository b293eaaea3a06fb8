import Crypto
import Foundation

/// Commit details of public repositories, read from a partial, shallow fetch into a bare
/// repository per clone URL under the data dir: blobs are never fetched (`--filter=blob:none`)
/// and only as much history as asked for (`--depth`). One git process at a time per repository;
/// past `limitBytes` the least recently used repositories are removed.
public actor GitObjectCache {
    public let directory: String
    public let limitBytes: Int64
    let git: GitProcess
    private var tails: [String: Task<Void, Never>] = [:]

    public init(directory: String, limitBytes: Int64 = 200 << 20) {
        self.init(directory: directory, limitBytes: limitBytes, git: GitProcess())
    }

    init(directory: String, limitBytes: Int64, git: GitProcess) {
        self.directory = directory
        self.limitBytes = limitBytes
        self.git = git
    }

    /// The details of these branch heads (branch → hash), fetched two commits deep (so each head
    /// is not a shallow edge and names its parents). A head that moved on since it was advertised
    /// is left out: the next look brings it.
    public func heads(_ heads: [String: String], cloneURL: String) async throws -> [String: ProviderCommit] {
        guard !heads.isEmpty else { return [:] }
        return try await serialized(cloneURL) { [self] repository in
            // Named refspecs for a few heads; all of them at once when most moved (the first look).
            let refspecs = heads.count > 16 ? ["+refs/heads/*:refs/heads/*"] : heads.keys.sorted().map { "+refs/heads/\($0):refs/heads/\($0)" }
            _ = try await git.run(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--depth=2", "origin"] + refspecs, in: repository)
            let wanted = Set(heads.values)
            var found: [String: ProviderCommit] = [:]
            for commit in try await refDetails(in: repository) where wanted.contains(commit.hash) { found[commit.hash] = commit }
            return found
        }
    }

    /// Up to `limit` commits from `head` back, newest first, stopping before any of `exclude`.
    public func history(from head: String, exclude: [String], limit: Int, cloneURL: String) async throws -> [ProviderCommit] {
        try await serialized(cloneURL) { [self] repository in
            // One more than shown, so the last one's parents are real, not a shallow edge.
            _ = try await git.run(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--depth=\(limit + 1)", "origin", head], in: repository)
            let text = try await git.run(["log", "-n", String(limit + exclude.count), "--format=%H%x1f%P%x1f%an <%ae>%x1f%aI%x1f%B%x1e", head],
                                         in: repository)
            var commits: [ProviderCommit] = []
            for record in String(decoding: text, as: UTF8.self).split(separator: "\u{1E}") {
                let fields = record.trimmingCharacters(in: .newlines).split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
                guard fields.count == 5 else { continue }
                if exclude.contains(fields[0]) || commits.count == limit { break }
                commits.append(ProviderCommit(hash: fields[0], date: ProviderDate.parse(fields[3]), author: fields[2],
                                              message: Self.trimmedMessage(fields[4]), parents: fields[1].split(separator: " ").map(String.init)))
            }
            return commits
        }
    }

    /// Every local branch's commit, read without walking history.
    private func refDetails(in repository: String) async throws -> [ProviderCommit] {
        let format = "%(objectname)%1f%(parent)%1f%(authorname) %(authoremail)%1f%(authordate:iso-strict)%1f%(contents)%1e"
        let text = try await git.run(["for-each-ref", "--format=\(format)", "refs/heads/"], in: repository)
        return String(decoding: text, as: UTF8.self).split(separator: "\u{1E}").compactMap { record in
            let fields = record.trimmingCharacters(in: .newlines).split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 5, fields[0].count == 40 else { return nil }
            return ProviderCommit(hash: fields[0], date: ProviderDate.parse(fields[3]), author: fields[2], message: Self.trimmedMessage(fields[4]),
                                  parents: fields[1].split(separator: " ").map(String.init))
        }
    }

    static func trimmedMessage(_ text: String) -> String {
        var message = text
        while message.last?.isNewline == true { message.removeLast() }
        return message
    }

    /// The repository's cache, made on first use, used by one git process at a time; the cache
    /// is pruned after each use.
    private func serialized<T: Sendable>(_ cloneURL: String, _ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        let previous = tails[cloneURL]
        let path = repositoryPath(cloneURL)
        let work = Task { [self] () async throws -> T in
            _ = await previous?.value
            // Another process (a CLI beside the daemon) may use the same cache: git's own locks
            // would make one of them fail, so each takes the repository's lock file first.
            let lock = try await Self.lock(path + ".lock")
            defer { flock(lock, LOCK_UN); close(lock) }
            try await prepare(path, cloneURL: cloneURL)
            defer { touch(path) }
            return try await body(path)
        }
        tails[cloneURL] = Task { _ = try? await work.value }
        defer { prune(keeping: path) }
        return try await work.value
    }

    /// An exclusive lock on a file, waited for without blocking a thread of the pool.
    static func lock(_ path: String) async throws -> Int32 {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            do { try await Task.sleep(nanoseconds: 20_000_000) } catch {
                close(descriptor)
                throw error
            }
        }
        return descriptor
    }

    /// `NAME-HASH.git`: readable, and unique per clone URL.
    func repositoryPath(_ cloneURL: String) -> String {
        let digest = SHA256.hash(data: Data(cloneURL.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
        let name = String((cloneURL.split(separator: "/").last ?? "repository").replacingOccurrences(of: ".git", with: "")
            .map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(40))
        return "\(directory)/\(name)-\(digest).git"
    }

    /// A bare repository whose `origin` is the clone URL, set up for partial fetches.
    private func prepare(_ path: String, cloneURL: String) async throws {
        guard !FileManager.default.fileExists(atPath: path + "/HEAD") else { return }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        _ = try await git.run(["init", "--quiet", "--bare", "."], in: path)
        for setting in [["core.repositoryformatversion", "1"], ["extensions.partialClone", "origin"], ["remote.origin.url", cloneURL],
                        ["remote.origin.promisor", "true"], ["remote.origin.partialclonefilter", "blob:none"]] {
            _ = try await git.run(["config"] + setting, in: path)
        }
    }

    private nonisolated func touch(_ path: String) {
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: path)
    }

    /// Removes the least recently used repositories while the cache is over its limit.
    private nonisolated func prune(keeping current: String) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else { return }
        var entries = names.filter { $0.hasSuffix(".git") }.map { name -> (path: String, used: Date, size: Int64) in
            let path = "\(directory)/\(name)"
            let used = (try? fm.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
            return (path, used, Self.size(of: path))
        }
        var total = entries.reduce(0) { $0 + $1.size }
        entries.sort { $0.used < $1.used }
        for entry in entries where total > limitBytes && entry.path != current {
            // Only a repository nobody is using right now.
            let lock = open(entry.path + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
            guard lock >= 0, flock(lock, LOCK_EX | LOCK_NB) == 0 else {
                if lock >= 0 { close(lock) }
                continue
            }
            try? fm.removeItem(atPath: entry.path)
            flock(lock, LOCK_UN)
            close(lock)
            total -= entry.size
        }
    }

    static func size(of path: String) -> Int64 {
        guard let walker = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        while let item = walker.nextObject() as? String {
            if let size = walker.fileAttributes?[.size] as? NSNumber { total += size.int64Value } else { _ = item }
        }
        return total
    }
}
