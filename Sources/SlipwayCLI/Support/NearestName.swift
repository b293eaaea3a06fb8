import Foundation
import SlipwayCore
import SlipwayProviders

/// "Did you mean …?" for a mistyped path: the closest existing name by edit distance, when it is
/// close enough to be a typo rather than another name.
enum NearestName {
    static func among(_ candidates: [String], to typed: String) -> String? {
        let lower = typed.lowercased()
        let scored = candidates.map { ($0, distance(lower, $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        // A third of the name may be wrong (at least one edit, at most four).
        return best.1 <= min(4, max(1, typed.count / 3)) ? best.0 : nil
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// The one line for a path that is not in the mirror: which part is missing, the nearest
    /// existing name when one is close, else where to look.
    static func missing(_ path: MirrorPath, in store: Store) -> String {
        guard let provider = path.provider else { return "\(path) is not in the mirror" }
        let p = provider.rawValue
        guard let account = try? store.account(for: provider), let accountID = account.id else {
            return "\(p) is not linked; see 'slipway accounts'"
        }
        guard let slug = path.workspace else { return "\(path) is not in the mirror" }
        guard let workspace = try? store.workspace(accountID: accountID, slug: slug), let workspaceID = workspace.id else {
            let names = ((try? store.workspaces(accountID: accountID)) ?? []).map(\.slug)
            return hint("no workspace '\(slug)' in \(p)", near: among(names, to: slug).map { MirrorPath.child(p, $0) + rest(path, after: 2) }, list: p)
        }
        let wsPath = MirrorPath.child(p, slug)
        guard let repoSlug = path.repository else { return "\(path) is not in the mirror" }
        guard let repository = try? store.repository(workspaceID: workspaceID, slug: repoSlug), let repositoryID = repository.id else {
            let names = ((try? store.repositories(workspaceID: workspaceID)) ?? []).map(\.slug)
            return hint("no repository '\(repoSlug)' in \(wsPath)", near: among(names, to: repoSlug).map { MirrorPath.child(wsPath, $0) + rest(path, after: 3) }, list: wsPath)
        }
        let repoPath = MirrorPath.child(wsPath, repoSlug)
        guard let branch = path.branch else { return "\(path) is not in the mirror" }
        let names = ((try? store.branches(repositoryID: repositoryID)) ?? []).map(\.name)
        return hint("no branch '\(branch)' in \(repoPath)", near: among(names, to: branch).map { MirrorPath.child(repoPath, $0) }, list: repoPath)
    }

    private static func rest(_ path: MirrorPath, after parts: Int) -> String {
        let all = [path.workspace, path.repository, path.branch].compactMap { $0 }
        let tail = all.dropFirst(parts - 1)
        return tail.isEmpty ? "" : "/" + tail.joined(separator: "/")
    }

    private static func hint(_ what: String, near: String?, list: String) -> String {
        if let near { return "\(what); did you mean \(near)?" }
        return "\(what); see 'slipway ls \(list)' (if it is new, 'slipway sync --once' brings it)"
    }
}
