import Foundation
import SlipwayCore

/// Shell completions from the store (the argument parser calls these from the generated
/// scripts): app names, deployment ids and mirror paths. They only read, never create a home,
/// and answer nothing rather than fail.
enum Completions {
    @Sendable static func apps(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let store = store(words) else { return [] }
        return ((try? store.apps()) ?? []).map(\.name).filter { $0.hasPrefix(prefix) }
    }

    @Sendable static func deployments(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        guard let store = store(words) else { return [] }
        return ((try? store.deployments(limit: 50)) ?? []).compactMap { $0.id.map(String.init) }.filter { $0.hasPrefix(prefix) }
    }

    /// `bit` → `bitbucket`; `bitbucket/ac` → `bitbucket/acme`; `bitbucket/acme/` → its repositories …
    @Sendable static func mirrorPaths(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        paths(words, prefix, deepest: 4)
    }

    /// As `mirrorPaths`, stopping at repositories (`--source`, `webhooks`).
    @Sendable static func repositoryPaths(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
        paths(words, prefix, deepest: 3)
    }

    static func paths(_ words: [String], _ prefix: String, deepest: Int) -> [String] {
        guard let store = store(words) else { return [] }
        let parent = prefix.lastIndex(of: "/").map { String(prefix[..<$0]) }
        let depth = parent.map { $0.split(separator: "/", omittingEmptySubsequences: false).count } ?? 0
        guard depth < deepest else { return [] }
        let target: MirrorPath
        if let parent {
            guard let parsed = try? store.resolvePath(parent) else { return [] }
            target = parsed
        } else {
            target = MirrorPath()
        }
        let entries = (try? MirrorListing(store: store).list(target)) ?? []
        return entries.filter { $0.kind != "commit" }.map(\.path).filter { $0.hasPrefix(prefix) }
    }

    /// The store of the home the command line names (`--home DIR`), else of the environment's.
    static func store(_ words: [String]) -> Store? {
        var home: String?
        if let flag = words.firstIndex(of: "--home"), flag + 1 < words.count { home = String(words[flag + 1]) }
        guard let paths = try? SlipwayPaths.resolve(homeFlag: home, environment: ProcessInfo.processInfo.environment),
              FileManager.default.fileExists(atPath: paths.databaseFile) else { return nil }
        return try? Store(path: paths.databaseFile)
    }
}
