import Foundation
import Logging
import SlipwayCore

/// Builds the sync engine the way the config describes it, for the daemon, `sync` and a TUI
/// that hosts it.
enum EngineFactory {
    static func make(context: CommandContext, logger: Logger, tuning: (inout SyncEngine.Settings) -> Void = { _ in }) -> SyncEngine {
        let factory = ProviderFactory(context: context)
        var settings = SyncEngine.Settings()
        settings.appPollInterval = TimeInterval(context.config.engine.appPollSeconds)
        settings.concurrency = context.config.provider("bitbucket").maxInFlight
        settings.restRequestsPerHour = context.config.provider("bitbucket").requestsPerHour
        settings.gitRequestsPerHour = context.config.provider("bitbucket").gitRequestsPerHour
        settings.budgetFraction = context.config.engine.budgetFraction
        tuning(&settings)
        return SyncEngine(store: context.store, settings: settings, logger: logger) { account, lane in
            var provider = try factory.provider(for: account)
            provider.lane = lane
            return provider
        }
    }
}
