import CSpawn
import Foundation
import GRDB
import Logging
import Testing
@testable import SlipwayCLI
import SlipwayCore
import SlipwayProviders
import SlipwaySandbox
import SlipwayServer
import SlipwayTestSupport

/// Issue 16 end to end: one repository's proof acts on that repository only, plain http only
/// on loopback addresses, nothing readable by others, secrets typed at a terminal not echoed,
/// and a vault that says what is wrong.
@Suite("Security", .timeLimit(.minutes(3)))
struct SecurityTests {
    // MARK: A hook secret proves only its own repository

    /// Repositories A and B with a hook each, C with none, in a real store with a real vault.
    struct Mirror {
        let home = TemporaryHome()
        let store: Store
        let handler: StoreWebhookHandler
        var ids: [String: Int64] = [:]
        let head = String(repeating: "a", count: 40)

        init() throws {
            try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
            store = try Store(path: home.path + "/slipway.db")
            let vault = try Vault.open(keyFile: home.path + "/key", create: true)
            let now = Date()
            let head = self.head
            let made = try store.write { db -> [String: Int64] in
                var account = Account(provider: .bitbucket, username: "ada", apiURL: "https://api.bitbucket.org/2.0", webURL: "https://bitbucket.org",
                                      auth: .token, createdAt: now)
                try account.insert(db)
                var workspace = Workspace(accountID: account.id!, slug: "acme", updatedAt: now)
                try workspace.insert(db)
                var ids: [String: Int64] = [:]
                for slug in ["a", "b", "c"] {
                    var repository = Repository(workspaceID: workspace.id!, slug: slug, name: slug, fullName: "acme/\(slug)", cloneURL: nil, updatedAt: now)
                    repository.remoteID = "{\(slug)}"
                    try repository.insert(db)
                    var branch = Branch(repositoryID: repository.id!, name: "main", headHash: head, updatedAt: now)
                    try branch.insert(db)
                    ids[slug] = repository.id!
                }
                return ids
            }
            ids = made
            try store.addWebhookSubscription(repositoryID: made["a"]!, remoteID: "{hook-a}", url: "https://hooks.example/a", events: ["repo:push"], secret: "secret-of-a", vault: vault, now: now)
            try store.addWebhookSubscription(repositoryID: made["b"]!, remoteID: "{hook-b}", url: "https://hooks.example/b", events: ["repo:push"], secret: "secret-of-b", vault: vault, now: now)
            handler = StoreWebhookHandler(store: store, keyFile: home.path + "/key", logger: .init(label: "test") { _ in SwiftLogNoOpLogHandler() })
        }

        func heads() throws -> [String: String] {
            try store.read { db in
                Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT r.slug, b.head_hash FROM branches b JOIN repositories r ON r.id = b.repository_id")
                    .map { ($0["slug"] as String, $0["head_hash"] as String) })
            }
        }

        /// Whether any hook's health was touched (a failure or a delivery recorded).
        func healthTouched() throws -> Bool {
            try store.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_subscriptions WHERE last_failure_at IS NOT NULL OR last_delivery_at IS NOT NULL")
            } != 0
        }
    }

    static func payload(name: String, uuid: String?, to hash: String) -> Data {
        let repository: [String: Any] = ["full_name": name, "type": "repository"].merging(uuid.map { ["uuid": $0] } ?? [:]) { $1 }
        let commit: [String: Any] = ["type": "commit", "hash": hash, "date": "2026-12-01T10:00:00+00:00", "message": "pushed\n",
                                     "author": ["raw": "Mallory <m@example.com>"]]
        let change: [String: Any] = ["new": ["type": "branch", "name": "main", "target": commit],
                                     "old": ["type": "branch", "name": "main", "target": ["type": "commit", "hash": String(repeating: "a", count: 40)]],
                                     "created": false, "closed": false, "forced": false, "truncated": false]
        return try! JSONSerialization.data(withJSONObject: ["repository": repository, "push": ["changes": [change]]])
    }

    static func deliver(_ body: Data, secret: String, handler: any WebhookHandling) async -> WebhookReceiver.Outcome {
        await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: ["x-event-key": "repo:push", "x-request-uuid": UUID().uuidString,
                                               "x-hub-signature": WebhookSignature.header(body: body, secret: secret)], body: body, handler: handler)
    }

    @Test("A's secret with B's name, with B's id, with both, an unhooked C, a deleted repository: refused, and nothing changes, not even health")
    func everyMix() async throws {
        let mirror = try Mirror()
        let moved = String(repeating: "f", count: 40)
        let cases: [(name: String, uuid: String?, status: Int)] = [
            ("acme/b", "{a}", 400),        // B's name, A's id
            ("acme/a", "{b}", 400),        // A's name, B's id
            ("acme/b", "{b}", 401),        // both B's: verified against B's hook, and A's secret is not it
            ("acme/b", nil, 401),          // B by name alone
            ("acme/c", "{c}", 401),        // C has no hook of ours
            ("acme/c", "{a}", 400),
            ("acme/gone", "{gone}", 401),  // not (or no longer) in the mirror
            ("acme/gone", "{a}", 400),
        ]
        for item in cases {
            let outcome = await Self.deliver(Self.payload(name: item.name, uuid: item.uuid, to: moved), secret: "secret-of-a", handler: mirror.handler)
            #expect(outcome.status == item.status, "\(item.name) \(item.uuid ?? "-"): \(outcome.text)")
        }
        #expect(try mirror.heads().values.allSatisfy { $0 == mirror.head }, "a refused delivery moved a head")
        #expect(try !mirror.healthTouched(), "a refused delivery touched a hook's health")
        #expect(try mirror.store.read { db in try EngineCommand.fetchCount(db) } == 0)
        #expect(try mirror.store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM webhook_deliveries") } == 0)

        // Junk from anyone changes nothing either.
        let junk = await WebhookReceiver.handle(dialect: BitbucketWebhookDialect(), headers: ["x-event-key": "repo:push", "x-request-uuid": "x", "x-hub-signature": "sha256=00"],
                                                body: Self.payload(name: "acme/a", uuid: "{a}", to: moved), handler: mirror.handler)
        #expect(junk.status == 401)
        #expect(try !mirror.healthTouched())

        // A's own delivery, named both ways, moves A and only A.
        let good = await Self.deliver(Self.payload(name: "acme/a", uuid: "{a}", to: moved), secret: "secret-of-a", handler: mirror.handler)
        #expect(good.status == 200, "\(good.text)")
        #expect(try mirror.heads() == ["a": moved, "b": mirror.head, "c": mirror.head])
        let proved = try mirror.store.read { db in try Int64.fetchOne(db, sql: "SELECT subscription_id FROM webhook_deliveries") }
        let hookA = try mirror.store.webhookSubscriptions(repositoryID: mirror.ids["a"]!).first?.id
        #expect(proved == hookA, "the delivery is credited to the hook that proved it")
    }

    @Test("two mirrored repositories sharing a name (a stale row) are never guessed between")
    func ambiguous() throws {
        let mirror = try Mirror()
        try mirror.store.write { db in try db.execute(sql: "UPDATE repositories SET full_name = 'acme/a' WHERE slug = 'c'") }
        #expect(try mirror.store.webhookRepository(provider: .bitbucket, fullName: "acme/a", uuid: nil) == .conflicting("acme/a and its id name different repositories"))
        // And a name of the other provider's mirror is not this route's.
        #expect(try mirror.store.webhookRepository(provider: .github, fullName: "acme/b", uuid: "{b}") == WebhookRepositoryResolution.none)
    }

    // MARK: Loopback is an address

    @Test("link and webhook URLs: http only for loopback addresses, never for names that start with 127.")
    func loopbackNames() async throws {
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        for url in ["http://127.evil.test/2.0", "http://127.0.0.1.nip.io:7990/2.0"] {
            let linked = try await runner.runAsync(["link", "bitbucket", "--api-url", url, "--token-file", "-"], stdin: "t\n")
            #expect(linked.status == 2, "\(url): \(linked.stderr)")
            #expect(linked.stderr.contains("--api-url must use https"), "\(linked.stderr)")
        }
        #expect(throws: WebhookTarget.Failure.self) {
            try WebhookTarget.url(override: "http://127.0.0.1.nip.io:8787", publicURL: "", listen: "127.0.0.1:8787", providerAPI: "http://127.0.0.1:1/2.0", route: "/webhooks/bitbucket")
        }
        #expect(try WebhookTarget.url(override: "http://[::1]:8787", publicURL: "", listen: "", providerAPI: "", route: "/webhooks/bitbucket") == "http://[::1]:8787/webhooks/bitbucket")
    }

    // MARK: Nothing readable by others

    @Test("under a caller's umask of 022 every file Slipway writes is private: database, -wal, -shm, key, log")
    func privateFiles() async throws {
        let server = try await smallSandbox(seed: 161, repos: 1)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        var runner = BinaryRunner(home: home.path)
        runner.umask = 0o022
        try await runner.mirror(server)
        let files = try FileManager.default.subpathsOfDirectory(atPath: home.path).map { home.path + "/" + $0 }
        #expect(files.contains(home.path + "/slipway.db-wal") || files.contains(home.path + "/slipway.db"))
        for file in files {
            let mode = slw_file_mode(file, 0)
            guard mode >= 0, mode & Int(S_IFMT) != Int(S_IFLNK) else { continue }
            #expect(mode & 0o077 == 0, "\(file) is \(String(mode & 0o777, radix: 8))")
        }
    }

    @Test("build and run steps get a shell's usual umask 022")
    func stepsGetUsualUmask() async throws {
        let tmp = TemporaryHome()
        try FileManager.default.createDirectory(atPath: tmp.path, withIntermediateDirectories: true)
        final class Output: @unchecked Sendable { var text = ""; let lock = NSLock() }
        let output = Output()
        let outcome = try await StepProcess.run(["/bin/sh", "-c", "umask"], environment: ["PATH": "/usr/bin:/bin"], directory: tmp.path) { _, text in
            output.lock.withLock { output.text += text }
        }
        #expect(outcome.succeeded)
        #expect(output.lock.withLock { output.text }.trimmingCharacters(in: .whitespacesAndNewlines) == "0022")
    }

    // MARK: Nothing echoed

    @Test("--token-file - at a terminal asks for the token and does not echo it")
    func tokenNotEchoed() async throws {
        let server = try await smallSandbox(seed: 162, repos: 1)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let tmux = try TmuxSession(width: 160, height: 20, environment: ["SLIPWAY_HOME": home.path, "HOME": home.path, "LANG": "C.UTF-8"])
        try tmux.type("'\(BinaryRunner.binary)' link bitbucket --api-url \(server.bitbucket.apiURL) --web-url \(server.bitbucket.webURL) --token-file -")
        let (asked, prompt) = try await tmux.waitFor("Paste the token, then Enter")
        #expect(asked, "\(prompt)")
        try tmux.type(server.service.bitbucket.accessToken)
        let (linked, screen) = try await tmux.waitFor("linked bitbucket as @")
        #expect(linked, "\(screen)")
        #expect(!screen.contains(server.service.bitbucket.accessToken), "the token was echoed:\n\(screen)")
    }

    // MARK: The vault says what is wrong

    @Test("doctor proves the key opens the stored secrets: a deleted or replaced key fails with what to do")
    func doctorOpensSecrets() async throws {
        let server = try await smallSandbox(seed: 163, repos: 1)
        defer { Task { await server.stop() } }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path)
        try await runner.mirror(server)
        func vaultCheck() async throws -> [String: Any] {
            let doctor = try await runner.runAsync(["doctor", "--json"])
            let report = try #require(try JSONSerialization.jsonObject(with: Data(doctor.stdout.utf8)) as? [String: Any], "\(doctor.stdout)")
            let checks = try #require(report["checks"] as? [[String: Any]])
            return try #require(checks.first { $0["name"] as? String == "vault key" })
        }
        let good = try await vaultCheck()
        #expect(good["status"] as? String == "ok")
        #expect((good["detail"] as? String ?? "").contains("opens 1 stored secret"), "\(good)")

        let key = home.path + "/key"
        let original = try Data(contentsOf: URL(fileURLWithPath: key))
        try FileManager.default.removeItem(atPath: key)
        let missing = try await vaultCheck()
        #expect(missing["status"] as? String == "fail")
        #expect((missing["detail"] as? String ?? "").contains("missing while 1 secret is stored"), "\(missing)")

        FileManager.default.createFile(atPath: key, contents: Data(repeating: 7, count: 32), attributes: [.posixPermissions: 0o600])
        let wrong = try await vaultCheck()
        #expect(wrong["status"] as? String == "fail")
        #expect((wrong["detail"] as? String ?? "").contains("does not open 1 of 1 stored secrets (bitbucket account token)"), "\(wrong)")

        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.createDirectory(atPath: key, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let directory = try await vaultCheck()
        #expect((directory["detail"] as? String ?? "").contains("it is a directory"), "\(directory)")
        #expect(!(directory["detail"] as? String ?? "").contains("permission denied"))
        try FileManager.default.removeItem(atPath: key)
        FileManager.default.createFile(atPath: key, contents: original, attributes: [.posixPermissions: 0o600])
        #expect(try await vaultCheck()["status"] as? String == "ok")
    }

    @Test("the vault names the failure: no descriptors left is not 'permission denied'")
    func vaultReasons() {
        #expect(Vault.reason(EMFILE).contains("no file descriptors left"))
        #expect(Vault.reason(ENFILE).contains("no file descriptors left"))
        #expect(Vault.reason(EACCES).contains("permission denied"))
    }
}

extension SecurityTests {
    @Test("an http_proxy in the environment never sees a loopback request (it would read the token in clear)")
    func noProxyForLoopback() async throws {
        let server = try await smallSandbox(seed: 164, repos: 1)
        defer { Task { await server.stop() } }
        let proxy = try LoopbackServer { _, connection in connection.respond(502, text: "proxied") }
        defer { proxy.stop() }
        let home = TemporaryHome()
        let runner = BinaryRunner(home: home.path, extra: ["http_proxy": proxy.baseURL, "HTTP_PROXY": proxy.baseURL, "ALL_PROXY": proxy.baseURL])
        let linked = try await runner.link(server)
        #expect(linked.status == 0, "\(linked.stderr)")
        #expect(proxy.receivedRequests.isEmpty, "the proxy saw \(proxy.receivedRequests.map(\.headers))")
    }
}
