import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayProviders
import SlipwayTUI

struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Install, list and remove push webhooks on repositories.",
        discussion: """
            A hook makes the provider call Slipway's receiver (run by 'slipway daemon' on webhooks.listen) on every push, \
            so new commits show at once instead of at the next poll. The URL is --url, else webhooks.public_url \
            (a reverse proxy or tunnel in front of the receiver); each hook gets its own random secret, kept in the vault.
            """,
        subcommands: [Install.self, List.self, Remove.self]
    )

    struct Target: ParsableArguments {
        @Argument(help: ArgumentHelp("The repository, as PROVIDER/WORKSPACE/REPO.", valueName: "PATH"), completion: .custom(Completions.repositoryPaths))
        var repository: String

        func validate() throws {
            // Syntax only: which parts are the workspace and the repository, the mirror decides.
            guard try MirrorPath.parse(repository).repository != nil else { throw ValidationError("expected PROVIDER/WORKSPACE/REPO, got '\(repository)'") }
        }

        /// The repository and its account, from the mirror (no network).
        func resolve(in store: Store) throws -> (account: Account, target: WebhookInstaller.Target) {
            let path = try store.resolvePath(repository)
            guard let kind = path.provider, let account = try store.account(for: kind) else {
                throw SlipwayCLIError.failure("\(path.provider?.rawValue ?? repository) is not linked; see 'slipway accounts'")
            }
            guard let repo = try store.repository(at: path), let workspace = path.workspace else {
                throw SlipwayCLIError.failure(NearestName.missing(path, in: store))
            }
            guard path.branch == nil else { throw SlipwayCLIError.failure("expected PROVIDER/WORKSPACE/REPO, got a branch path '\(repository)'") }
            return (account, WebhookInstaller.Target(repository: repo, workspaceSlug: workspace, path: repository))
        }
    }

    static func installer(_ context: CommandContext, account: Account) throws -> WebhookInstaller {
        guard let hosting = try ProviderFactory(context: context).provider(for: account) as? any WebhookHosting else {
            throw SlipwayCLIError.failure("\(account.provider.rawValue) has no webhooks; its repositories are polled")
        }
        let keyFile = context.paths.keyFile
        return WebhookInstaller(store: context.store, provider: hosting, openVault: { try Vault.open(keyFile: keyFile, create: true) })
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "install", abstract: "Install a push webhook (admin needed).")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: Target
        @Option(help: "The URL the provider calls (default: webhooks.public_url).") var url: String?

        func run() async throws {
            let context = try global.context()
            try context.refuseIfReadonly("webhooks install")
            let (account, target) = try target.resolve(in: context.store)
            let hookURL: String
            do {
                hookURL = try WebhookTarget.url(for: account, override: url, publicURL: context.config.webhooks.publicURL,
                                                listen: context.config.webhooks.listen)
            } catch {
                throw SlipwayCLIError.failure(error.description)
            }
            // What the mirror knows comes first: no request for a repository the user cannot administer.
            guard target.repository.isAdmin else {
                throw SlipwayCLIError.failure(WebhookInstaller.Failure.notAdmin(path: target.path).description
                                              + "; if that changed, 'slipway sync --once' refreshes it")
            }
            switch try await WebhooksCommand.installer(context, account: account).install(target, url: hookURL) {
            case .installed:
                Terminal.error("installed a push webhook on \(target.path) → \(hookURL)")
            case .unchanged:
                Terminal.error("the webhook on \(target.path) is already installed (→ \(hookURL)); nothing changed")
            }
            if context.config.webhooks.publicURL.isEmpty && url == nil {
                Terminal.error("deliveries go to the receiver's own address; 'slipway daemon' must be running on this host")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List a repository's webhooks known to Slipway, with their health.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: JSONFlag
        @OptionGroup var target: Target

        struct Row: Encodable {
            var id: Int64
            var remoteId: String?
            var url: String
            var events: [String]
            var installedBySlipway: Bool
            /// waiting (nothing delivered yet), delivering, failing
            var state: String
            var healthy: Bool
            /// What proves its deliveries: `signature` (an HMAC of the body) or `token` (the secret itself).
            var proof: String
            var lastDeliveryAt: Date?
            var lastFailureAt: Date?
            var lastFailureMessage: String?
        }

        func run() async throws {
            let context = try global.context()
            let (account, target) = try target.resolve(in: context.store)
            let dialect = ProviderRegistry.descriptor(for: account.provider)?.webhookDialect
            let rows = try context.store.webhookSubscriptions(repositoryID: target.repository.id ?? 0).map {
                Row(id: $0.id ?? 0, remoteId: $0.remoteID, url: $0.url, events: $0.events, installedBySlipway: $0.installedBySlipway,
                    state: $0.state.rawValue, healthy: $0.state == .delivering,
                    proof: ($0.signsDeliveries ? WebhookProof.signature : dialect?.secretProof ?? .signature).rawValue, lastDeliveryAt: $0.lastDeliveryAt, lastFailureAt: $0.lastFailureAt, lastFailureMessage: $0.lastFailureMessage)
            }
            if output.json { return try printJSON(rows) }
            if rows.isEmpty {
                Terminal.error("no webhooks on \(target.path); install one with 'slipway webhooks install \(target.path)'")
                return
            }
            var table = TextTable("ID", "URL", "EVENTS", "PROOF", "HEALTH", "LAST DELIVERY", "LAST FAILURE")
            for r in rows {
                table.add(String(r.id), r.url, r.events.joined(separator: ","), r.proof, r.state,
                          RelativeTime.text(r.lastDeliveryAt) ?? "-",
                          r.lastFailureAt.map { "\(RelativeTime.text($0) ?? ""): \(r.lastFailureMessage ?? "")" } ?? "-")
            }
            Terminal.out(table.render())
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove the webhooks Slipway installed on a repository.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: Target
        @Option(help: "Remove only the hook calling this URL.") var url: String?
        @OptionGroup var confirmation: ConfirmFlag

        func run() async throws {
            let context = try global.context()
            try context.refuseIfReadonly("webhooks remove")
            let (account, target) = try target.resolve(in: context.store)
            let mine = try context.store.webhookSubscriptions(repositoryID: target.repository.id!).filter { $0.installedBySlipway && (url == nil || $0.url == url) }
            guard !mine.isEmpty else {
                Terminal.error("Slipway installed no webhook on \(target.path)\(url.map { " calling \($0)" } ?? ""); nothing to remove")
                return
            }
            try confirmation.confirm("Remove \(mine.count == 1 ? "the webhook" : "\(mine.count) webhooks") Slipway installed on \(target.path)?",
                                     refused: "the webhook on \(target.path) stays")
            let removed = try await WebhooksCommand.installer(context, account: account).remove(target, url: url)
            for subscription in removed {
                Terminal.error("removed the webhook on \(target.path) → \(subscription.url)")
            }
        }
    }
}
