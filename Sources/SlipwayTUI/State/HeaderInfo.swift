import Foundation
import SlipwayCore

/// Where the engine this dashboard relies on runs.
public enum EngineBadge: Sendable, Equatable {
    /// This process hosts it.
    case embedded
    /// Another process (a daemon, another TUI) holds the lock.
    case elsewhere(pid: Int32, role: String)
    /// Nobody does yet (the lock is being retried).
    case none
}

/// What the header shows: home, host, one badge per account, the engine and sync activity.
public struct HeaderInfo: Sendable, Equatable {
    public var home: String
    public var host: String
    public var accounts: [AccountCard]
    public var engine: EngineBadge
    /// Commands queued or running, for the sync activity indicator.
    public var activeCommands: Int

    public init(home: String = "", host: String = "", accounts: [AccountCard] = [], engine: EngineBadge = .none, activeCommands: Int = 0) {
        self.home = home
        self.host = host
        self.accounts = accounts
        self.engine = engine
        self.activeCommands = activeCommands
    }

    public func card(accountID: Int64?) -> AccountCard? {
        accounts.first { $0.overview.account.id == accountID }
    }
}

/// How an account's data should be trusted right now.
public enum Freshness: Sendable, Equatable {
    case fresh
    /// Why the rows may be out of date: paused, needs relink, last sync too old.
    case stale(String)

    /// A sync older than this is shown as stale.
    public static let maxAge: TimeInterval = 15 * 60

    public static func of(_ card: AccountCard?, now: Date, engine: EngineBadge) -> Freshness {
        guard let card else { return .fresh }
        let account = card.overview.account
        if account.status == .needsRelink { return .stale("needs relink") }
        if let until = card.pausedUntil(now: now) { return .stale("rate limited for \(Age.duration(until.timeIntervalSince(now)))") }
        if engine == .none { return .stale("no engine running") }
        if let last = card.overview.lastActivityAt, now.timeIntervalSince(last) > maxAge {
            return .stale("last sync \(Age.phrase(last, now: now))")
        }
        return .fresh
    }
}
