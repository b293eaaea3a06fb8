import Foundation
import GRDB
import Testing
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwaySandbox

/// Links the sandbox's user and returns the account with a provider spending from its budget.
func linked(_ server: SandboxServer, store: Store, home: AccountAndSyncTests.Home, http: HTTPClient) async throws -> (Account, BitbucketProvider) {
    let (account, _) = try await AccountLinker(store: store, keyFile: home.path + "/key", http: http)
        .link(LinkRequest(provider: .bitbucket, apiURL: server.bitbucket.apiURL, webURL: server.bitbucket.webURL, secret: .token(server.service.bitbucket.accessToken)))
    let provider = BitbucketProvider(apiURL: server.bitbucket.apiURL, webURL: server.bitbucket.webURL, credential: .bearer(server.service.bitbucket.accessToken),
                                     http: http, budgetCredential: "account:\(account.id!)")
    return (account, provider)
}

@Suite("Accounts and the mirror, against the sandbox", .timeLimit(.minutes(3)))
struct AccountAndSyncTests {
    final class Home {
        let path = FileManager.default.temporaryDirectory.path + "/slipway-int-" + UUID().uuidString
        init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    func sandbox(_ configure: (inout SandboxOptions) -> Void = { _ in }) async throws -> SandboxServer {
        var options = SandboxOptions()
        options.seed = 31
        options.workspaces = 2
        options.reposPerWorkspace = 3
        options.branchesPerRepo = 4
        configure(&options)
        return try await SandboxServer.start(options: options)
    }

    @Test("scopes are recorded; a token missing a minimum scope links with a warning naming it")
    func scopes() async throws {
        for (scopes, warned) in [(["account", "repository", "webhook"], false), (["repository"], true)] {
            let server = try await sandbox { $0.tokenScopes = scopes }
            let home = Home()
            let store = try Store(path: home.path + "/slipway.db")
            let linker = AccountLinker(store: store, keyFile: home.path + "/key", http: HTTPClient(transport: CurlTransport()))
            let (account, warnings) = try await linker.link(LinkRequest(provider: .bitbucket, apiURL: server.bitbucket.apiURL, webURL: server.bitbucket.webURL,
                                                                         secret: .token(server.service.bitbucket.accessToken)))
            #expect(account.scopes == scopes)
            #expect(warnings.isEmpty != warned)
            if warned { #expect(warnings.first?.contains("account, webhook") == true) }
            await server.stop()
        }
    }

    @Test("the user's primary, confirmed e-mail is asked at link time; a token without the email scope links with none")
    func primaryEmail() async throws {
        for (scopes, expected) in [(["account", "email", "repository", "webhook"], true), (["account", "repository", "webhook"], false)] {
            let server = try await sandbox { $0.tokenScopes = scopes }
            let home = Home()
            let store = try Store(path: home.path + "/slipway.db")
            let linker = AccountLinker(store: store, keyFile: home.path + "/key", http: HTTPClient(transport: CurlTransport()))
            let (account, warnings) = try await linker.link(LinkRequest(provider: .bitbucket, apiURL: server.bitbucket.apiURL, webURL: server.bitbucket.webURL,
                                                                         secret: .token(server.service.bitbucket.accessToken)))
            #expect(warnings.isEmpty)
            #expect(account.email == (expected ? server.service.email : nil))
            #expect(try store.account(for: .bitbucket)?.email == account.email)
            await server.stop()
        }
        // An API token (Basic, e-mail and token): the login e-mail stays apart from the address.
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = Home()
        let store = try Store(path: home.path + "/slipway.db")
        let linker = AccountLinker(store: store, keyFile: home.path + "/key", http: HTTPClient(transport: CurlTransport()))
        let (account, _) = try await linker.link(LinkRequest(provider: .bitbucket, apiURL: server.bitbucket.apiURL, webURL: server.bitbucket.webURL,
                                                              secret: .apiToken(email: server.service.email, token: server.service.bitbucket.apiToken)))
        #expect(account.loginEmail == server.service.email)
        #expect(account.email == server.service.email)
    }

    @Test("the token is sealed: the database holds only ciphertext bound to the account")
    func sealed() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = Home()
        let store = try Store(path: home.path + "/slipway.db")
        let linker = AccountLinker(store: store, keyFile: home.path + "/key", http: HTTPClient(transport: CurlTransport()))
        let (account, _) = try await linker.link(LinkRequest(provider: .bitbucket, apiURL: server.bitbucket.apiURL, webURL: server.bitbucket.webURL,
                                                              secret: .token(server.service.bitbucket.accessToken)))
        let cipher = try store.read { db in try Data.fetchOne(db, sql: "SELECT token_ciphertext FROM accounts") }
        let sealed = try #require(cipher)
        #expect(sealed.range(of: Data(server.service.bitbucket.accessToken.utf8)) == nil)
        #expect(try AccountLinker.credential(for: account, store: store, keyFile: home.path + "/key") == .bearer(server.service.bitbucket.accessToken))
        // A missing key is a clear error and the ciphertext stays.
        try FileManager.default.moveItem(atPath: home.path + "/key", toPath: home.path + "/key.moved")
        #expect(throws: VaultError.self) { try AccountLinker.credential(for: account, store: store, keyFile: home.path + "/key") }
        #expect(try store.read { db in try Data.fetchOne(db, sql: "SELECT token_ciphertext FROM accounts") } == sealed)
    }

    @Test("sync mirrors, then reports moves, creations, deletions and removed repositories as changes with events")
    func changes() async throws {
        let server = try await sandbox()
        defer { Task { await server.stop() } }
        let home = Home()
        let store = try Store(path: home.path + "/slipway.db")
        let (account, provider) = try await linked(server, store: store, home: home, http: HTTPClient(transport: CurlTransport()))
        let sync = MirrorSync(store: store, account: account, provider: provider)
        let first = try await sync.run()
        #expect(first.changes.count == 6)
        #expect(first.changes.allSatisfy { $0.kind == .repositoryAdded })
        #expect(first.branches == server.service.summary.branches)
        #expect(try await sync.run().changes.isEmpty)

        let pushes = server.service.push(count: 20)
        let second = try await sync.run()
        #expect(!second.changes.isEmpty)
        for change in second.changes {
            #expect([.headMoved, .branchCreated, .branchDeleted].contains(change.kind))
        }
        // Every branch now matches the sandbox.
        for ws in server.service.workspaceSlugs() {
            for slug in server.service.repositorySlugs(workspace: ws) {
                let repo = try #require(try store.repository(at: MirrorPath(provider: .bitbucket, workspace: ws, repository: slug)))
                let stored = Dictionary(uniqueKeysWithValues: try store.branches(repositoryID: repo.id!).map { ($0.name, $0.headHash) })
                #expect(stored == server.service.branches(workspace: ws, repository: slug))
            }
        }
        let events = try store.read { db in try ChangeEvent.order(Column("id")).fetchAll(db) }
        #expect(events.count == first.changes.count + second.changes.count)
        #expect(pushes.count == 20)
    }

    @Test("a repository deleted between listing and branches is removed, not reported as an error")
    func deletedMidSync() async throws {
        let server = try await sandbox { $0.faults = ["404@/2.0/repositories/*/web/refs/branches*"] }
        defer { Task { await server.stop() } }
        let home = Home()
        let store = try Store(path: home.path + "/slipway.db")
        let (account, provider) = try await linked(server, store: store, home: home, http: HTTPClient(transport: CurlTransport()))
        let report = try await MirrorSync(store: store, account: account, provider: provider).run()
        #expect(report.errors.isEmpty)
        for ws in server.service.workspaceSlugs() {
            #expect(try store.repository(at: MirrorPath(provider: .bitbucket, workspace: ws, repository: "web")) == nil)
        }
    }

    @Test("503 bursts and resets are retried; the cycle completes")
    func transientFaults() async throws {
        let server = try await sandbox { $0.faults = ["503x3", "reset/7"] }
        defer { Task { await server.stop() } }
        let home = Home()
        let store = try Store(path: home.path + "/slipway.db")
        var configuration = HTTPClient.Configuration()
        configuration.backoff = Backoff(base: 0.01, cap: 0.05, maxAttempts: 6)
        let (account, provider) = try await linked(server, store: store, home: home,
                                                   http: HTTPClient(transport: CurlTransport(), configuration: configuration))
        let report = try await MirrorSync(store: store, account: account, provider: provider).run()
        #expect(report.errors.isEmpty, "\(report.errors)")
        #expect(report.branches == server.service.summary.branches)
    }
}

@Suite("Commits on demand", .timeLimit(.minutes(3)))
struct CommitFetcherTests {
    @Test("opening a branch fetches its history once, then only what is new (exclude= the stored head)")
    func onDemand() async throws {
        var options = SandboxOptions()
        options.seed = 41
        options.workspaces = 1
        options.reposPerWorkspace = 1
        let server = try await SandboxServer.start(options: options)
        defer { Task { await server.stop() } }
        let home = AccountAndSyncTests.Home()
        let store = try Store(path: home.path + "/slipway.db")
        let counter = CountingTransport(CurlTransport())
        let (account, provider) = try await linked(server, store: store, home: home, http: HTTPClient(transport: counter))
        let sync = MirrorSync(store: store, account: account, provider: provider)
        _ = try await sync.run()
        let ws = server.service.workspaceSlugs()[0]
        let slug = server.service.repositorySlugs(workspace: ws)[0]
        let repository = try #require(try store.repository(at: MirrorPath(provider: .bitbucket, workspace: ws, repository: slug)))
        let main = try #require(repository.mainBranch)
        let fetcher = CommitFetcher(store: store, provider: provider)

        let first = try await fetcher.refresh(workspace: ws, repository: repository, branch: try #require(try store.branch(repositoryID: repository.id!, name: main)))
        #expect(first.first?.hash == server.service.branches(workspace: ws, repository: slug)[main])
        // Unchanged head: no request at all.
        let before = counter.total
        _ = try await fetcher.refresh(workspace: ws, repository: repository, branch: try #require(try store.branch(repositoryID: repository.id!, name: main)))
        #expect(counter.total == before)

        // New commits on main: one request brings only them, ahead of the stored ones.
        var pushed = 0
        while pushed < 3 {
            if server.service.push().first?.branch == main { pushed += 1 }
        }
        _ = try await sync.run()
        let branch = try #require(try store.branch(repositoryID: repository.id!, name: main))
        let afterSync = counter.total
        let updated = try await fetcher.refresh(workspace: ws, repository: repository, branch: branch)
        #expect(counter.total == afterSync + 1)
        #expect(updated.first?.hash == branch.headHash)
        #expect(Array(updated.dropFirst(3).prefix(first.count - 3)).map(\.hash) == Array(first.prefix(first.count - 3)).map(\.hash))
    }
}
