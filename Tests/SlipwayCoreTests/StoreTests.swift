import Foundation
import GRDB
import Testing
@testable import SlipwayCore
import SlipwayProviders
import SlipwayHTTP

@Suite("Store")
struct StoreTests {
    let tmp = TemporaryDirectory()
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func open() throws -> Store { try Store(path: tmp.file("slipway.db")) }

    @Test("migrating from empty applies every migration (v1 tables, v2 columns, v3 step processes) in WAL")
    func migrateFromEmpty() throws {
        let store = try open()
        #expect(try store.schemaVersion() == Schema.currentVersion)
        #expect(try store.journalMode() == "wal")
        #expect(try store.integrityCheck() == "ok")
        #expect(Set(try store.tableNames()) == [
            "accounts", "workspaces", "repositories", "branches", "commits", "branch_commits", "apps", "deployments",
            "deployment_steps", "deployment_log_chunks", "webhook_subscriptions", "webhook_deliveries", "sync_states",
            "budget_states", "commands", "change_events", "change_cursors", "step_processes", "public_repositories", "sweep_queue", "sweep_lane_sizes",
        ])
        #expect(mode(of: store.path) == 0o600)
        let foreignKeys = try store.read { db in try Bool.fetchOne(db, sql: "PRAGMA foreign_keys") }
        #expect(foreignKeys == true)
    }

    @Test("opening twice is idempotent and keeps data")
    func reopen() throws {
        do {
            let store = try open()
            _ = try insertAccount(store)
        }
        let again = try open()
        #expect(try again.accounts().count == 1)
        #expect(try again.schemaVersion() == Schema.currentVersion)
    }

    @Test("a v1 database is upgraded in place, keeping its data")
    func upgradeFromV1() throws {
        let path = tmp.file("old.db")
        do {
            // Build a v1 database as the first release left it.
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(queue, upTo: "v1")
            try queue.write { db in
                try db.execute(sql: "INSERT INTO accounts (provider, username, api_url, web_url, auth, created_at, updated_at) VALUES ('bitbucket', 'ada', 'a', 'w', 'token', '2026-01-01', '2026-01-01')")
            }
            #expect(try queue.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") } == 1)
        }
        let store = try Store(path: path)
        #expect(try store.schemaVersion() == Schema.currentVersion)
        let account = try #require(try store.account(for: .bitbucket))
        #expect(account.username == "ada")
        #expect(account.tokenRefreshAt == nil)
    }

    @Test("v4 rebuilds budgets with a per-minute window and a GraphQL kind, keeping every stored bucket")
    func upgradeFromV3() async throws {
        let path = tmp.file("v3.db")
        do {
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(queue, upTo: "v3")
            try await queue.write { db in
                try db.execute(sql: """
                    INSERT INTO budget_states (host, credential, kind, capacity, tokens, refill_per_second, refilled_at, paused_until,
                                               consecutive_rate_limits, header_limit, updated_at)
                    VALUES ('api.bitbucket.org', 'account:1', 'rest', 800, 612.5, 0.2, '2026-11-29 12:00:00.000', '2026-11-29 12:05:00.000', 2, 1000,
                            '2026-11-29 12:00:00.000')
                    """)
            }
        }
        let store = try Store(path: path)
        #expect(try store.schemaVersion() == Schema.currentVersion)
        let ledger = StoreBudgetLedger(store: store)
        let kept = try #require(try ledger.all().first)
        #expect(kept.key == BudgetKey(host: "api.bitbucket.org", credential: "account:1", kind: .rest))
        #expect(kept.bucket.tokens == 612.5 && kept.bucket.consecutiveRateLimits == 2 && kept.bucket.headerLimit == 1000 && kept.bucket.pausedUntil != nil)
        #expect(kept.bucket.minute == nil)
        // A GraphQL budget with a minute window round-trips.
        let key = BudgetKey(host: "api.github.com", credential: "account:2", kind: .graphql)
        try await ledger.update(key) { bucket in bucket = TokenBucket(hourlyAllowance: 5000, perMinute: 100, fraction: 1, now: Date()) }
        let stored = try #require(try ledger.all().first { $0.key == key })
        #expect(stored.bucket.minute == TokenBucket.Window(capacity: 100, tokens: 100))
    }

    @Test("v5 migrates a v4 home holding data with nothing lost: e-mails, apps with backend and components, reasons, deliveries per provider")
    func upgradeFromV4() async throws {
        let path = tmp.file("v4.db")
        let t = "'2026-11-30 12:00:00.000'"
        do {
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(queue, upTo: "v4")
            try await queue.write { db in
                try db.execute(sql: """
                    INSERT INTO accounts (id, provider, username, display_name, remote_id, api_url, web_url, auth, scopes, email, token_ciphertext,
                                          created_at, updated_at)
                    VALUES (1, 'bitbucket', 'ada', 'Ada', '{u1}', 'https://api.bitbucket.org/2.0', 'https://bitbucket.org', 'api_token', '["account"]',
                            'ada@example.com', X'0102', \(t), \(t));
                    INSERT INTO workspaces (id, account_id, slug, name, is_admin, access_lost_at, updated_at) VALUES (1, 1, 'acme', 'Acme', 1, \(t), \(t));
                    INSERT INTO repositories (id, workspace_id, slug, name, full_name, updated_at) VALUES (1, 1, 'api', 'api', 'acme/api', \(t));
                    INSERT INTO branches (repository_id, name, head_hash, updated_at) VALUES (1, 'main', '\(String(repeating: "a", count: 40))', \(t));
                    INSERT INTO apps (id, name, repository_id, source_path, branch, run_command, environment, created_at, updated_at)
                    VALUES (1, 'web', 1, 'bitbucket/acme/api', 'main', './run', '{"PORT":"8080"}', \(t), \(t));
                    INSERT INTO deployments (id, app_id, commit_hash, phase, cause, error_message, created_at, updated_at)
                    VALUES (1, 1, '\(String(repeating: "a", count: 40))', 'ERROR', 'app created', 'step build failed: exit status 2', \(t), \(t));
                    INSERT INTO deployment_steps (deployment_id, position, name, status, started_at, finished_at) VALUES (1, 0, 'build', 'failed', \(t), \(t));
                    INSERT INTO webhook_subscriptions (id, repository_id, url, created_at) VALUES (1, 1, 'https://h/webhooks/bitbucket', \(t));
                    INSERT INTO webhook_deliveries (subscription_id, request_id, event_key, outcome, reason, received_at)
                    VALUES (1, 'req-1', 'repo:push', 'accepted', NULL, \(t));
                    INSERT INTO sync_states (account_id, scope, cursor, last_success_at, next_due_at) VALUES (1, 'account', 'c', \(t), \(t));
                    """)
            }
        }
        let store = try Store(path: path)
        #expect(try store.schemaVersion() == Schema.currentVersion)
        let account = try #require(try store.account(for: .bitbucket))
        // The Basic user of an API token keeps its own name; the user's address is asked anew.
        #expect(account.loginEmail == "ada@example.com" && account.email == nil && account.auth == .apiToken && account.username == "ada")
        #expect(try store.sealedSecrets(accountID: 1).accessToken == Data([1, 2]))
        let app = try #require(try store.apps().first)
        #expect(app.backend == .local && app.remoteID == nil && app.environment == ["PORT": "8080"])
        #expect(app.components == [AppComponent(name: "web", source: "bitbucket/acme/api", branch: "main")])
        let deployment = try #require(try store.deployment(id: 1))
        #expect(deployment.reason == "step build failed: exit status 2" && deployment.remoteID == nil && deployment.phase == .error)
        #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deployment_steps WHERE deployment_id = 1") } == 1)
        try store.write { db in
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
            // Delivery ids are unique per provider, not across providers.
            #expect(try String.fetchOne(db, sql: "SELECT provider FROM webhook_deliveries WHERE request_id = 'req-1'") == "bitbucket")
            try db.execute(sql: "INSERT INTO webhook_deliveries (provider, request_id, event_key, outcome, received_at) VALUES ('github', 'req-1', 'push', 'accepted', \(t))")
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO webhook_deliveries (provider, request_id, event_key, outcome, received_at) VALUES ('bitbucket', 'req-1', 'repo:push', 'accepted', \(t))")
            }
            // The new kinds are allowed; the columns nothing read are gone.
            try db.execute(sql: "UPDATE deployments SET phase = 'UNKNOWN' WHERE id = 1")
            try db.execute(sql: "INSERT INTO accounts (provider, username, api_url, web_url, auth, created_at, updated_at) VALUES ('git', '', '', '', 'none', \(t), \(t))")
            try db.execute(sql: "INSERT INTO accounts (provider, username, api_url, web_url, auth, created_at, updated_at) VALUES ('gitlab', 'g', '', '', 'device', \(t), \(t))")
            #expect(try db.columns(in: "sync_states").map(\.name).contains("cursor") == false)
            #expect(try db.columns(in: "workspaces").map(\.name).contains("access_lost_at") == false)
            #expect(try db.columns(in: "webhook_deliveries").map(\.name).contains("reason") == false)
            // An app's name is unique per backend.
            try db.execute(sql: "INSERT INTO apps (name, backend, source_path, branch, run_command, created_at, updated_at) VALUES ('web', 'digitalocean', 'bitbucket/acme/api', 'main', '', \(t), \(t))")
        }
        // Cascades still hold after the rebuilds.
        try store.deleteAccount(provider: .bitbucket)
        #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM workspaces") } == 0)
        #expect(try store.apps().first { $0.backend == .local }?.repositoryID == nil)
    }

    @Test("indexes exist for the dashboard's queries")
    func indexes() throws {
        let store = try open()
        let names = try store.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index'") }
        for expected in ["workspaces_by_name", "repositories_by_name", "repositories_by_recency", "branches_by_recency",
                         "commits_by_recency", "deployments_by_app", "commands_by_status", "log_chunks_in_order"] {
            #expect(names.contains(expected), "missing index \(expected)")
        }
    }

    @Test("a database from a newer Slipway is refused, not damaged")
    func newerSchema() throws {
        do {
            let store = try open()
            try store.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')")
                try db.execute(sql: "PRAGMA user_version = 99")
            }
        }
        #expect(throws: StoreError.newerSchema(path: tmp.file("slipway.db"), found: 99, supported: Schema.currentVersion)) { try open() }
    }

    @Test("a file that is not a database is a clear error")
    func notADatabase() throws {
        let path = tmp.write("junk.db", String(repeating: "not sqlite ", count: 200))
        do {
            _ = try Store(path: path)
            Issue.record("expected an error")
        } catch let error as StoreError {
            #expect(error.description.contains("not a valid Slipway database"))
        }
    }

    @Test("models round-trip through snake_case columns")
    func roundTrip() throws {
        let store = try open()
        let account = try insertAccount(store)
        #expect(try store.account(for: .bitbucket) == account)
        let raw = try store.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT api_url, auth, scopes FROM accounts")!
            return [row["api_url"] as String, row["auth"] as String, row["scopes"] as String]
        }
        #expect(raw == ["https://api.bitbucket.org/2.0", "api_token", #"["repository","account"]"#])

        let (workspace, repository, branch) = try insertMirror(store, accountID: account.id!)
        #expect(try store.workspaces(accountID: account.id!) == [workspace])
        #expect(try store.repositories(workspaceID: workspace.id!) == [repository])
        #expect(try store.branches(repositoryID: repository.id!) == [branch])
        #expect(try store.repository(at: MirrorPath.parse("bitbucket/acme/api")) == repository)
        #expect(try store.branch(repositoryID: repository.id!, name: "feature/x") == nil)
    }

    @Test("one account per provider is enforced by the schema")
    func oneAccountPerProvider() throws {
        let store = try open()
        _ = try insertAccount(store)
        #expect(throws: StoreError.self) { _ = try insertAccount(store) }
    }

    @Test("unlinking removes the account's mirror, sync state and budgets")
    func cascade() throws {
        let store = try open()
        let account = try insertAccount(store)
        let (_, repository, _) = try insertMirror(store, accountID: account.id!)
        try store.write { [now] db in
            var sync = SyncState(accountID: account.id!, scope: "account", lastSuccessAt: now)
            try sync.insert(db)
            var budget = BudgetState(key: BudgetKey(host: "api.bitbucket.org", credential: "account:\(account.id!)", kind: .rest),
                                     bucket: TokenBucket(capacity: 800, tokens: 800, refillPerSecond: 0.22, refilledAt: now))
            try budget.insert(db)
            var hook = WebhookSubscription(repositoryID: repository.id!, url: "https://h/webhooks/bitbucket", events: ["repo:push"], createdAt: now)
            try hook.insert(db)
        }
        #expect(try store.lastSyncAt() == now)
        try store.deleteAccount(provider: .bitbucket)
        let counts = try store.read { db in
            try ["accounts", "workspaces", "repositories", "branches", "sync_states", "budget_states", "webhook_subscriptions"]
                .map { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($0)")! }
        }
        #expect(counts == [0, 0, 0, 0, 0, 0, 0])
    }

    @Test("automatic deployments are unique per dedupe key; manual ones may repeat a commit")
    func deploymentIdempotency() throws {
        let store = try open()
        let account = try insertAccount(store)
        let (_, repository, _) = try insertMirror(store, accountID: account.id!)
        try store.write { [now] db in
            var app = App(name: "api", repositoryID: repository.id, sourcePath: "bitbucket/acme/api", branch: "main",
                          runCommand: "make run", environment: ["PORT": "8080"], createdAt: now)
            try app.insert(db)
            let sha = String(repeating: "a", count: 40)
            var first = Deployment(appID: app.id!, commitHash: sha, cause: "commit aaaaaaa pushed to main", dedupeKey: "\(app.id!):\(sha)", createdAt: now)
            try first.insert(db)
            var duplicate = Deployment(appID: app.id!, commitHash: sha, cause: "webhook", dedupeKey: "\(app.id!):\(sha)", createdAt: now)
            #expect(throws: DatabaseError.self) { try duplicate.insert(db) }
            var manual1 = Deployment(appID: app.id!, commitHash: sha, cause: "deployed by hand", createdAt: now)
            var manual2 = Deployment(appID: app.id!, commitHash: sha, cause: "deployed by hand", createdAt: now)
            try manual1.insert(db)
            try manual2.insert(db)
            var chunk = DeploymentLogChunk(deploymentID: first.id!, step: "build", stream: .stdout, text: "ok\n", createdAt: now)
            try chunk.insert(db)
        }
        #expect(try store.deployments().count == 3)
        #expect(try store.app(named: "api")?.environment == ["PORT": "8080"])
        let deploymentID = try store.deployments().last!.id!
        #expect(try store.logChunks(deploymentID: deploymentID).map(\.text) == ["ok\n"])
        try store.deleteApp(named: "api")
        #expect(try store.deployments().isEmpty)
        #expect(throws: StoreError.self) { try store.deleteApp(named: "api") }
    }

    @Test("the phase column refuses names App Platform doesn't use")
    func phaseCheck() throws {
        let store = try open()
        try store.write { [now] db in
            var app = App(name: "web", repositoryID: nil, sourcePath: "bitbucket/a/b", branch: "main", runCommand: "true", createdAt: now)
            try app.insert(db)
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "INSERT INTO deployments (app_id, commit_hash, phase, cause, created_at, updated_at) VALUES (?, 'x', 'RUNNING', 'c', ?, ?)",
                               arguments: [app.id, now, now])
            }
        }
    }

    @Test("commands move through their statuses and change events keep order")
    func commandsAndEvents() throws {
        let store = try open()
        try store.write { [now] db in
            var command = EngineCommand(kind: .syncCycle, requestedBy: "cli:42", createdAt: now)
            try command.insert(db)
            command.status = .done
            command.result = "3 changes"
            try command.update(db)
            for i in 0..<3 {
                var event = ChangeEvent(kind: .headMoved, path: "bitbucket/acme/api/main", old: "\(i)", new: "\(i + 1)", createdAt: now)
                try event.insert(db)
            }
            try db.execute(sql: "INSERT INTO change_cursors (consumer, last_event_id, updated_at) VALUES ('deployer', 2, ?)", arguments: [now])
        }
        let (command, pending) = try store.read { db in
            (try EngineCommand.fetchOne(db)!,
             try ChangeEvent.fetchAll(db, sql: "SELECT * FROM change_events WHERE id > (SELECT last_event_id FROM change_cursors WHERE consumer = 'deployer') ORDER BY id"))
        }
        #expect(command.status == .done)
        #expect(command.result == "3 changes")
        #expect(pending.map(\.new) == ["3"])
    }

    // MARK: Fixtures

    func insertAccount(_ store: Store) throws -> Account {
        try store.write { [now] db in
            var account = Account(provider: .bitbucket, username: "ada", displayName: "Ada Lovelace", remoteID: "{1}",
                                  apiURL: "https://api.bitbucket.org/2.0", webURL: "https://bitbucket.org", auth: .apiToken,
                                  scopes: ["repository", "account"], loginEmail: "ada@example.com", createdAt: now)
            try account.insert(db)
            return account
        }
    }

    func insertMirror(_ store: Store, accountID: Int64) throws -> (Workspace, Repository, Branch) {
        try store.write { [now] db in
            var workspace = Workspace(accountID: accountID, slug: "acme", name: "Acme Corp", updatedAt: now)
            try workspace.insert(db)
            var repository = Repository(workspaceID: workspace.id!, slug: "api", name: "API", fullName: "acme/api",
                                        mainBranch: "main", isAdmin: true, updatedOn: now,
                                        cloneURL: "https://bitbucket.org/acme/api.git", updatedAt: now)
            try repository.insert(db)
            var branch = Branch(repositoryID: repository.id!, name: "main", headHash: String(repeating: "b", count: 40),
                                headDate: now, headAuthor: "Ada <ada@example.com>", headMessage: "Initial\n\nbody", updatedAt: now)
            try branch.insert(db)
            return (workspace, repository, branch)
        }
    }
}

@Suite("Store watcher")
struct StoreWatcherTests {
    @Test("another connection's commit is noticed by polling data_version")
    func noticesOtherProcesses() async throws {
        let tmp = TemporaryDirectory()
        let writer = try Store(path: tmp.file("slipway.db"))   // stands for another process
        let watcher = try StoreWatcher(path: tmp.file("slipway.db"))
        let before = try watcher.dataVersion()
        _ = try writer.enqueue(SyncCyclePayload(), requestedBy: "other", now: Date())
        #expect(try watcher.dataVersion() != before)
        var iterator = watcher.changes(interval: 0.05).makeAsyncIterator()
        let started = Date()   // no timing assertion: the poll interval (0.25 s by default) is the promise
        let wake = Task { await iterator.next() }
        try await Task.sleep(nanoseconds: 100_000_000)
        _ = try writer.enqueue(SyncCyclePayload(), requestedBy: "other", now: Date())
        #expect(await wake.value != nil)
        _ = started
    }
}

@Suite("Locating paths")
struct LocateTests {
    @Test("the longest workspace that exists, then the longest repository, the rest is the branch (slashes need no quoting)")
    func longestWorkspace() throws {
        let tmp = TemporaryDirectory()
        let store = try Store(path: tmp.file("slipway.db"))
        let now = Date()
        try store.write { db in
            var account = Account(provider: .bitbucket, username: "ada", apiURL: "https://api.bitbucket.org/2.0", webURL: "https://bitbucket.org", auth: .token, createdAt: now)
            try account.insert(db)
            for slug in ["acme", "acme/platform"] {
                var workspace = Workspace(accountID: account.id!, slug: slug, updatedAt: now)
                try workspace.insert(db)
                var repository = Repository(workspaceID: workspace.id!, slug: "api", name: "api", fullName: "\(slug)/api", updatedAt: now)
                try repository.insert(db)
                for name in ["main", "feature/x"] {
                    var branch = Branch(repositoryID: repository.id!, name: name, headHash: "abc", updatedAt: now)
                    try branch.insert(db)
                }
            }
        }
        let deep = try #require(try store.locate("bitbucket/acme/platform/api/feature/x"))
        #expect(deep.workspace?.slug == "acme/platform" && deep.repository?.slug == "api" && deep.branch?.name == "feature/x")
        let shallow = try #require(try store.locate("bitbucket/acme/api/main"))
        #expect(shallow.workspace?.slug == "acme" && shallow.branch?.name == "main")
        #expect(try store.locate("bitbucket/")?.workspace == nil)
        #expect(try store.locate("bitbucket/acme/api/nope") == nil)
        #expect(try store.locate("gitlab/acme") == nil, "not linked")
        // The same split for every command that takes a path.
        #expect(try store.resolvePath("bitbucket/acme/platform/api/feature/x")
                == MirrorPath(provider: .bitbucket, workspace: "acme/platform", repository: "api", branch: "feature/x"))
        #expect(try store.resolvePath("bitbucket/acme/platform/api") == MirrorPath(provider: .bitbucket, workspace: "acme/platform", repository: "api"))
        #expect(try store.resolvePath("bitbucket/acme/api/feature/x") == MirrorPath(provider: .bitbucket, workspace: "acme", repository: "api", branch: "feature/x"))
        // What the mirror lacks is named by the plain split, for the error.
        #expect(try store.resolvePath("bitbucket/globex/web/main") == MirrorPath(provider: .bitbucket, workspace: "globex", repository: "web", branch: "main"))
        #expect(try store.resolvePath("bitbucket/acme/platform/nope") == MirrorPath(provider: .bitbucket, workspace: "acme/platform", repository: "nope"))
    }
}
