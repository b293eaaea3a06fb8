import Foundation
import Logging
import SlipwayCLI
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwayServer

/// The freshness benchmark's webhooks: hooks installed on a share of the repositories through
/// the real installer and adapter, and the sandbox's signed deliveries taken in by the real
/// receiver rules and store handler — on the virtual clock, without sockets.
final class SimulatedWebhooks: @unchecked Sendable {
    /// What the sandbox posted, kept until the benchmark hands it to the receiver.
    final class Inbox: @unchecked Sendable {
        struct Delivery {
            var headers: [String: String]
            var body: Data
            var postedAt: Date
        }

        private let lock = NSLock()
        private var deliveries: [Delivery] = []
        let now: @Sendable () -> Date

        init(now: @escaping @Sendable () -> Date) { self.now = now }

        func post(_ request: HTTPRequest) {
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.lowercased()] = field.value }
            lock.withLock { deliveries.append(Delivery(headers: headers, body: request.body ?? Data(), postedAt: now())) }
        }

        /// The deliveries posted at or before `cutoff`, oldest first.
        func take(postedAtOrBefore cutoff: Date) -> [Delivery] {
            lock.withLock {
                let due = deliveries.filter { $0.postedAt <= cutoff }
                deliveries.removeAll { $0.postedAt <= cutoff }
                return due
            }
        }

        /// The sandbox's delivery client: every POST lands here and is answered 200 at once (the
        /// receiver's own answers are counted when the benchmark hands the delivery over).
        var transport: @Sendable () -> any HTTPTransport {
            { [self] in InboxTransport(inbox: self) }
        }
    }

    struct InboxTransport: HTTPTransport {
        let inbox: Inbox
        func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
            inbox.post(request)
            return HTTPResponse(status: 200, headers: HTTPHeaders(), body: Data(), url: request.url)
        }
    }

    let inbox: Inbox
    let dialect: any WebhookDialect
    let handler: StoreWebhookHandler
    let delay: TimeInterval
    /// The receiver's answers by status.
    private(set) var answers: [Int: Int] = [:]

    init(inbox: Inbox, dialect: any WebhookDialect, store: Store, keyFile: String, delay: TimeInterval, now: @escaping @Sendable () -> Date) {
        self.inbox = inbox
        self.dialect = dialect
        self.delay = delay
        var logger = Logger(label: "slipway.bench.webhooks")
        logger.logLevel = .critical
        handler = StoreWebhookHandler(store: store, keyFile: keyFile, logger: logger, now: now)
    }

    /// Which repositories get a hook: a seeded draw per repository, in name order.
    static func hookedNames(_ names: [String], share: Double, seed: UInt64) -> Set<String> {
        let random = SeededRandom(seed: seed &+ 0x686f_6f6b)
        return Set(names.filter { _ in random.nextUnit() < share })
    }

    /// Installs Slipway's hook on each of `names` through the adapter, as `webhooks install` does.
    static func install(_ names: Set<String>, store: Store, kind: ProviderKind, provider: any WebhookHosting,
                        keyFile: String, url: String, now: @escaping @Sendable () -> Date) async throws -> (installed: Set<String>, refused: [String: Int]) {
        let vault = try Vault.open(keyFile: keyFile, create: true)
        let installer = WebhookInstaller(store: store, provider: provider, openVault: { vault }, now: now)
        var installed: Set<String> = []
        var refused: [String: Int] = [:]
        for name in names.sorted() {
            let path = Freshness.mirrorPath(name, kind: kind)
            guard let repository = try store.repository(at: path) else { continue }
            do {
                _ = try await installer.install(.init(repository: repository, workspaceSlug: path.workspace!, path: path.description), url: url)
                installed.insert(name)
            } catch {
                // Where the account is no admin the provider refuses, as it would for a user.
                refused[String("\(error)".prefix { $0 != ":" }), default: 0] += 1
            }
        }
        return (installed, refused)
    }

    /// Hands the receiver every delivery whose `delay` has passed (a hook's `ping` included).
    func deliver(now: Date) async {
        for delivery in inbox.take(postedAtOrBefore: now.addingTimeInterval(-delay)) {
            let outcome = await WebhookReceiver.handle(dialect: dialect, headers: delivery.headers, body: delivery.body, handler: handler, now: now)
            answers[outcome.status, default: 0] += 1
        }
    }
}
