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
    /// Ask the engine to install Slipway's push webhook on a repository (`bitbucket/ws/repo`).
    case installWebhook(path: String)
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

/// The `:` commands, with what completion offers.
public enum CommandLineCatalog {
    public struct Entry: Sendable {
        public var name: String
        public var aliases: [String]
        public var help: String
    }

    public static let entries: [Entry] = [
        Entry(name: "providers", aliases: ["home"], help: "the linked providers"),
        Entry(name: "workspaces", aliases: ["ws"], help: "the workspaces of the current account"),
        Entry(name: "repos", aliases: ["repositories"], help: "every repository of the current account"),
        Entry(name: "branches", aliases: [], help: "every branch of the current account"),
        Entry(name: "accounts", aliases: [], help: "accounts, their status and budgets"),
        Entry(name: "apps", aliases: ["deployments"], help: "apps, their deployments and logs"),
        Entry(name: "sort", aliases: [], help: "sort by name, recent or size"),
        Entry(name: "theme", aliases: [], help: "switch the theme (and keep it): :theme NAME"),
        Entry(name: "filter", aliases: [], help: "filter this list"),
        Entry(name: "refresh", aliases: [], help: "refresh this item now"),
        Entry(name: "help", aliases: [], help: "key bindings"),
        Entry(name: "quit", aliases: ["q", "q!", "exit"], help: "leave the dashboard"),
    ]

    /// Command names that start with what was typed (the first word only).
    public static func completions(for text: String, themes: [String] = []) -> [String] {
        let typed = text.lowercased()
        if typed.hasPrefix("theme ") {
            let partial = typed.dropFirst(6)
            return themes.filter { $0.hasPrefix(partial) }.map { "theme " + $0 }
        }
        guard !typed.contains(" ") else { return [] }
        return entries.map(\.name).filter { $0.hasPrefix(typed) }
    }

    public static func resolve(_ word: String) -> String? {
        let lower = word.lowercased()
        return entries.first { $0.name == lower || $0.aliases.contains(lower) }?.name
    }
}
