import Foundation
import SlipwayCore

/// Everything that can happen to the dashboard: keys, resizes, time, and what the store said.
public enum Action: Sendable, Equatable {
    case key(Key)
    case mouse(MouseEvent)
    case resize(width: Int, height: Int)
    case tick(Date)
    /// A level's count and window of rows, read from the store.
    case loaded(depth: Int, total: Int, offset: Int, items: [Item])
    case loadFailed(depth: Int, message: String)
    case header(HeaderInfo)
    /// Change events the engine appended since the last look.
    case changes([ChangeEvent])
    case commandQueued(id: Int64, description: String)
    case commandFinished(id: Int64, succeeded: Bool, result: String)
    case failed(String)
    /// Where `:goto PATH` leads in the mirror (nil: nowhere).
    case located(path: String, MirrorLocation?)
}

/// Work the reducer asks the runtime to do; its results come back as Actions.
public enum Effect: Sendable, Equatable {
    /// Re-read the count and visible window of the level at `depth` (filter, sort, data changed).
    case reload(depth: Int)
    /// Ask the engine to refresh a repository (or fetch a branch's commits) now.
    case refresh(path: String, description: String)
    /// Put text on the clipboard through the terminal (OSC 52).
    case copy(String)
    /// Switch to a theme and remember it in the config.
    case setTheme(String)
    /// Ask the engine to deploy an app's branch head now.
    case deploy(app: String)
    /// Ask the engine to cancel a deployment.
    case cancelDeployment(Int64)
    /// Ask the engine to copy an App Platform deployment's logs into the store.
    case followLog(deploymentID: Int64)
    /// Ask the engine to install Slipway's push webhook on a repository (`bitbucket/ws/repo`).
    case installWebhook(path: String)
    /// Find a path in the mirror (`:goto`); the answer comes back as `.located`.
    case locate(path: String)
    case quit
}

/// A click or wheel turn, in screen cells.
public struct MouseEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case click, doubleClick, wheelUp, wheelDown }
    public var x: Int
    public var y: Int
    public var kind: Kind

    public init(x: Int, y: Int, kind: Kind) {
        self.x = x
        self.y = y
        self.kind = kind
    }
}

/// The `:` commands: a typed catalogue, so a command without its handling does not compile (the
/// reducer switches over every case); names, aliases and help feed completion, help and the README.
public enum LineCommand: String, Sendable, CaseIterable {
    case providers, workspaces, repos, branches, accounts, apps, goto, sort, theme, filter, refresh, help, quit

    public var aliases: [String] {
        switch self {
        case .providers: ["home"]
        case .workspaces: ["ws"]
        case .repos: ["repositories"]
        case .apps: ["deployments"]
        case .quit: ["q", "q!", "exit"]
        default: []
        }
    }

    /// What it takes after its name, for help.
    public var argument: String? {
        switch self {
        case .goto: "PATH"
        case .sort: "ORDER"
        case .theme: "NAME"
        case .filter: "TEXT"
        default: nil
        }
    }

    public var help: String {
        switch self {
        case .providers: "the linked providers"
        case .workspaces: "the workspaces of the current account"
        case .repos: "every repository of the current account"
        case .branches: "every branch of the current account"
        case .accounts: "accounts, their status, budgets and relink command"
        case .apps: "apps, their deployments and logs"
        case .goto: "jump to a workspace, repository or branch by path (bitbucket/acme/api/main)"
        case .sort: "sort this list: \(LevelKind.sortCatalogue)"
        case .theme: "switch the theme (and keep it)"
        case .filter: "filter this list"
        case .refresh: "refresh this item now"
        case .help: "key bindings"
        case .quit: "leave the dashboard"
        }
    }

    public static func resolve(_ word: String) -> LineCommand? {
        let lower = word.lowercased()
        return allCases.first { $0.rawValue == lower || $0.aliases.contains(lower) }
    }
}

/// What completion offers on the `:` line.
public enum CommandLineCatalog {
    /// Command names that start with what was typed; after `theme ` the theme names, after
    /// `sort ` the orders of this list.
    public static func completions(for text: String, themes: [String] = [], sorts: [String] = []) -> [String] {
        let typed = text.lowercased()
        for (command, values) in [("theme ", themes), ("sort ", sorts)] where typed.hasPrefix(command) {
            let partial = typed.dropFirst(command.count)
            return values.filter { $0.hasPrefix(partial) }.map { command + $0 }
        }
        guard !typed.contains(" ") else { return [] }
        return LineCommand.allCases.map(\.rawValue).filter { $0.hasPrefix(typed) }
    }
}
