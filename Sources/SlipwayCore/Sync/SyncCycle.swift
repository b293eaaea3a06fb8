import Foundation
import SlipwayHTTP
import SlipwayProviders

/// One full sync of every linked account — what `sync --once` does itself, or asks a running
/// engine to do. An account that needs relinking, or whose credentials are refused, stops; the
/// others carry on; nothing already mirrored is lost.
public enum SyncCycle {
    public struct Outcome: Sendable {
        public var report: SyncReport
        /// The first failure that needs the user (relink, refused credentials), as one line.
        public var fatal: String?
        /// Whether any account ended in an error (a rate-limit stop is not one).
        public var anyAccountFailed: Bool
    }

    public static func run(store: Store, accounts: [Account], lane: RequestLane, deadline: Date?,
                           concurrency: @Sendable (Account) -> Int,
                           makeProvider: (Account) throws -> any GitProvider,
                           progress: @escaping @Sendable (String) -> Void = { _ in }) async -> Outcome {
        var outcome = Outcome(report: SyncReport(), fatal: nil, anyAccountFailed: false)
        func fail(_ account: Account, _ message: String, fatal: String?) {
            outcome.report.errors.append(.init(path: account.provider.rawValue, message: message))
            outcome.anyAccountFailed = true
            if let fatal, outcome.fatal == nil { outcome.fatal = fatal }
        }
        // A deploy target (App Platform) has no mirror to sync.
        for account in accounts where account.provider.accountKind == .git {
            guard account.status != .needsRelink else {
                // Every run says so (exit 1), not only the one that found out.
                let message = "needs relinking; run 'slipway link \(account.provider.rawValue) --relink' the way you linked it"
                fail(account, message, fatal: "\(account.provider.rawValue) \(message)")
                continue
            }
            do {
                let provider = try makeProvider(account)
                let report = try await RequestContext.run(lane: lane, deadline: deadline) {
                    try await MirrorSync(store: store, account: account, provider: provider, concurrency: concurrency(account), progress: progress).run()
                }
                outcome.report.merge(report)
                // Workspaces or repositories that could not be read (a 5xx storm outlasting the
                // retries): the cycle did not complete.
                if !report.errors.isEmpty { outcome.anyAccountFailed = true }
            } catch let MirrorSync.Stop.rateLimited(resumeAt, partial) {
                outcome.report.merge(partial)
                outcome.report.resumeAt = resumeAt
            } catch let error as HTTPError {
                let refused = "\(account.provider.rawValue) refused the stored credentials; run 'slipway link \(account.provider.rawValue) --relink' with a valid one"
                if case .unauthorized = error { fail(account, error.description, fatal: refused) } else { fail(account, error.description, fatal: nil) }
            } catch {
                // Relinking needed, a missing or unreadable secret: this account stops.
                fail(account, "\(error)", fatal: "\(error)")
            }
        }
        return outcome
    }
}
