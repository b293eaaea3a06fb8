import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders

struct LsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the next level of the mirror: providers, workspaces, repositories, branches or commits.",
        discussion: "PATH is PROVIDER[/WORKSPACE[/REPO[/BRANCH]]], split against the mirror: the longest workspace that exists, then the longest repository in it, the rest the branch — so names with '/' need no quoting."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: JSONFlag
    @Argument(help: "Where to list, e.g. bitbucket/acme/api.", completion: .custom(Completions.mirrorPaths)) var path: String?

    func validate() throws {
        if let path { do { _ = try MirrorPath.parse(path) } catch { throw ValidationError("\(error)") } }
    }

    func run() async throws {
        let context = try global.context()
        let target = try path.map { try context.store.resolvePath($0) } ?? MirrorPath()
        if target.branch != nil { await refreshCommits(target, context: context) }
        let entries = try MirrorListing(store: context.store).list(target)
        if output.json { return try printJSON(entries) }
        if entries.isEmpty {
            Terminal.error(target.provider == nil ? "no Git host linked; run 'slipway link bitbucket --token-file -'" : "\(target) is empty")
            return
        }
        Terminal.out(MirrorListing.table(entries).render())
    }
}

extension LsCommand {
    /// Opening a branch fetches its new commits (on the interactive lane); offline, the stored
    /// ones are shown with a warning. Where an engine runs, it is asked to (the engine alone
    /// writes the mirror); with none, this process takes its role for that one fetch.
    func refreshCommits(_ target: MirrorPath, context: CommandContext) async {
        guard let provider = target.provider, let ws = target.workspace, let name = target.branch,
              let account = try? context.store.account(for: provider), account.status == .ok,
              let repository = try? context.store.repository(at: target), let branch = try? context.store.branch(repositoryID: repository.id!, name: name)
        else { return }
        let engine = EngineRequest(context: context)
        if engine.engineRuns {
            do {
                if case .queued = try await engine.send(RefreshPayload(path: target.description), wait: 30) {
                    Terminal.warning("showing stored commits; the engine has not fetched new ones yet")
                }
            } catch {
                Terminal.warning("showing stored commits; fetching new ones failed: \(error)")
            }
            return
        }
        do {
            let adapter = try ProviderFactory(context: context).provider(for: account)
            _ = try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(30)) {
                try await CommitFetcher(store: context.store, provider: adapter).refresh(workspace: ws, repository: repository, branch: branch)
            }
        } catch {
            Terminal.warning("showing stored commits; fetching new ones failed: \(error)")
        }
    }
}

/// One row of `ls`: the fields DESIGN.md's contract names for each kind.
struct ListingEntry: Encodable {
    struct Head: Encodable {
        var hash: String
        var date: Date?
        var author: String?
        var message: String?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(hash, forKey: .hash)
            try c.encode(date, forKey: .date)
            try c.encode(author, forKey: .author)
            try c.encode(message, forKey: .message)
        }

        enum CodingKeys: String, CodingKey { case hash, date, author, message }
    }

    var kind: String
    /// Where the item is; `path` and the four parts are printed from it.
    var place: MirrorPath
    var name: String
    var displayName: String?
    var username: String?
    var status: String?
    var mainBranch: String?
    var updatedOn: Date?
    var isAdmin: Bool?
    var head: Head?
    var hash: String?
    var date: Date?
    var author: String?
    var message: String?

    var path: String { place.description }

    enum CodingKeys: String, CodingKey {
        case kind, path, provider, workspace, repository, branch, name, displayName, username, status, mainBranch, updatedOn, isAdmin, head,
             hash, date, author, message
    }

    // The path's parts are always there (null above the item's level); the rest only where the
    // item's kind has them.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(path, forKey: .path)
        try c.encode(place.provider?.rawValue, forKey: .provider)
        try c.encode(place.workspace, forKey: .workspace)
        try c.encode(place.repository, forKey: .repository)
        try c.encode(place.branch, forKey: .branch)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(displayName, forKey: .displayName)
        try c.encodeIfPresent(username, forKey: .username)
        try c.encodeIfPresent(status, forKey: .status)
        try c.encodeIfPresent(mainBranch, forKey: .mainBranch)
        try c.encodeIfPresent(updatedOn, forKey: .updatedOn)
        try c.encodeIfPresent(isAdmin, forKey: .isAdmin)
        try c.encodeIfPresent(head, forKey: .head)
        try c.encodeIfPresent(hash, forKey: .hash)
        try c.encodeIfPresent(date, forKey: .date)
        try c.encodeIfPresent(author, forKey: .author)
        try c.encodeIfPresent(message, forKey: .message)
    }
}

struct MirrorListing {
    let store: Store

    func list(_ path: MirrorPath) throws -> [ListingEntry] {
        guard let provider = path.provider else {
            // The Git hosts: a deploy target has no mirror to list.
            return try store.accounts().filter { $0.provider.accountKind == .git }.map {
                ListingEntry(kind: "provider", place: MirrorPath(provider: $0.provider), name: $0.provider.rawValue,
                             displayName: $0.provider.displayName, username: $0.username, status: $0.status.rawValue)
            }
        }
        guard let account = try store.account(for: provider), let accountID = account.id else {
            throw SlipwayCLIError.failure("\(provider.rawValue) is not linked; run 'slipway link \(provider.rawValue)'")
        }
        guard let wsSlug = path.workspace else {
            return try store.workspaces(accountID: accountID).map {
                ListingEntry(kind: "workspace", place: MirrorPath(provider: provider, workspace: $0.slug), name: $0.slug, displayName: $0.name ?? $0.slug)
            }
        }
        guard let workspace = try store.workspace(accountID: accountID, slug: wsSlug), let workspaceID = workspace.id else {
            throw SlipwayCLIError.failure(NearestName.missing(path, in: store))
        }
        guard let repoSlug = path.repository else {
            return try store.repositories(workspaceID: workspaceID).map {
                ListingEntry(kind: "repository", place: MirrorPath(provider: provider, workspace: wsSlug, repository: $0.slug), name: $0.slug, displayName: $0.name,
                             mainBranch: $0.mainBranch, updatedOn: $0.updatedOn, isAdmin: $0.isAdmin)
            }
        }
        guard let repository = try store.repository(workspaceID: workspaceID, slug: repoSlug), let repositoryID = repository.id else {
            throw SlipwayCLIError.failure(NearestName.missing(path, in: store))
        }
        guard let branchName = path.branch else {
            return try store.branches(repositoryID: repositoryID).map {
                ListingEntry(kind: "branch", place: MirrorPath(provider: provider, workspace: wsSlug, repository: repoSlug, branch: $0.name), name: $0.name,
                             head: .init(hash: $0.headHash, date: $0.headDate, author: $0.headAuthor, message: $0.headMessage))
            }
        }
        guard let branch = try store.branch(repositoryID: repositoryID, name: branchName), let branchID = branch.id else {
            throw SlipwayCLIError.failure(NearestName.missing(path, in: store))
        }
        return try store.commits(branchID: branchID).map {
            ListingEntry(kind: "commit", place: MirrorPath(provider: provider, workspace: wsSlug, repository: repoSlug, branch: branchName), name: String($0.hash.prefix(12)),
                         hash: $0.hash, date: $0.date, author: $0.author, message: $0.message)
        }
    }

    static func table(_ entries: [ListingEntry]) -> TextTable {
        func subject(_ message: String?) -> String? {
            message.map { String($0.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "") }
        }
        func age(_ date: Date?) -> String? { RelativeTime.text(date) }
        switch entries.first?.kind {
        case "provider":
            var t = TextTable("PROVIDER", "USER", "STATUS")
            for e in entries { t.add(e.name, e.username.map { "@" + $0 }, e.status) }
            return t
        case "workspace":
            var t = TextTable("WORKSPACE", "NAME")
            for e in entries { t.add(e.name, e.displayName) }
            return t
        case "repository":
            var t = TextTable("REPOSITORY", "MAIN", "UPDATED", "ADMIN")
            for e in entries { t.add(e.name, e.mainBranch, age(e.updatedOn), e.isAdmin == true ? "yes" : "") }
            return t
        case "branch":
            var t = TextTable("BRANCH", "HEAD", "AUTHOR", "DATE", "SUBJECT")
            for e in entries { t.add(e.name, e.head.map { String($0.hash.prefix(7)) }, e.head?.author, age(e.head?.date), subject(e.head?.message)) }
            return t
        default:
            var t = TextTable("COMMIT", "AUTHOR", "DATE", "SUBJECT")
            for e in entries { t.add(e.hash.map { String($0.prefix(7)) }, e.author, age(e.date), subject(e.message)) }
            return t
        }
    }
}
