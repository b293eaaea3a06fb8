import Foundation
import SlipwayCore

/// Which list a level of the navigation stack shows.
public enum LevelKind: Sendable, Equatable {
    case providers
    case workspaces(accountID: Int64)
    /// One workspace's repositories, every repository of an account, or of every provider
    /// (`:repos`, both nil).
    case repositories(accountID: Int64?, workspaceID: Int64?)
    /// One repository's branches, every branch of an account, or of every provider (`:branches`, both nil).
    case branches(accountID: Int64?, repositoryID: Int64?)
    case commits(accountID: Int64, branchID: Int64)
    case accounts
    case apps
    /// One app's deployments, newest first.
    case deployments(appID: Int64)
    /// One deployment's log, a row per line.
    case log(deploymentID: Int64)

    public var sorts: [Store.BrowseSort] {
        switch self {
        case .providers, .accounts, .apps, .deployments, .log: [.name]
        case .workspaces: [.name, .size]
        case .repositories(nil, nil), .branches(nil, nil): [.name, .recent, .size, .provider]
        case .repositories, .branches: [.name, .recent, .size]
        case .commits: [.name, .size]
        }
    }

    /// Every order each kind of list has, by the one name `s`, `:sort` and the README use.
    public static var sortCatalogue: String {
        let kinds: [(String, LevelKind)] = [("workspaces", .workspaces(accountID: 0)), ("repositories", .repositories(accountID: nil, workspaceID: nil)),
                                            ("branches", .branches(accountID: nil, repositoryID: nil)), ("commits", .commits(accountID: 0, branchID: 0))]
        return kinds.map { name, kind in "\(name) " + kind.sorts.map { kind.label($0) }.joined(separator: "|") }.joined(separator: "; ")
    }

    /// The order `:sort NAME` names on this list.
    public func sort(named name: String) -> Store.BrowseSort? {
        sorts.first { label($0) == name.lowercased() }
    }

    /// What each sort is called on this level.
    public func label(_ sort: Store.BrowseSort) -> String {
        switch (self, sort) {
        case (.commits, .name): "newest"
        case (.workspaces, .size): "repositories"
        case (.repositories, .size): "branches"
        case (_, .size): "author"
        case (_, .recent): "recent"
        case (_, .name): "name"
        case (_, .provider): "provider"
        }
    }

    public var accountID: Int64? {
        switch self {
        case .providers, .accounts, .apps, .deployments, .log: nil
        case let .workspaces(id), let .commits(id, _): id
        case let .repositories(id, _), let .branches(id, _): id
        }
    }

    /// Levels whose rows can be opened.
    public var drillable: Bool {
        switch self {
        case .commits, .accounts, .log: false
        default: true
        }
    }
}

/// One row of a list.
public enum Item: Sendable, Equatable {
    /// A linked Git host with its budgets (the providers level shows what is left of each window).
    case provider(AccountCard)
    case workspace(Store.WorkspaceRow)
    case repository(Store.RepositoryRow)
    case branch(Store.BranchRow)
    case commit(Commit)
    case account(AccountCard)
    case app(Store.AppRow)
    /// With its steps (fetch, checkout, build, deploy), each with its times.
    case deployment(Deployment, steps: [DeploymentStep] = [])
    /// A line of output; `part` > 0 for the rows a wrapped long line continues on.
    case logLine(number: Int, part: Int = 0, stream: LogStream, text: String, lines: Int = 0)

    /// The row's place in the mirror (`bitbucket/acme/api/main`); commits add `@hash`.
    public func path(provider: String, commitsOf branchPath: String = "") -> String {
        switch self {
        case let .provider(card): card.overview.account.providerName
        case let .account(card): card.overview.account.providerName
        case let .workspace(w): MirrorPath.joined(provider, w.workspace.slug)
        case let .repository(r): MirrorPath.joined(r.provider.isEmpty ? provider : r.provider, r.workspaceSlug, r.repository.slug)
        case let .branch(b): MirrorPath.joined(b.provider.isEmpty ? provider : b.provider, b.workspaceSlug, b.repositorySlug, b.branch.name)
        case let .commit(c): "\(branchPath)@\(c.hash)"
        case let .app(row): "app:\(row.app.name)"
        case let .deployment(d, _): "deployment:\(d.id ?? 0)"
        case let .logLine(number, part, _, _, _): "\(branchPath)#\(number).\(part)"
        }
    }

    /// Which row this is across reloads (the selection follows it when rows move).
    public var identity: String {
        switch self {
        case let .provider(card): "provider:\(card.overview.account.id ?? 0)"
        case let .account(card): "account:\(card.overview.account.id ?? 0)"
        case let .workspace(w): "workspace:\(w.workspace.id ?? 0)"
        case let .repository(r): "repository:\(r.repository.id ?? 0)"
        case let .branch(b): "branch:\(b.branch.id ?? 0)"
        case let .commit(c): "commit:\(c.id ?? 0)"
        case let .app(row): "app:\(row.app.id ?? 0)"
        case let .deployment(d, _): "deployment:\(d.id ?? 0)"
        case let .logLine(number, part, _, _, _): "line:\(number).\(part)"
        }
    }

    /// What the crumb says once the row is opened.
    public var title: String {
        switch self {
        case let .provider(card): card.overview.account.providerName
        case let .account(card): card.overview.account.providerName
        case let .workspace(w): w.workspace.slug
        case let .repository(r): r.repository.slug
        case let .branch(b): b.branch.name
        case let .commit(c): String(c.hash.prefix(7))
        case let .app(row): row.app.name
        case let .deployment(d, _): "#\(d.id ?? 0)"
        case let .logLine(number, _, _, _, _): "line \(number)"
        }
    }
}

/// An account with its budgets, for the accounts screen and header badges.
public struct AccountCard: Sendable, Equatable {
    public var overview: Store.AccountOverview
    public var budgets: [BudgetState]
    /// Where its budgets cannot give the repositories apps build from their `app_poll_seconds`.
    public var stretchedPolling: [TrackedPolling]

    public init(overview: Store.AccountOverview, budgets: [BudgetState], stretchedPolling: [TrackedPolling] = []) {
        self.overview = overview
        self.budgets = budgets
        self.stretchedPolling = stretchedPolling
    }

    /// The latest pause of any of its budgets that has not ended.
    public func pausedUntil(now: Date) -> Date? {
        budgets.compactMap { $0.reading(now: now).pausedUntil }.max()
    }
}
