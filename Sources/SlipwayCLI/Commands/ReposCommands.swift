import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders

struct ReposCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repos",
        abstract: "Add, list and remove public Git repositories (no account needed).",
        discussion: """
            A public repository is watched by its HTTPS clone URL with no credentials: its branch heads come from git's \
            refs advertisement (at most [providers.git] git_requests_per_hour per host, 600 unless set), its commits from a \
            partial fetch into a cache under the data dir. It shows as provider git, workspace the host, repository the path.
            """,
        subcommands: [List.self, Add.self, Remove.self],
        defaultSubcommand: List.self
    )

    /// One added repository, as `repos --json` and `repos add --json` print it.
    struct Row: Encodable {
        var path: String
        var provider = "git"
        var workspace: String
        var repository: String
        var cloneUrl: String
        var mainBranch: String?
        var branches: Int?
        var lastCheckedAt: Date?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encode(provider, forKey: .provider)
            try c.encode(workspace, forKey: .workspace)
            try c.encode(repository, forKey: .repository)
            try c.encode(cloneUrl, forKey: .cloneUrl)
            try c.encode(mainBranch, forKey: .mainBranch)
            try c.encode(branches, forKey: .branches)
            try c.encode(lastCheckedAt, forKey: .lastCheckedAt)
        }

        enum CodingKeys: String, CodingKey { case path, provider, workspace, repository, cloneUrl, mainBranch, branches, lastCheckedAt }

        static func of(_ url: PublicGitURL, store: Store) throws -> Row {
            let place = MirrorPath(provider: .git, workspace: url.host, repository: url.path)
            let mirrored = try store.repository(at: place)
            return Row(path: place.description, workspace: url.host, repository: url.path, cloneUrl: url.cloneURL, mainBranch: mirrored?.mainBranch,
                       branches: mirrored?.branchCount, lastCheckedAt: mirrored?.lastCheckedAt)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the public repositories added.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let context = try global.context()
            let rows = try context.store.publicRepositories().map { try Row.of($0, store: context.store) }
            if output.json { return try printJSON(rows) }
            guard !rows.isEmpty else {
                Terminal.error("no public repositories; add one with 'slipway repos add https://HOST/PATH.git'")
                return
            }
            var table = TextTable("PATH", "CLONE URL", "MAIN", "BRANCHES", "CHECKED")
            for r in rows {
                table.add(r.path, r.cloneUrl, r.mainBranch ?? "-", r.branches.map(String.init) ?? "-", RelativeTime.text(r.lastCheckedAt) ?? "-")
            }
            Terminal.out(table.render())
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add a public repository by its HTTPS clone URL.",
            discussion: "Checked at once with one refs advertisement: a URL that asks for credentials or does not exist is refused and nothing is added.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The repository's HTTPS clone URL (http:// only on loopback).", valueName: "URL")) var url: String
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let context = try global.context()
            try context.refuseIfReadonly("repos add")
            let parsed: PublicGitURL
            do { parsed = try PublicGitURL.parse(url) } catch { throw SlipwayCLIError.failure(error.description) }
            let place = MirrorPath(provider: .git, workspace: parsed.host, repository: parsed.path)
            if try context.store.publicRepositories().contains(parsed) {
                Terminal.error("\(place) is added already")
                if output.json { try printJSON(try Row.of(parsed, store: context.store)) }
                return
            }
            let factory = ProviderFactory(context: context)
            // One advertisement, before anything is stored: only a public repository gets in.
            let probe = PublicGitProvider(repositories: [parsed], http: factory.http)
            do {
                _ = try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(30)) {
                    try await probe.branchHeads(cloneURL: parsed.cloneURL)
                }
            } catch {
                throw SlipwayCLIError.failure(Self.refusal(parsed, error))
            }
            let account: Account
            switch try context.store.addPublicRepository(parsed, now: Date()) {
            case let .added(added), let .known(added): account = added
            }
            do {
                try await mirror(parsed, account: account, context: context, factory: factory)
            } catch {
                // Checked a moment ago, yet not mirrored: nothing is kept half-added.
                _ = try? context.store.removePublicRepository(host: parsed.host, path: parsed.path, now: Date())
                throw SlipwayCLIError.failure("cannot mirror \(parsed.cloneURL): \(error); nothing was added")
            }
            let row = try Row.of(parsed, store: context.store)
            Terminal.error("added \(place): \(row.branches ?? 0) branch\(row.branches == 1 ? "" : "es")\(row.mainBranch.map { ", main branch \($0)" } ?? "")")
            if output.json { try printJSON(row) }
        }

        /// The engine mirrors it when one runs; otherwise this process takes its role for it.
        private func mirror(_ url: PublicGitURL, account: Account, context: CommandContext, factory: ProviderFactory) async throws {
            let engine = EngineRequest(context: context)
            if engine.engineRuns {
                if case .queued = try await engine.send(MirrorRepositoryPayload(url: url.cloneURL), wait: 60) {
                    Terminal.warning("the engine has not mirrored it yet; it shows once it has")
                }
                return
            }
            let provider = try factory.provider(for: account)
            _ = try await RequestContext.run(lane: .interactive, deadline: Date().addingTimeInterval(60)) {
                try await PublicRepositoryMirror.mirror(url, account: account, store: context.store, provider: provider, now: Date())
            }
        }

        /// Why the check refused it, in one line.
        static func refusal(_ url: PublicGitURL, _ error: any Error) -> String {
            switch error as? HTTPError {
            case .forbidden?, .unauthorized?:
                return "\(url.cloneURL) asks for credentials: Slipway adds only public repositories and never sends credentials; nothing was added"
            case .notFound?:
                return "no repository at \(url.cloneURL) (404); check the clone URL; nothing was added"
            case .decoding?:
                return "\(url.cloneURL) is not a git repository's clone URL (its answer is not a refs advertisement); nothing was added"
            case let .rateLimited(_, resumeAt)?:
                return "\(url.host) is rate limiting this host until \(JSONOutput.timestamp(resumeAt)); try again then; nothing was added"
            case let other?:
                return "cannot reach \(url.cloneURL): \(other); nothing was added"
            case nil:
                return "cannot check \(url.cloneURL): \(error); nothing was added"
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a public repository and its mirrored data.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The repository, as git/HOST/PATH (or its clone URL).", valueName: "PATH"), completion: .custom(Completions.repositoryPaths))
        var repository: String

        func run() async throws {
            let context = try global.context()
            try context.refuseIfReadonly("repos remove")
            let (host, path) = try Self.named(repository, store: context.store)
            guard try context.store.removePublicRepository(host: host, path: path, now: Date()) != nil else {
                throw SlipwayCLIError.failure("git/\(host)/\(path) is not an added repository; see 'slipway repos'")
            }
            Terminal.error("removed git/\(host)/\(path) and its mirrored data")
            let kept = try context.store.apps().filter { $0.sourcePath == "git/\(host)/\(path)" }.map(\.name)
            if !kept.isEmpty {
                Terminal.error("kept \(kept.count) app\(kept.count == 1 ? "" : "s") built from it (\(kept.joined(separator: ", "))), marked unlinked: "
                               + "they deploy nothing until you add it again")
            }
        }

        /// The host and path a `git/HOST/PATH` (resolved against the list) or a clone URL names.
        static func named(_ text: String, store: Store) throws -> (host: String, path: String) {
            if text.contains("://") {
                do {
                    let url = try PublicGitURL.parse(text)
                    return (url.host, url.path)
                } catch { throw SlipwayCLIError.failure(error.description) }
            }
            var parts = text.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            guard parts.first == ProviderKind.git.rawValue, parts.count >= 3 else {
                throw SlipwayCLIError.failure("expected git/HOST/PATH (see 'slipway repos'), got '\(text)'")
            }
            parts.removeFirst()
            let host = parts.removeFirst()
            var path = parts.joined(separator: "/")
            if path.hasSuffix(".git") { path.removeLast(4) }
            return (host, path)
        }
    }
}
