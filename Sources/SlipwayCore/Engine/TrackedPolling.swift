import Foundation
import SlipwayProviders

/// How often the repositories apps build from can be looked at within one git budget: every
/// `app_poll_seconds` while the budget allows, stretched when they alone need more than the
/// sweep's share of it (public Git's 600 requests an hour per host go fast). The engine plans
/// with this; `doctor` and `accounts` say when it stretches.
public struct TrackedPolling: Sendable, Equatable {
    public var provider: ProviderKind
    /// The host, where each has a budget of its own (public Git); nil: the account's one budget.
    public var host: String?
    /// Repositories apps build from within that budget.
    public var tracked: Int
    /// The interval the budget allows them.
    public var interval: TimeInterval
    /// `app_poll_seconds`.
    public var wanted: TimeInterval

    public var stretched: Bool { interval > wanted + 0.5 }

    /// One line for `doctor` and `accounts`.
    public var message: String {
        let place = host.map { "\(provider.rawValue) on \($0)" } ?? provider.rawValue
        let count = "\(tracked) repositor\(tracked == 1 ? "y" : "ies") apps build from"
        return "\(place): \(count) get a look every \(Int(interval.rounded(.up))) s, not every \(Int(wanted)) s (app_poll_seconds): "
            + "the git budget allows no more"
    }

    /// The interval for `tracked` repositories at `gitPerSecond` (the budget's rate, its share
    /// for the engine already taken): `app_poll_seconds`, or longer when the sweep's share of the
    /// budget cannot give them that.
    public static func interval(tracked: Int, gitPerSecond: Double, settings: SyncEngine.Settings) -> TimeInterval {
        max(settings.appPollInterval, Double(tracked) / max(gitPerSecond * settings.sweepShare, 1e-6))
    }

    /// Every budget with tracked repositories, for every usable account.
    public static func plan(store: Store, settings: SyncEngine.Settings) throws -> [TrackedPolling] {
        var plans: [TrackedPolling] = []
        for account in try store.accounts() where account.status == .ok && account.provider.accountKind == .git {
            guard let id = account.id else { continue }
            let gitPerSecond = Double(settings.pacing(account.provider).gitRequestsPerHour) * settings.budgetFraction / 3600
            let perHost = ProviderRegistry.descriptor(for: account.provider)?.budgetPerWorkspace == true
            let counts = try store.trackedRepositoryCounts(accountID: id)
            guard !counts.isEmpty else { continue }
            // One budget per host where each has its own (public Git: a workspace is a host), else one.
            let groups: [(host: String?, tracked: Int)]
            if perHost {
                let slugs = Dictionary(uniqueKeysWithValues: try store.workspaces(accountID: id).map { ($0.id!, $0.slug) })
                groups = counts.sorted { $0.key < $1.key }.map { (slugs[$0.key], $0.value) }
            } else {
                groups = [(nil, counts.values.reduce(0, +))]
            }
            for group in groups {
                plans.append(TrackedPolling(provider: account.provider, host: group.host, tracked: group.tracked,
                                            interval: interval(tracked: group.tracked, gitPerSecond: gitPerSecond, settings: settings),
                                            wanted: settings.appPollInterval))
            }
        }
        return plans
    }
}
