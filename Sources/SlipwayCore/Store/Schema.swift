import GRDB

/// The store's versioned migrations. Each migration is append-only: a released one is never
/// edited, a change is a new migration. `PRAGMA user_version` mirrors the schema version so
/// tools that don't know GRDB (doctor, sqlite3) can read it.
enum Schema {
    static let currentVersion = 9

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1", migrate: v1)
        migrator.registerMigration("v2", migrate: v2)
        migrator.registerMigration("v3", migrate: v3)
        migrator.registerMigration("v4", migrate: v4)
        migrator.registerMigration("v5", migrate: v5)
        migrator.registerMigration("v6", migrate: v6)
        migrator.registerMigration("v7", migrate: v7)
        migrator.registerMigration("v8", migrate: v8)
        migrator.registerMigration("v9", migrate: v9)
        return migrator
    }

    /// v9: branches lose their index on `repository_id` alone — the unique (repository_id, name)
    /// key already begins with it, so every lookup and the cascade from a deleted repository use
    /// that one, and each inserted branch updated an index nothing read.
    private static func v9(_ db: Database) throws {
        try db.execute(sql: "DROP INDEX IF EXISTS branches_on_repository_id")
        try db.execute(sql: "PRAGMA user_version = 9")
    }

    /// v8: the sweep's due-time index. Each repository waits in one lane (`SweepLane`) ordered
    /// by its last look, so an engine step reads only the repositories whose turn has come — the
    /// same cost at 1,000 repositories and at 100,000. Triggers keep it beside every writer
    /// (the engine, a CLI creating an app, a webhook failing): a repository gets its row when it
    /// is mirrored, news (never looked at, or changed since the look) jumps to its lane, an app
    /// makes its repository tracked, and a hook that fails or goes gives its repository back to
    /// the quiet lane. The engine sets the lane after each look, in the same transaction.
    private static func v8(_ db: Database) throws {
        let news = SweepLane.news.rawValue, tracked = SweepLane.tracked.rawValue
        let active = SweepLane.active.rawValue, quiet = SweepLane.quiet.rawValue, hooked = SweepLane.hooked.rawValue
        // The lane a repository is in by what is stored: tracked if an app builds from it, else quiet.
        func trackedOrQuiet(_ repositoryID: String) -> String {
            "CASE WHEN EXISTS(SELECT 1 FROM apps a WHERE a.repository_id = \(repositoryID)) THEN \(tracked) ELSE \(quiet) END"
        }
        // News when never looked at or changed since the look, else `otherwise`.
        func newsOr(_ row: String, _ otherwise: String) -> String {
            "CASE WHEN \(row).last_checked_at IS NULL OR \(row).updated_on > \(row).last_checked_at THEN \(news) ELSE \(otherwise) END"
        }
        try db.execute(sql: """
            CREATE TABLE sweep_queue (
                repository_id INTEGER PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
                account_id INTEGER NOT NULL,
                workspace_id INTEGER NOT NULL,
                lane INTEGER NOT NULL,
                checked_at DATETIME
            );
            CREATE INDEX sweep_queue_by_account ON sweep_queue(account_id, lane, checked_at);
            CREATE INDEX sweep_queue_by_workspace ON sweep_queue(workspace_id, lane, checked_at);
            INSERT INTO sweep_queue (repository_id, account_id, workspace_id, lane, checked_at)
                SELECT r.id, w.account_id, r.workspace_id, \(newsOr("r", trackedOrQuiet("r.id"))), r.last_checked_at
                FROM repositories r JOIN workspaces w ON w.id = r.workspace_id;

            CREATE TRIGGER sweep_queue_on_mirror AFTER INSERT ON repositories BEGIN
                INSERT INTO sweep_queue (repository_id, account_id, workspace_id, lane, checked_at)
                SELECT NEW.id, w.account_id, NEW.workspace_id, \(newsOr("NEW", trackedOrQuiet("NEW.id"))), NEW.last_checked_at
                FROM workspaces w WHERE w.id = NEW.workspace_id;
            END;
            CREATE TRIGGER sweep_queue_on_look AFTER UPDATE OF last_checked_at, updated_on ON repositories BEGIN
                UPDATE sweep_queue SET checked_at = NEW.last_checked_at,
                    lane = \(newsOr("NEW", "(CASE WHEN lane = \(news) THEN \(trackedOrQuiet("NEW.id")) ELSE lane END)"))
                WHERE repository_id = NEW.id;
            END;
            CREATE TRIGGER sweep_queue_on_app AFTER INSERT ON apps WHEN NEW.repository_id IS NOT NULL BEGIN
                UPDATE sweep_queue SET lane = \(tracked) WHERE repository_id = NEW.repository_id AND lane IN (\(active), \(quiet));
            END;
            CREATE TRIGGER sweep_queue_on_app_source AFTER UPDATE OF repository_id ON apps WHEN NEW.repository_id IS NOT NULL BEGIN
                UPDATE sweep_queue SET lane = \(tracked) WHERE repository_id = NEW.repository_id AND lane IN (\(active), \(quiet));
            END;
            CREATE TRIGGER sweep_queue_on_hook_failure AFTER UPDATE OF last_failure_at ON webhook_subscriptions BEGIN
                UPDATE sweep_queue SET lane = \(trackedOrQuiet("NEW.repository_id")) WHERE repository_id = NEW.repository_id AND lane = \(hooked);
            END;
            CREATE TRIGGER sweep_queue_on_hook_removal AFTER DELETE ON webhook_subscriptions BEGIN
                UPDATE sweep_queue SET lane = \(trackedOrQuiet("OLD.repository_id"))
                WHERE repository_id = OLD.repository_id AND lane = \(hooked);
            END;

            -- Each lane's size, kept as rows come, go and change lane: planning the intervals
            -- reads a handful of rows, not the whole queue.
            CREATE TABLE sweep_lane_sizes (
                account_id INTEGER NOT NULL,
                workspace_id INTEGER NOT NULL,
                lane INTEGER NOT NULL,
                size INTEGER NOT NULL,
                PRIMARY KEY (account_id, workspace_id, lane)
            ) WITHOUT ROWID;
            INSERT INTO sweep_lane_sizes (account_id, workspace_id, lane, size)
                SELECT account_id, workspace_id, lane, COUNT(*) FROM sweep_queue GROUP BY account_id, workspace_id, lane;
            CREATE TRIGGER sweep_lane_sizes_on_queue AFTER INSERT ON sweep_queue BEGIN
                INSERT INTO sweep_lane_sizes (account_id, workspace_id, lane, size) VALUES (NEW.account_id, NEW.workspace_id, NEW.lane, 1)
                    ON CONFLICT DO UPDATE SET size = size + 1;
            END;
            CREATE TRIGGER sweep_lane_sizes_on_dequeue AFTER DELETE ON sweep_queue BEGIN
                UPDATE sweep_lane_sizes SET size = size - 1 WHERE account_id = OLD.account_id AND workspace_id = OLD.workspace_id AND lane = OLD.lane;
            END;
            CREATE TRIGGER sweep_lane_sizes_on_lane AFTER UPDATE OF lane ON sweep_queue WHEN OLD.lane != NEW.lane BEGIN
                UPDATE sweep_lane_sizes SET size = size - 1 WHERE account_id = OLD.account_id AND workspace_id = OLD.workspace_id AND lane = OLD.lane;
                INSERT INTO sweep_lane_sizes (account_id, workspace_id, lane, size) VALUES (NEW.account_id, NEW.workspace_id, NEW.lane, 1)
                    ON CONFLICT DO UPDATE SET size = size + 1;
            END;
            PRAGMA user_version = 8;
            """)
    }

    /// v7: deployment steps nest (App Platform's progress tree: build → components → web), kept
    /// in pre-order with their depth, and may name the component they work on.
    private static func v7(_ db: Database) throws {
        try db.alter(table: "deployment_steps") { t in
            t.add(column: "depth", .integer).notNull().defaults(to: 0)
            t.add(column: "component", .text)
        }
        try db.execute(sql: "PRAGMA user_version = 7")
    }

    /// v6: a hook may sign its deliveries with a key derived from its secret (GitLab 19.0's
    /// signing token); once the provider confirmed it, only that signature proves a delivery.
    /// Public Git repositories the user added (`repos add`): the `git` account's list, which its
    /// mirror follows.
    private static func v6(_ db: Database) throws {
        try db.alter(table: "webhook_subscriptions") { t in t.add(column: "signs_deliveries", .boolean).notNull().defaults(to: false) }
        try db.create(table: "public_repositories") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("account_id", .integer).notNull().indexed().references("accounts", onDelete: .cascade)
            t.column("clone_url", .text).notNull()
            t.column("host", .text).notNull()
            t.column("path", .text).notNull()
            t.column("added_at", .datetime).notNull()
            t.uniqueKey(["host", "path"])
        }
        try db.execute(sql: "PRAGMA user_version = 6")
    }

    /// v5: one identity for every provider. Accounts may be linked by the device flow or need no
    /// credential (public Git); apps name their backend (local or App Platform) with its settings,
    /// their components and the remote app's id, names unique per backend; deployments may be in
    /// App Platform's `UNKNOWN` phase and carry its id, and say why they failed as `reason`;
    /// delivery ids are unique per provider, not across all of them; columns nothing reads are
    /// gone. SQLite cannot change a CHECK or a UNIQUE, so those tables are rebuilt, rows kept
    /// (foreign keys are checked once the migration ends).
    private static func v5(_ db: Database) throws {
        try rebuild(db, table: "accounts", columns: """
            id, provider, username, display_name, remote_id, api_url, web_url, auth, status, status_message, scopes, email,
            client_id, token_ciphertext, refresh_token_ciphertext, client_secret_ciphertext, token_expires_at, token_refresh_at,
            created_at, updated_at
            """) { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("provider", .text).notNull().unique()
            t.column("username", .text).notNull()
            t.column("display_name", .text)
            t.column("remote_id", .text)
            t.column("api_url", .text).notNull()
            t.column("web_url", .text).notNull()
            t.column("auth", .text).notNull()
                .check(sql: "auth IN ('oauth','token','api_token','client_credentials','device','none')")
            t.column("status", .text).notNull().defaults(to: "ok")
                .check(sql: "status IN ('ok','needs_relink','rate_limited')")
            t.column("status_message", .text)
            t.column("scopes", .text).notNull().defaults(to: "[]")
            t.column("email", .text)
            t.column("client_id", .text)
            t.column("token_ciphertext", .blob)
            t.column("refresh_token_ciphertext", .blob)
            t.column("client_secret_ciphertext", .blob)
            t.column("token_expires_at", .datetime)
            t.column("token_refresh_at", .datetime)
            t.column("created_at", .datetime).notNull()
            t.column("updated_at", .datetime).notNull()
        }
        // The git user for API tokens was kept in `email`; the user's address now has that name.
        try db.alter(table: "accounts") { t in t.add(column: "login_email", .text) }
        try db.execute(sql: "UPDATE accounts SET login_email = email, email = NULL WHERE auth = 'api_token'")

        try rebuild(db, table: "apps", columns: """
            id, name, repository_id, source_path, branch, build_command, run_command, is_service, health_url, autodeploy,
            timeout_seconds, environment, secret_environment_ciphertext, created_at, updated_at
            """) { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("name", .text).notNull()
            t.column("backend", .text).notNull().defaults(to: "local").check(sql: "backend IN ('local','digitalocean')")
            t.column("backend_settings", .text).notNull().defaults(to: "{}")
            t.column("remote_id", .text)
            t.column("repository_id", .integer).references("repositories", onDelete: .setNull)
            t.column("source_path", .text).notNull()
            t.column("branch", .text).notNull()
            t.column("components", .text).notNull().defaults(to: "[]")
            t.column("build_command", .text)
            t.column("run_command", .text).notNull()
            t.column("is_service", .boolean).notNull().defaults(to: false)
            t.column("health_url", .text)
            t.column("autodeploy", .boolean).notNull().defaults(to: true)
            t.column("timeout_seconds", .integer)
            t.column("environment", .text).notNull().defaults(to: "{}")
            t.column("secret_environment_ciphertext", .blob)
            t.column("created_at", .datetime).notNull()
            t.column("updated_at", .datetime).notNull()
            t.uniqueKey(["backend", "name"])
        }
        try db.create(index: "apps_by_repository", on: "apps", columns: ["repository_id"])
        try db.execute(sql: "UPDATE apps SET components = json_array(json_object('name', name, 'source', source_path, 'branch', branch))")

        try rebuild(db, table: "deployments", columns: """
            id, app_id, commit_hash, phase, cause, dedupe_key, error_message AS reason, created_at, updated_at, finished_at
            """) { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("app_id", .integer).notNull().references("apps", onDelete: .cascade)
            t.column("remote_id", .text)
            t.column("commit_hash", .text).notNull()
            t.column("phase", .text).notNull()
                .check(sql: "phase IN ('PENDING_BUILD','BUILDING','PENDING_DEPLOY','DEPLOYING','ACTIVE','SUPERSEDED','ERROR','CANCELED','UNKNOWN')")
            t.column("cause", .text).notNull()
            t.column("dedupe_key", .text).unique()
            t.column("reason", .text)
            t.column("created_at", .datetime).notNull()
            t.column("updated_at", .datetime).notNull()
            t.column("finished_at", .datetime)
        }
        try db.create(index: "deployments_by_app", on: "deployments", columns: ["app_id", "created_at"])
        try db.create(index: "deployments_by_phase", on: "deployments", columns: ["phase"])
        try db.create(index: "deployments_by_remote_id", on: "deployments", columns: ["remote_id"])

        try rebuild(db, table: "webhook_deliveries", columns: """
            id, subscription_id, 'bitbucket' AS provider, request_id, event_key, outcome, received_at
            """) { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("subscription_id", .integer).references("webhook_subscriptions", onDelete: .setNull)
            t.column("provider", .text).notNull()
            t.column("request_id", .text).notNull()
            t.column("event_key", .text).notNull()
            t.column("outcome", .text).notNull()
            t.column("received_at", .datetime).notNull()
            t.uniqueKey(["provider", "request_id"])
        }
        try db.create(index: "webhook_deliveries_by_time", on: "webhook_deliveries", columns: ["received_at"])
        try db.create(index: "webhook_deliveries_by_subscription", on: "webhook_deliveries", columns: ["subscription_id"])

        try db.drop(index: "sync_states_by_due")
        try db.alter(table: "sync_states") { t in
            t.drop(column: "cursor")
            t.drop(column: "next_due_at")
        }
        try db.alter(table: "workspaces") { t in t.drop(column: "access_lost_at") }
        try db.execute(sql: "PRAGMA user_version = 5")
    }

    /// Replaces a table by one made with `create`, copying `columns` (a SELECT list over the old
    /// table, in the new table's order of the names it fills) and keeping every row.
    private static func rebuild(_ db: Database, table: String, columns: String, create: (TableDefinition) -> Void) throws {
        let rebuilt = "\(table)_rebuilt"
        try db.create(table: rebuilt, body: create)
        let targets = columns.split(separator: ",").map { part -> String in
            let words = part.split(whereSeparator: \.isWhitespace)
            return String(words.last ?? "")
        }
        try db.execute(sql: "INSERT INTO \(rebuilt) (\(targets.joined(separator: ", "))) SELECT \(columns) FROM \(table)")
        try db.drop(table: table)
        try db.rename(table: rebuilt, to: table)
    }

    /// v4: budgets get a second, per-minute window (GitLab, App Platform) and a GraphQL kind
    /// (GitHub's points). SQLite cannot change a CHECK, so the table is rebuilt, rows kept.
    private static func v4(_ db: Database) throws {
        try db.create(table: "budget_states_v4") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("host", .text).notNull()
            t.column("credential", .text).notNull()
            t.column("kind", .text).notNull().check(sql: "kind IN ('rest','git','graphql')")
            t.column("capacity", .double).notNull()
            t.column("tokens", .double).notNull()
            t.column("refill_per_second", .double).notNull()
            t.column("refilled_at", .datetime).notNull()
            t.column("paused_until", .datetime)
            t.column("consecutive_rate_limits", .integer).notNull().defaults(to: 0)
            t.column("header_limit", .integer)
            t.column("header_remaining", .integer)
            t.column("header_reset_at", .datetime)
            t.column("updated_at", .datetime).notNull()
            t.column("minute_capacity", .double)
            t.column("minute_tokens", .double)
            t.uniqueKey(["host", "credential", "kind"])
        }
        try db.execute(sql: """
            INSERT INTO budget_states_v4 (id, host, credential, kind, capacity, tokens, refill_per_second, refilled_at, paused_until,
                                          consecutive_rate_limits, header_limit, header_remaining, header_reset_at, updated_at)
            SELECT id, host, credential, kind, capacity, tokens, refill_per_second, refilled_at, paused_until,
                   consecutive_rate_limits, header_limit, header_remaining, header_reset_at, updated_at FROM budget_states
            """)
        try db.drop(table: "budget_states")
        try db.rename(table: "budget_states_v4", to: "budget_states")
        try db.execute(sql: "PRAGMA user_version = 4")
    }

    /// v3: the process group of every running step and service, with its start time, so an
    /// engine that starts after another died (kill -9) can stop what that one left running —
    /// and never a process that merely reuses a recorded pid.
    private static func v3(_ db: Database) throws {
        try db.create(table: "step_processes") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("process_group", .integer).notNull()
            t.column("start_ticks", .integer).notNull()
            t.column("deployment_id", .integer)
            t.column("step", .text).notNull()
            t.column("started_at", .datetime).notNull()
        }
        try db.execute(sql: "PRAGMA user_version = 3")
    }

    /// v2: when an expiring (OAuth) token should be refreshed — at about 80 % of its lifetime.
    private static func v2(_ db: Database) throws {
        try db.alter(table: "accounts") { t in
            t.add(column: "token_refresh_at", .datetime)
        }
        try db.execute(sql: "PRAGMA user_version = 2")
    }

    // swiftlint:disable:next function_body_length
    private static func v1(_ db: Database) throws {
        // Accounts: one per provider; secrets only as vault ciphertext.
        try db.create(table: "accounts") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("provider", .text).notNull().unique()
            t.column("username", .text).notNull()
            t.column("display_name", .text)
            t.column("remote_id", .text)
            t.column("api_url", .text).notNull()
            t.column("web_url", .text).notNull()
            t.column("auth", .text).notNull()
                .check(sql: "auth IN ('oauth','token','api_token','client_credentials')")
            t.column("status", .text).notNull().defaults(to: "ok")
                .check(sql: "status IN ('ok','needs_relink','rate_limited')")
            t.column("status_message", .text)
            t.column("scopes", .text).notNull().defaults(to: "[]")
            t.column("email", .text)
            t.column("client_id", .text)
            t.column("token_ciphertext", .blob)
            t.column("refresh_token_ciphertext", .blob)
            t.column("client_secret_ciphertext", .blob)
            t.column("token_expires_at", .datetime)
            t.column("created_at", .datetime).notNull()
            t.column("updated_at", .datetime).notNull()
        }

        // The mirror, written by the engine alone.
        try db.create(table: "workspaces") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("account_id", .integer).notNull().indexed().references("accounts", onDelete: .cascade)
            t.column("slug", .text).notNull()
            t.column("remote_id", .text)
            t.column("name", .text)
            t.column("is_admin", .boolean).notNull().defaults(to: false)
            t.column("access_lost_at", .datetime)
            t.column("updated_at", .datetime).notNull()
            t.uniqueKey(["account_id", "slug"])
        }
        try db.create(index: "workspaces_by_name", on: "workspaces", columns: ["account_id", "name"])

        try db.create(table: "repositories") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("workspace_id", .integer).notNull().indexed().references("workspaces", onDelete: .cascade)
            t.column("slug", .text).notNull()
            t.column("remote_id", .text)
            t.column("name", .text).notNull()
            t.column("full_name", .text).notNull()
            t.column("main_branch", .text)
            t.column("is_private", .boolean).notNull().defaults(to: true)
            t.column("is_admin", .boolean).notNull().defaults(to: false)
            t.column("updated_on", .datetime)
            t.column("clone_url", .text)
            t.column("web_url", .text)
            t.column("branch_count", .integer).notNull().defaults(to: 0)
            t.column("last_checked_at", .datetime)
            t.column("updated_at", .datetime).notNull()
            t.uniqueKey(["workspace_id", "slug"])
        }
        try db.create(index: "repositories_by_name", on: "repositories", columns: ["workspace_id", "name"])
        try db.create(index: "repositories_by_recency", on: "repositories", columns: ["workspace_id", "updated_on"])
        try db.create(index: "repositories_by_full_name", on: "repositories", columns: ["full_name"])
        try db.create(index: "repositories_by_remote_id", on: "repositories", columns: ["remote_id"])
        try db.create(index: "repositories_by_last_check", on: "repositories", columns: ["last_checked_at"])

        try db.create(table: "branches") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("repository_id", .integer).notNull().indexed().references("repositories", onDelete: .cascade)
            t.column("name", .text).notNull()
            t.column("head_hash", .text).notNull()
            t.column("head_date", .datetime)
            t.column("head_author", .text)
            t.column("head_message", .text)
            t.column("updated_at", .datetime).notNull()
            t.uniqueKey(["repository_id", "name"])
        }
        try db.create(index: "branches_by_recency", on: "branches", columns: ["repository_id", "head_date"])

        try db.create(table: "commits") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("repository_id", .integer).notNull().indexed().references("repositories", onDelete: .cascade)
            t.column("hash", .text).notNull()
            t.column("author", .text)
            t.column("date", .datetime)
            t.column("message", .text)
            t.column("parents", .text).notNull().defaults(to: "[]")
            t.uniqueKey(["repository_id", "hash"])
        }
        try db.create(index: "commits_by_recency", on: "commits", columns: ["repository_id", "date"])

        // Which commits a branch's history holds, in the order the provider listed them.
        try db.create(table: "branch_commits") { t in
            t.column("branch_id", .integer).notNull().indexed().references("branches", onDelete: .cascade)
            t.column("commit_id", .integer).notNull().indexed().references("commits", onDelete: .cascade)
            t.column("position", .integer).notNull()
            t.primaryKey(["branch_id", "commit_id"])
        }
        try db.create(index: "branch_commits_by_position", on: "branch_commits", columns: ["branch_id", "position"])

        // Apps and deployments.
        try db.create(table: "apps") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("name", .text).notNull().unique()
            t.column("repository_id", .integer).indexed().references("repositories", onDelete: .setNull)
            t.column("source_path", .text).notNull()
            t.column("branch", .text).notNull()
            t.column("build_command", .text)
            t.column("run_command", .text).notNull()
            t.column("is_service", .boolean).notNull().defaults(to: false)
            t.column("health_url", .text)
            t.column("autodeploy", .boolean).notNull().defaults(to: true)
            t.column("timeout_seconds", .integer)
            t.column("environment", .text).notNull().defaults(to: "{}")
            t.column("secret_environment_ciphertext", .blob)
            t.column("created_at", .datetime).notNull()
            t.column("updated_at", .datetime).notNull()
        }

        try db.create(table: "deployments") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("app_id", .integer).notNull().indexed().references("apps", onDelete: .cascade)
            t.column("commit_hash", .text).notNull()
            t.column("phase", .text).notNull()
                .check(sql: "phase IN ('PENDING_BUILD','BUILDING','PENDING_DEPLOY','DEPLOYING','ACTIVE','SUPERSEDED','ERROR','CANCELED')")
            t.column("cause", .text).notNull()
            t.column("dedupe_key", .text).unique()
            t.column("error_message", .text)
            t.column("created_at", .datetime).notNull()
            t.column("updated_at", .datetime).notNull()
            t.column("finished_at", .datetime)
        }
        try db.create(index: "deployments_by_app", on: "deployments", columns: ["app_id", "created_at"])
        try db.create(index: "deployments_by_phase", on: "deployments", columns: ["phase"])

        try db.create(table: "deployment_steps") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("deployment_id", .integer).notNull().indexed().references("deployments", onDelete: .cascade)
            t.column("position", .integer).notNull()
            t.column("name", .text).notNull()
            t.column("status", .text).notNull().defaults(to: "pending")
            t.column("exit_status", .integer)
            t.column("started_at", .datetime)
            t.column("finished_at", .datetime)
            t.uniqueKey(["deployment_id", "position"])
        }

        try db.create(table: "deployment_log_chunks") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("deployment_id", .integer).notNull().indexed().references("deployments", onDelete: .cascade)
            t.column("step", .text).notNull()
            t.column("stream", .text).notNull()
            t.column("text", .text).notNull()
            t.column("created_at", .datetime).notNull()
        }
        try db.create(index: "log_chunks_in_order", on: "deployment_log_chunks", columns: ["deployment_id", "id"])

        // Webhooks.
        try db.create(table: "webhook_subscriptions") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("repository_id", .integer).notNull().indexed().references("repositories", onDelete: .cascade)
            t.column("remote_id", .text)
            t.column("url", .text).notNull()
            t.column("events", .text).notNull().defaults(to: "[]")
            t.column("secret_ciphertext", .blob)
            t.column("installed_by_slipway", .boolean).notNull().defaults(to: true)
            t.column("last_delivery_at", .datetime)
            t.column("last_failure_at", .datetime)
            t.column("last_failure_message", .text)
            t.column("created_at", .datetime).notNull()
            t.uniqueKey(["repository_id", "url"])
        }

        try db.create(table: "webhook_deliveries") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("subscription_id", .integer).indexed().references("webhook_subscriptions", onDelete: .setNull)
            t.column("request_id", .text).notNull().unique()
            t.column("event_key", .text).notNull()
            t.column("outcome", .text).notNull()
            t.column("reason", .text)
            t.column("received_at", .datetime).notNull()
        }
        try db.create(index: "webhook_deliveries_by_time", on: "webhook_deliveries", columns: ["received_at"])

        // Engine bookkeeping shared by every process.
        try db.create(table: "sync_states") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("account_id", .integer).notNull().indexed().references("accounts", onDelete: .cascade)
            t.column("scope", .text).notNull()
            t.column("cursor", .text)
            t.column("last_attempt_at", .datetime)
            t.column("last_success_at", .datetime)
            t.column("last_error", .text)
            t.column("next_due_at", .datetime)
            t.uniqueKey(["account_id", "scope"])
        }
        try db.create(index: "sync_states_by_due", on: "sync_states", columns: ["next_due_at"])

        try db.create(table: "budget_states") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("host", .text).notNull()
            t.column("credential", .text).notNull()
            t.column("kind", .text).notNull().check(sql: "kind IN ('rest','git')")
            t.column("capacity", .double).notNull()
            t.column("tokens", .double).notNull()
            t.column("refill_per_second", .double).notNull()
            t.column("refilled_at", .datetime).notNull()
            t.column("paused_until", .datetime)
            t.column("consecutive_rate_limits", .integer).notNull().defaults(to: 0)
            t.column("header_limit", .integer)
            t.column("header_remaining", .integer)
            t.column("header_reset_at", .datetime)
            t.column("updated_at", .datetime).notNull()
            t.uniqueKey(["host", "credential", "kind"])
        }

        try db.create(table: "commands") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("kind", .text).notNull()
            t.column("payload", .text).notNull().defaults(to: "{}")
            t.column("status", .text).notNull().defaults(to: "queued")
                .check(sql: "status IN ('queued','running','done','failed')")
            t.column("result", .text)
            t.column("requested_by", .text)
            t.column("created_at", .datetime).notNull()
            t.column("claimed_at", .datetime)
            t.column("finished_at", .datetime)
        }
        try db.create(index: "commands_by_status", on: "commands", columns: ["status", "id"])

        try db.create(table: "change_events") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("kind", .text).notNull()
            t.column("path", .text).notNull()
            t.column("old", .text)
            t.column("new", .text)
            t.column("created_at", .datetime).notNull()
        }
        try db.create(table: "change_cursors") { t in
            t.primaryKey("consumer", .text)
            t.column("last_event_id", .integer).notNull().defaults(to: 0)
            t.column("updated_at", .datetime).notNull()
        }

        try db.execute(sql: "PRAGMA user_version = 1")
    }
}
