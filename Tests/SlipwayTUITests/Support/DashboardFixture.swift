import Foundation
import GRDB
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
@testable import SlipwayTUI

/// A store with one account, CJK and hostile strings in names and messages, budgets and
/// commits, at fixed dates, so views render the same text on every run.
final class DashboardFixture: @unchecked Sendable {
    let directory: String
    let store: Store
    static let now = ISO8601DateFormatter().date(from: "2026-11-29T12:00:00Z")!
    var accountID: Int64 = 0
    var apiRepositoryID: Int64 = 0
    var mainBranchID: Int64 = 0

    /// `acrossProviders`: GitHub, GitLab and App Platform linked beside Bitbucket, each Git host
    /// with a repository named `auth`, and apps on both backends built from them.
    init(empty: Bool = false, acrossProviders: Bool = false) throws {
        directory = FileManager.default.temporaryDirectory.path + "/slipway-tui-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try Store(path: directory + "/slipway.db")
        if !empty { try populate() }
        if acrossProviders { try populateAcrossProviders() }
    }

    private func populateAcrossProviders() throws {
        let now = Self.now
        try store.write { db in
            var repositories: [String: Int64] = [:]
            for (provider, api, web, user) in [(ProviderKind.github, "https://api.github.com", "https://github.com", "ada-l"),
                                               (.gitlab, "https://gitlab.com/api/v4", "https://gitlab.com", "ada.lovelace")] {
                var account = Account(provider: provider, username: user, displayName: "Ada Lovelace", apiURL: api, webURL: web, auth: .token,
                                      scopes: [], createdAt: Self.ago(86400))
                try account.insert(db)
                var state = SyncState(accountID: account.id!, scope: "account", lastAttemptAt: Self.ago(40), lastSuccessAt: Self.ago(40))
                try state.insert(db)
                let slug = provider == .github ? "ada-l" : "platform/identity"
                var workspace = Workspace(accountID: account.id!, slug: slug, name: slug, isAdmin: true, updatedAt: now)
                try workspace.insert(db)
                var auth = Repository(workspaceID: workspace.id!, slug: "auth", name: "auth", fullName: "\(slug)/auth", mainBranch: "main", isAdmin: true,
                                      updatedOn: Self.ago(600), cloneURL: "\(web)/\(slug)/auth.git", webURL: "\(web)/\(slug)/auth",
                                      branchCount: 1, lastCheckedAt: Self.ago(30), updatedAt: now)
                try auth.insert(db)
                let head = provider == .github ? "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678" : "b2c3d4e5f60718293a4b5c6d7e8f901234567890"
                var main = Branch(repositoryID: auth.id!, name: "main", headHash: head, headDate: Self.ago(600), headAuthor: "Ada Lovelace <ada@example.com>",
                                  headMessage: "Rotate the signing keys", updatedAt: now)
                try main.insert(db)
                repositories[provider.rawValue] = auth.id!
                // GitHub's auth has three commits stored: the App Platform app serves the oldest.
                if provider == .github {
                    for (position, hash) in [head, "c3d4e5f60718293a4b5c6d7e8f90123456789012", "d4e5f60718293a4b5c6d7e8f9012345678901234"].enumerated() {
                        var commit = Commit(repositoryID: auth.id!, hash: hash, author: "Ada Lovelace <ada@example.com>", date: Self.ago(600 + Double(position) * 3600),
                                            message: "Change \(position)", parents: [])
                        try commit.insert(db)
                        try db.execute(sql: "INSERT INTO branch_commits (branch_id, commit_id, position) VALUES (?, ?, ?)", arguments: [main.id!, commit.id!, position])
                    }
                }
            }
            var ocean = Account(provider: .digitalocean, username: "ada@example.com", displayName: "Analytical Engines", apiURL: "https://api.digitalocean.com",
                                webURL: "https://cloud.digitalocean.com", auth: .token, scopes: [], createdAt: Self.ago(86400))
            try ocean.insert(db)
            // On App Platform, three commits behind GitHub's head; on this host, failed at build from GitLab.
            var shop = App(name: "shop", backend: .digitalocean, backendSettings: ["region": "ams", "live_url": "https://shop-x1y2.ondigitalocean.app"],
                           remoteID: "6c1f0e2a-0000-4000-8000-000000000001",
                           components: [AppComponent(name: "web", source: "github/ada-l/auth", branch: "main"), AppComponent(name: "worker", source: "", branch: "")],
                           repositoryID: repositories["github"], sourcePath: "github/ada-l/auth", branch: "main", runCommand: "npm start", autodeploy: false,
                           createdAt: Self.ago(7200))
            try shop.insert(db)
            var served = Deployment(appID: shop.id!, commitHash: "d4e5f60718293a4b5c6d7e8f9012345678901234", phase: .active, cause: "manual",
                                    dedupeKey: "remote:d-1", remoteID: "d-1", createdAt: Self.ago(7000), finishedAt: Self.ago(6900))
            try served.insert(db)
            var login = App(name: "login", repositoryID: repositories["gitlab"], sourcePath: "gitlab/platform/identity/auth", branch: "main", buildCommand: "make",
                            runCommand: "./login", createdAt: Self.ago(3600))
            try login.insert(db)
            var failed = Deployment(appID: login.id!, commitHash: "b2c3d4e5f60718293a4b5c6d7e8f901234567890", phase: .error, cause: "commit b2c3d4e pushed to main",
                                    dedupeKey: "app:\(login.id!):b2c3", reason: "step build failed: exit status 2", createdAt: Self.ago(500), finishedAt: Self.ago(480))
            try failed.insert(db)
            for (position, name, status) in [(0, "fetch", DeploymentStepStatus.succeeded), (1, "checkout", .succeeded), (2, "build", .failed), (3, "deploy", .skipped)] {
                var step = DeploymentStep(deploymentID: failed.id!, position: position, name: name, status: status)
                try step.insert(db)
            }
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func source(engine: EngineBadge = .embedded) -> StoreSource {
        StoreSource(store: store, home: "~/.local/share/slipway", host: "buildhost", engine: { engine })
    }

    func controller(width: Int, height: Int, asciiOnly: Bool = false, engine: EngineBadge = .embedded) -> DashboardController {
        DashboardController(source: source(engine: engine), width: width, height: height, now: Self.now, asciiOnly: asciiOnly)
    }

    static func ago(_ seconds: TimeInterval) -> Date { now.addingTimeInterval(-seconds) }

    private func populate() throws {
        let now = Self.now
        try store.write { db in
            var account = Account(provider: .bitbucket, username: "ada", displayName: "Ada Lovelace", apiURL: "https://api.bitbucket.org/2.0",
                                  webURL: "https://bitbucket.org", auth: .token, scopes: ["account", "repository", "webhook"], createdAt: Self.ago(86400))
            try account.insert(db)
            self.accountID = account.id!
            var state = SyncState(accountID: account.id!, scope: "account", lastAttemptAt: Self.ago(70), lastSuccessAt: Self.ago(70))
            try state.insert(db)
            var budget = BudgetState(key: BudgetKey(host: "api.bitbucket.org", credential: "account:\(account.id!)", kind: .rest),
                                     bucket: TokenBucket(capacity: 800, tokens: 612, refillPerSecond: 800.0 / 3600, refilledAt: now))
            try budget.insert(db)
            var git = BudgetState(key: BudgetKey(host: "bitbucket.org", credential: "account:\(account.id!)", kind: .git),
                                  bucket: TokenBucket(capacity: 48000, tokens: 47000, refillPerSecond: 48000.0 / 3600, refilledAt: now))
            try git.insert(db)

            var acme = Workspace(accountID: account.id!, slug: "acme", name: "Acme Corp", isAdmin: true, updatedAt: now)
            try acme.insert(db)
            var tokyo = Workspace(accountID: account.id!, slug: "tokyo", name: "東京チーム", updatedAt: now)
            try tokyo.insert(db)
            var hostile = Workspace(accountID: account.id!, slug: "evil", name: "Evil\u{1B}]0;pwned\u{07} Inc", updatedAt: now)
            try hostile.insert(db)

            var api = Repository(workspaceID: acme.id!, slug: "api", name: "API", fullName: "acme/api", mainBranch: "main", isAdmin: true,
                                 updatedOn: Self.ago(300), cloneURL: "https://bitbucket.org/acme/api.git", webURL: "https://bitbucket.org/acme/api",
                                 branchCount: 5, lastCheckedAt: Self.ago(20), updatedAt: now)
            try api.insert(db)
            self.apiRepositoryID = api.id!
            var hook = WebhookSubscription(repositoryID: api.id!, remoteID: "{hook}", url: "https://hooks.example.com/webhooks/bitbucket", events: ["repo:push"],
                                           lastDeliveryAt: Self.ago(120), createdAt: Self.ago(86400))
            try hook.insert(db)
            var web = Repository(workspaceID: acme.id!, slug: "web", name: "Web front end", fullName: "acme/web", mainBranch: "develop",
                                 updatedOn: Self.ago(3 * 86400), branchCount: 2, lastCheckedAt: Self.ago(40), updatedAt: now)
            try web.insert(db)
            var cjk = Repository(workspaceID: tokyo.id!, slug: "kaisha", name: "会社のサービス", fullName: "tokyo/kaisha", mainBranch: "メイン",
                                 updatedOn: Self.ago(7200), branchCount: 1, lastCheckedAt: Self.ago(30), updatedAt: now)
            try cjk.insert(db)

            let branches: [(String, String, String, TimeInterval, String)] = [
                ("main", "2e24de9c0f1b4a7e8d6c5b4a3f2e1d0c9b8a7f6e", "Ada Lovelace <ada@example.com>", 300, "Release 2.4\n\nWith notes on the second line"),
                ("feature/日本語-ブランチ", "3c8998a1b2c3d4e5f60718293a4b5c6d7e8f9012", "李小龙 <li@example.cn>", 3600, "修复登录页面的错误"),
                ("\u{202E}gnp.exe", "4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70", "Mallory <m@example.com>", 7200, "\u{1B}[2J\u{1B}[Hcleared your screen"),
                ("fix\rspoof", "5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081", "Eve\u{9B}31m <eve@example.com>", 86400, "tab\there\rCR and bell\u{07}"),
                ("emoji-🚀-deploy", "6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192", "Zoë Ångström <zoe@example.se>", 20 * 86400, "Ship it 🚢 with a very long subject line that will not fit in any reasonable column width at all"),
            ]
            for (name, hash, author, age, message) in branches {
                var branch = Branch(repositoryID: api.id!, name: name, headHash: hash, headDate: Self.ago(age), headAuthor: author,
                                    headMessage: message, updatedAt: now)
                try branch.insert(db)
                if name == "main" { self.mainBranchID = branch.id! }
            }
            for (name, hash) in [("develop", "7a8b9c0d1e2f30415263748596a7b8c9d0e1f203"), ("main", "8b9c0d1e2f30415263748596a7b8c9d0e1f20314")] {
                var branch = Branch(repositoryID: web.id!, name: name, headHash: hash, headDate: Self.ago(3 * 86400), headAuthor: "Grace Hopper <grace@example.com>",
                                    headMessage: "Tidy the build", updatedAt: now)
                try branch.insert(db)
            }
            var kaishaMain = Branch(repositoryID: cjk.id!, name: "メイン", headHash: "9c0d1e2f30415263748596a7b8c9d0e1f2031425", headDate: Self.ago(7200),
                                    headAuthor: "田中 太郎 <tanaka@example.jp>", headMessage: "ログイン画面を修正", updatedAt: now)
            try kaishaMain.insert(db)

            let commits: [(String, String, TimeInterval, String)] = [
                ("2e24de9c0f1b4a7e8d6c5b4a3f2e1d0c9b8a7f6e", "Ada Lovelace <ada@example.com>", 300, "Release 2.4\n\nWith notes on the second line"),
                ("1d0c9b8a7f6e2e24de9c0f1b4a7e8d6c5b4a3f2e", "Grace Hopper <grace@example.com>", 5400, "Add retry to the payment client"),
                ("0c9b8a7f6e2e24de9c0f1b4a7e8d6c5b4a3f2e1d", "Mallory <m@example.com>", 9000, "\u{1B}]52;c;cHduZWQ=\u{07}copy this"),
            ]
            var app = App(name: "web", repositoryID: api.id!, sourcePath: "bitbucket/acme/api", branch: "main", buildCommand: "make",
                          runCommand: "./run.sh", createdAt: Self.ago(3600))
            try app.insert(db)
            let deployments: [(String, DeploymentPhase, String, TimeInterval, TimeInterval?, String?)] = [
                ("1d0c9b8a7f6e2e24de9c0f1b4a7e8d6c5b4a3f2e", .superseded, "app created", 3600, 3570, nil),
                ("0c9b8a7f6e2e24de9c0f1b4a7e8d6c5b4a3f2e1d", .error, "commit 0c9b8a7 pushed to main", 1800, 1790, "step build failed: exit status 2"),
                ("2e24de9c0f1b4a7e8d6c5b4a3f2e1d0c9b8a7f6e", .active, "commit 2e24de9 pushed to main", 300, 280, nil),
                ("3c8998a1b2c3d4e5f60718293a4b5c6d7e8f9012", .building, "deployed from the dashboard", 20, nil, nil),
            ]
            for (hash, phase, cause, started, finished, error) in deployments {
                var deployment = Deployment(appID: app.id!, commitHash: hash, phase: phase, cause: cause, dedupeKey: "app:\(app.id!):\(hash)",
                                            reason: error, createdAt: Self.ago(started), finishedAt: finished.map(Self.ago))
                try deployment.insert(db)
                if phase == .error {
                    for (stream, text) in [(LogStream.system, "deploying 0c9b8a7 of bitbucket/acme/api main\n"), (.stdout, "building web v3\n"),
                                           (.stdout, "compiling " + (1...30).map { "module\($0).swift" }.joined(separator: " ") + "\n"),
                                           (.stderr, "error: \u{1B}[31mtests failed\u{1B}[0m on v3\r\n"), (.system, "step build failed: exit status 2\n")] {
                        var chunk = DeploymentLogChunk(deploymentID: deployment.id!, step: "build", stream: stream, text: text, createdAt: Self.ago(1795))
                        try chunk.insert(db)
                    }
                }
            }
            for (position, (hash, author, age, message)) in commits.enumerated() {
                var commit = Commit(repositoryID: api.id!, hash: hash, author: author, date: Self.ago(age), message: message,
                                    parents: position + 1 < commits.count ? [commits[position + 1].0] : [])
                try commit.insert(db)
                try db.execute(sql: "INSERT INTO branch_commits (branch_id, commit_id, position) VALUES (?, ?, ?)",
                               arguments: [self.mainBranchID, commit.id!, position])
            }
        }
    }
}
