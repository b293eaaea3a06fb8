import Foundation
import SlipwayHTTP
import SlipwayProviders

/// One full sync of an account, as DESIGN.md's step 0 costs it: per workspace one workspace call
/// and the repository pages (plus the `role=admin` pages), per repository one `refs/branches` page
/// per 100 branches — nothing else. Each repository is written whole, a few to a transaction.
public struct MirrorSync: Sendable {
    public let store: Store
    public let account: Account
    public let provider: any GitProvider
    public let concurrency: Int
    public let now: @Sendable () -> Date
    public let progress: @Sendable (String) -> Void

    public init(store: Store, account: Account, provider: any GitProvider, concurrency: Int = 4,
                now: @escaping @Sendable () -> Date = { Date() }, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.store = store
        self.account = account
        self.provider = provider
        self.concurrency = max(1, concurrency)
        self.now = now
        self.progress = progress
    }

    public enum Stop: Error {
        /// A rate-limit pause would outlast the deadline; what was stored is kept.
        case rateLimited(resumeAt: Date, partial: SyncReport)
    }

    /// Runs the cycle. Per-repository failures are collected as errors; a rate limit past the
    /// deadline stops the cycle with `Stop.rateLimited`; losing the credentials throws.
    public func run() async throws -> SyncReport {
        guard let accountID = account.id else { return SyncReport() }
        let prefix = account.provider.rawValue
        var report = SyncReport()
        do {
            let workspaces = try await provider.workspaces()
            report.workspaces = workspaces.count
            // Where each workspace is a host with a budget of its own (public Git), one host's
            // pause is that host's error; the other hosts are mirrored all the same.
            let perHost = ProviderRegistry.descriptor(for: account.provider)?.budgetPerWorkspace == true
            for (index, remote) in workspaces.enumerated() {
                progress("\(remote.slug) (\(index + 1)/\(workspaces.count) workspaces)")
                do {
                    try await sync(workspace: remote, accountID: accountID, prefix: prefix, into: &report)
                } catch let error as HTTPError where perHost {
                    guard case .rateLimited = error else { throw error }
                    report.errors.append(.init(path: MirrorPath.child(prefix, remote.slug), message: error.description))
                }
            }
            report.changes += try store.removeWorkspaces(accountID: accountID, provider: account.provider,
                                                         keeping: Set(workspaces.map(\.slug)), now: now())
            try store.recordSync(accountID: accountID, success: report.errors.isEmpty, error: report.errors.first?.message, now: now())
        } catch let HTTPError.rateLimited(_, resumeAt) {
            try? store.recordSync(accountID: accountID, success: false, error: "rate limited until \(JSONOutput.timestamp(resumeAt))", now: now())
            report.resumeAt = resumeAt
            throw Stop.rateLimited(resumeAt: resumeAt, partial: report)
        }
        return report
    }

    private func sync(workspace remote: ProviderWorkspace, accountID: Int64, prefix: String, into report: inout SyncReport) async throws {
        var named = remote
        // Names and admin rights where the adapter has them to give.
        let details = provider as? any WorkspaceDetails
        if named.name == nil, let details {
            do { named.name = try await details.workspace(remote.slug).name } catch let error as HTTPError where !Self.isFatal(error) {
                report.errors.append(.init(path: MirrorPath.child(prefix, remote.slug), message: error.description))
            }
        }
        let workspace = try store.upsertWorkspace(accountID: accountID, named, now: now())
        let wsPath = MirrorPath.child(prefix, remote.slug)
        let repositories: [ProviderRepository]
        let admin: Set<String>
        do {
            repositories = try await provider.repositories(in: remote.slug)
            admin = try await details?.adminRepositorySlugs(in: remote.slug) ?? []
        } catch let error as HTTPError where !Self.isFatal(error) {
            report.errors.append(.init(path: wsPath, message: error.description))
            return
        }
        // Branch pages for several repositories at once, within the credential's in-flight cap.
        let results = try await withThrowingTaskGroup(of: (ProviderRepository, Result<[ProviderBranch], HTTPError>).self) { group in
            var iterator = repositories.makeIterator()
            var collected: [(ProviderRepository, Result<[ProviderBranch], HTTPError>)] = []
            func addNext() -> Bool {
                guard let repository = iterator.next() else { return false }
                group.addTask {
                    do {
                        return (repository, .success(try await provider.branches(workspace: remote.slug, repository: repository.slug)))
                    } catch let error as HTTPError {
                        if Self.isFatal(error) { throw error }
                        return (repository, .failure(error))
                    }
                }
                return true
            }
            // Repositories are written as their branches arrive, a few to a transaction: each
            // commit costs its WAL pages, and a batch shares them.
            var pending: [Store.RepositoryListing] = []
            func flush() throws {
                report.changes += try store.applyRepositories(pending, workspaceID: workspace.id!, now: now())
                report.repositories += pending.count
                report.branches += pending.reduce(0) { $0 + $1.branches.count }
                if !pending.isEmpty { progress("\(wsPath): \(report.repositories) repositories, \(report.branches) branches") }
                pending.removeAll(keepingCapacity: true)
            }
            for _ in 0..<concurrency where addNext() {}
            do {
                while let result = try await group.next() {
                    collected.append(result)
                    let (repository, outcome) = result
                    if case let .success(branches) = outcome {
                        pending.append(.init(path: MirrorPath.child(wsPath, repository.slug), remote: repository,
                                             isAdmin: admin.contains(repository.slug), branches: branches))
                        if pending.count >= Self.repositoriesPerTransaction { try flush() }
                    }
                    _ = addNext()
                }
            } catch {
                // A rate limit or lost credentials ends the cycle: what already arrived is kept.
                try? flush()
                throw error
            }
            try flush()
            return collected
        }
        var listed = Set(repositories.map(\.slug))
        for (repository, outcome) in results {
            guard case let .failure(error) = outcome else { continue }
            if case .notFound = error {
                // Deleted between the listing and its branches: gone, not an error.
                listed.remove(repository.slug)
            } else {
                report.errors.append(.init(path: MirrorPath.child(wsPath, repository.slug), message: error.description))
            }
        }
        report.changes += try store.removeRepositories(workspaceID: workspace.id!, pathPrefix: wsPath, keeping: listed, now: now())
    }

    /// How many repositories an initial sync writes in one transaction.
    static let repositoriesPerTransaction = 16

    /// Errors that end the whole cycle rather than one repository.
    static func isFatal(_ error: HTTPError) -> Bool {
        switch error {
        case .unauthorized, .rateLimited: true
        default: false
        }
    }
}
