import Foundation
import SlipwayCore

/// The pane under the table: everything about the selected row — the full message (each line
/// sanitized), links and the clone URL.
struct DetailView {
    let state: DashboardState

    func draw(into grid: inout CellGrid) {
        let layout = state.layout
        let top = layout.detailTop
        grid.put(String(repeating: grid.glyphs.horizontalRule, count: grid.width), x: 0, y: top, role: .border)
        grid.put(" details ", x: 2, y: top, role: .border)
        guard let item = state.current.selectedItem else { return }
        let lines = Self.lines(for: item, level: state.current, now: state.now)
        for (row, line) in lines.prefix(layout.detailHeight - 1).enumerated() {
            let y = top + 1 + row
            if line.label.isEmpty {
                grid.put(line.value, x: 2, y: y, role: .normal)
            } else {
                grid.put(line.label, x: 1, y: y, limit: 12, role: .detailLabel)
                grid.put(line.value, x: 14, y: y, role: .normal)
            }
        }
    }

    struct Line: Equatable {
        var label: String
        var value: String
    }

    static func lines(for item: Item, level: Level, now: Date) -> [Line] {
        let clean = TerminalText.sanitize
        func message(_ text: String?) -> [Line] {
            guard let text, !text.isEmpty else { return [] }
            let body = text.split(separator: "\n", omittingEmptySubsequences: false).map { Line(label: "", value: clean(String($0))) }
            return [Line(label: "message", value: body.first?.value ?? "")] + body.dropFirst()
        }
        switch item {
        case let .app(row):
            let app = row.app
            var lines = [Line(label: "app", value: clean(app.name)),
                         Line(label: "source", value: clean("\(app.sourcePath) \(app.branch)")
                              + (app.isSourceUnlinked ? "  (unlinked: link the provider again)" : app.autodeploy ? "  (deploys on push)" : "  (by hand only)")),
                         Line(label: "build", value: clean(app.buildCommand ?? "-")),
                         Line(label: "run", value: clean(app.runCommand) + (app.isService ? "  (service)" : ""))]
            if app.backend == .digitalocean {
                lines.insert(Line(label: "on", value: "App Platform" + (app.backendSettings["region"].map { ", region \(clean($0))" } ?? "")
                                  + (app.backendSettings["live_url"].map { ", \(clean($0))" } ?? "")), at: 1)
                for component in app.components {
                    lines.append(Line(label: "component", value: clean("\(component.name): \(component.source.isEmpty ? "(not from a mirrored repository)" : component.source + " " + component.branch)")))
                }
            } else {
                lines.insert(Line(label: "on", value: "this host"), at: 1)
            }
            if let active = row.activeCommit { lines.append(Line(label: "active", value: active)) }
            if let latest = row.latest {
                lines.append(Line(label: "latest", value: "#\(latest.id ?? 0) \(latest.phase.rawValue) \(clean(latest.cause))"))
                if let error = latest.reason { lines.append(Line(label: "reason", value: clean(error))) }
            }
            return lines
        case let .deployment(d, steps):
            var lines = [Line(label: "deployment", value: "#\(d.id ?? 0) \(d.phase.rawValue)"),
                         Line(label: "commit", value: d.commitHash),
                         Line(label: "cause", value: clean(d.cause)),
                         Line(label: "started", value: "\(JSONOutput.timestamp(d.createdAt)) (\(Age.ago(d.createdAt, now: now)) ago)")]
            if let finished = d.finishedAt { lines.append(Line(label: "took", value: Age.elapsed(finished.timeIntervalSince(d.createdAt)))) }
            if let error = d.reason { lines.append(Line(label: "reason", value: clean(error))) }
            // App Platform's steps nest (build → components → web): children are indented.
            for step in steps {
                lines.append(Line(label: String(repeating: "  ", count: min(step.depth, 4)) + clean(step.name), value: stepText(step, now: now)))
            }
            lines.append(Line(label: "logs", value: "enter opens them; slipway logs \(d.id ?? 0) --follow"))
            return lines
        case let .logLine(number, _, stream, text, _):
            return [Line(label: "line", value: "\(number) (\(stream.rawValue))"), Line(label: "", value: clean(text))]
        case let .provider(card):
            return accountLines(card.overview, budgets: card.budgets, now: now)
        case let .account(card):
            return accountLines(card.overview, budgets: card.budgets, now: now)
                + card.stretchedPolling.map { Line(label: "polling", value: TerminalText.sanitize($0.message)) }
        case let .workspace(w):
            return [Line(label: "workspace", value: clean(w.workspace.name ?? w.workspace.slug)),
                    Line(label: "slug", value: clean(w.workspace.slug)),
                    Line(label: "admin", value: w.workspace.isAdmin ? "yes" : "no"),
                    Line(label: "repos", value: "\(w.repositories)")]
        case let .repository(r):
            let repo = r.repository
            return [Line(label: "repository", value: clean(repo.fullName)),
                    Line(label: "main", value: clean(repo.mainBranch ?? "-") + "   branches: \(repo.branchCount)   \(repo.isPrivate ? "private" : "public")"),
                    Line(label: "pushed", value: repo.updatedOn.map { "\(Age.ago($0, now: now)) ago (\(JSONOutput.timestamp($0)))" } ?? "-"),
                    Line(label: "checked", value: repo.lastCheckedAt.map { Age.phrase($0, now: now) } ?? "not yet"),
                    Line(label: "webhook", value: webhookText(r.webhook, admin: repo.isAdmin, now: now)),
                    Line(label: "web", value: clean(repo.webURL ?? "-")),
                    Line(label: "clone", value: clean(repo.cloneURL ?? "-"))]
        case let .branch(b):
            let branch = b.branch
            let web = WebPages.branch(provider: b.provider.isEmpty ? level.provider : b.provider, repositoryWebURL: b.repositoryWebURL, name: branch.name)
            return [Line(label: "branch", value: clean(branch.name)),
                    Line(label: "head", value: branch.headHash),
                    Line(label: "author", value: clean(branch.headAuthor ?? "-")),
                    Line(label: "date", value: branch.headDate.map { "\(JSONOutput.timestamp($0)) (\(Age.ago($0, now: now)) ago)" } ?? "-"),
                    Line(label: "web", value: clean(web ?? "-")),
                    Line(label: "clone", value: clean(b.repositoryCloneURL ?? "-"))]
                // Which commit runs where: each app built from the branch, on this host or App Platform.
                + b.apps.map { app in
                    Line(label: "app", value: "\(clean(app.name)) on \(app.backend == .local ? "this host" : "App Platform"): "
                         + TableView.deployedState(app, head: branch.headHash)
                         + (app.activeCommit.map { " · serves \($0.prefix(7))" } ?? ""))
                }
                + message(branch.headMessage)
        case let .commit(c):
            return [Line(label: "commit", value: c.hash),
                    Line(label: "author", value: clean(c.author ?? "-")),
                    Line(label: "date", value: c.date.map { "\(JSONOutput.timestamp($0)) (\(Age.ago($0, now: now)) ago)" } ?? "-"),
                    Line(label: "parents", value: c.parents.map { String($0.prefix(12)) }.joined(separator: " ")),
                    Line(label: "web", value: clean(WebPages.commit(provider: level.provider, repositoryWebURL: level.webBase, hash: c.hash) ?? "-"))]
                + message(c.message)
        }
    }

    /// Who, how, what state, each budget (left, full in, resets, paused until), and the exact
    /// command to link the account again.
    static func accountLines(_ o: Store.AccountOverview, budgets: [BudgetState], now: Date) -> [Line] {
        let clean = TerminalText.sanitize
        let a = o.account
        var lines = [Line(label: "account", value: clean(AccountText.handle(a) + (a.displayName.map { " — \($0)" } ?? ""))),
                     Line(label: "email", value: clean(a.email ?? "not given (the token lacks the scope for it)")),
                     Line(label: "auth", value: "\(a.auth.rawValue)  scopes: \(clean(a.scopes.isEmpty ? "-" : a.scopes.joined(separator: " ")))"
                         + "  token: " + (a.tokenExpiresAt.map { $0 > now ? "expires in \(Age.duration($0.timeIntervalSince(now)))" : "expired" } ?? "does not expire")),
                     Line(label: "status", value: AccountText.status(o, now: now) + (a.statusMessage.map { " — \(clean($0))" } ?? ""))]
        for budget in budgets.map({ $0.reading(now: now) }).sorted(by: { $0.kind > $1.kind }) {
            lines.append(Line(label: budget.isREST ? "REST budget" : "\(budget.kind) budget", value: AccountText.budgetDetail(budget, now: now)))
        }
        lines.append(Line(label: a.status == .needsRelink ? "relink now" : "relink", value: AccountText.relinkCommand(a) + "  (y copies it)"))
        return lines
    }

    /// `succeeded in 4.2s`, `running for 12s`, `pending`.
    static func stepText(_ step: DeploymentStep, now: Date) -> String {
        switch (step.startedAt, step.finishedAt) {
        case let (start?, end?): "\(step.status.rawValue) in \(Age.elapsed(end.timeIntervalSince(start)))"
        case let (start?, nil): "\(step.status.rawValue) for \(Age.elapsed(now.timeIntervalSince(start)))"
        default: step.status.rawValue
        }
    }

    /// `delivering · last push 2m ago`, `failing since 5m: …`, or how to get one.
    static func webhookText(_ health: WebhookHealth?, admin: Bool, now: Date) -> String {
        switch health {
        case let .healthy(last)?:
            "delivering · last push \(Age.ago(last, now: now)) ago · polled slowly"
        case let .waiting(since)?:
            "installed \(Age.ago(since, now: now)) ago · waiting for its first push (polled as usual until then)"
        case let .failing(since, message)?:
            "failing since \(Age.ago(since, now: now)): \(TerminalText.sanitize(message)) · polled as usual"
        case nil:
            admin ? "none · press w to install (pushes then show at once)" : "none · installing one needs admin"
        }
    }
}
