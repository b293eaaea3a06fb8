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

    /// The candidates by budget: one group per host where each host has its own, else one.
    static func budgetGroups(_ candidates: [Store.SweepCandidate], provider: ProviderKind) -> [[Store.SweepCandidate]] {
        guard ProviderRegistry.descriptor(for: provider)?.budgetPerWorkspace == true else { return [candidates] }
        var order: [String] = []
        var groups: [String: [Store.SweepCandidate]] = [:]
        for candidate in candidates {
            if groups[candidate.workspaceSlug] == nil { order.append(candidate.workspaceSlug) }
            groups[candidate.workspaceSlug, default: []].append(candidate)
        }
        return order.map { groups[$0]! }
    }

    /// Every budget with tracked repositories, for every usable account.
    public static func plan(store: Store, settings: SyncEngine.Settings) throws -> [TrackedPolling] {
        var plans: [TrackedPolling] = []
        for account in try store.accounts() where account.status == .ok && account.provider.accountKind == .git {
            guard let id = account.id else { continue }
            let gitPerSecond = Double(settings.pacing(account.provider).gitRequestsPerHour) * settings.budgetFraction / 3600
            let perHost = ProviderRegistry.descriptor(for: account.provider)?.budgetPerWorkspace == true
            for group in budgetGroups(try store.sweepCandidates(accountID: id), provider: account.provider) {
                let tracked = group.filter(\.tracked).count
                guard tracked > 0 else { continue }
                plans.append(TrackedPolling(provider: account.provider, host: perHost ? group.first?.workspaceSlug : nil, tracked: tracked,
                                            interval: interval(tracked: tracked, gitPerSecond: gitPerSecond, settings: settings),
                                            wanted: settings.appPollInterval))
            }
        }
        return plans
    }
}
