import Foundation
import Logging
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders

/// Builds the sync engine the way the config describes it, for the daemon, `sync` and a TUI
/// that hosts it.
enum EngineFactory {
    /// The deployer as the config describes it; git gets the account's token through the
    /// fetch step's credential helper, for the account's linked origins only.
    static func makeDeployer(context: CommandContext, logger: Logger) -> Deployer {
        var settings = Deployer.Settings()
        settings.maxParallel = context.config.deploy.maxParallel
        settings.keepDeployments = context.config.deploy.keepDeployments
        let store = context.store
        let keyFile = context.paths.keyFile
        let secrets: Deployer.SecretVariables = { app in
            guard let id = app.id else { return [:] }
            return try store.secretEnvironment(appID: id) { try Vault.open(keyFile: keyFile, create: false) }
        }
        return Deployer(store: store, workRoot: context.paths.workDirectory, settings: settings, logger: logger, secrets: secrets) { app in
            guard let provider = MirrorPath.parseProvider(app.sourcePath), let account = try store.account(for: provider),
                  let descriptor = ProviderRegistry.descriptor(for: provider) else { return nil }
            // A public repository is fetched with no credential at all.
            guard account.auth != .none else { return nil }
            // The credential is for the account's linked origins only, under the user name the
            // provider's git expects.
            let origins = Set([Origin(url: account.apiURL), Origin(url: account.webURL)].compactMap { $0 })
            let credential = try AccountLinker.credential(for: account, store: store, keyFile: keyFile)
            return GitCredential(username: descriptor.gitUsername(credential), password: credential.secret, origins: origins)
        }
    }

    static func make(context: CommandContext, logger: Logger, tuning: (inout SyncEngine.Settings) -> Void = { _ in }) -> SyncEngine {
        let factory = ProviderFactory(context: context)
        var settings = Self.settings(config: context.config)
        tuning(&settings)
        let keyFile = context.paths.keyFile
        return SyncEngine(store: context.store, settings: settings, logger: logger,
                          openVault: { try Vault.open(keyFile: keyFile, create: true) },
                          makeAppPlatform: { account in try factory.appPlatform(for: account) }) { account in
            try factory.provider(for: account)
        }
    }

    /// The engine's pacing as the config sets it (also what `doctor` and `accounts` plan with).
    static func settings(config: SlipwayConfig) -> SyncEngine.Settings {
        var settings = SyncEngine.Settings()
        settings.appPollInterval = TimeInterval(config.engine.appPollSeconds)
        // Each provider's pacing from its [providers.NAME] table, its adapter's defaults under it.
        for descriptor in ProviderRegistry.descriptors {
            let allowances = config.allowances(descriptor.kind)
            settings.perProvider[descriptor.kind] = .init(restRequestsPerHour: allowances.rest, gitRequestsPerHour: allowances.git,
                                                          concurrency: config.maxInFlight(descriptor.kind))
        }
        settings.budgetFraction = config.engine.budgetFraction
        settings.webhookSweepInterval = TimeInterval(config.webhooks.sweepSeconds)
        settings.webhookPublicURL = config.webhooks.publicURL
        settings.webhookListen = config.webhooks.listen
        settings.keepDeployments = config.deploy.keepDeployments
        return settings
    }
}
