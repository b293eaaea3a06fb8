import Foundation
import SlipwayCore

/// The list of the current level: column headers, the visible rows, the selection, filter
/// matches, changed rows marked for a moment, stale rows dimmed.
struct TableView {
    let state: DashboardState

    func draw(into grid: inout CellGrid) {
        let layout = state.layout
        let level = state.current
        let columns = Self.columns(for: level.kind)
        let markWidth = 2
        let widths = Column.widths(columns, total: layout.width - markWidth)
        grid.fill(y: layout.columnHeaderRow, role: .columnHeader)
        var x = markWidth
        for (column, width) in zip(columns, widths) where width > 0 {
            grid.put(column.title, x: column.alignRight ? x + max(0, width - column.title.count) : x, y: layout.columnHeaderRow, limit: width, role: .columnHeader)
            x += width + 1
        }
        if let error = level.loadError {
            grid.put("Cannot read this list: \(TerminalText.sanitize(error))", x: 2, y: layout.tableTop, role: .error)
            return
        }
        if level.loaded && level.total == 0 {
            drawEmpty(level, into: &grid)
            return
        }
        let stale = Freshness.of(state.header.card(accountID: level.kind.accountID), now: state.now, engine: state.header.engine) != .fresh
        for (row, index) in state.visibleRange.enumerated() where index < level.total {
            let y = layout.tableTop + row
            guard let item = level.item(at: index) else {
                grid.put(grid.glyphs.ellipsis, x: markWidth, y: y, role: .dim)
                continue
            }
            let selected = index == level.selection
            let path = item.path(provider: level.provider, commitsOf: level.path)
            let changed = state.isRecentlyChanged(path)
            let base: StyleRole = selected ? .selected : (changed ? .changed : (stale ? .stale : .row))
            grid.fill(y: y, role: base)
            if changed { grid.put(grid.glyphs.changedMark, x: 0, y: y, limit: 1, role: selected ? .selected : .changed) }
            let spinner = grid.glyphs.spinner[state.spinnerPhase % grid.glyphs.spinner.count]
            let cells = Self.cells(for: item, level: level, now: state.now, glyphs: grid.glyphs, spinner: spinner)
            var x = markWidth
            for ((column, width), text) in zip(zip(columns, widths), cells) where width > 0 {
                let start = column.alignRight ? x + max(0, width - DisplayWidth.of(text)) : x
                let matches = Highlight.ranges(of: level.filter, in: text)
                let matchRole: StyleRole = selected ? .selectedMatch : .match
                var plainRole: StyleRole = column.title == "HEAD" || column.title == "HASH" ? (selected ? .selected : .hash) : base
                if column.title == "PHASE" || column.title == "LATEST DEPLOYMENT", !selected, let phase = Self.phaseRole(text) { plainRole = phase }
                if column.title == "APPS", !selected, case .branch = item, let role = Self.deployedRole(text) { plainRole = role }
                if column.title == "OUTPUT", !selected, case let .logLine(_, _, stream, _, _) = item, stream != .stdout { plainRole = stream == .stderr ? .error : .dim }
                grid.put(text, x: start, y: y, limit: width) { offset in matches.contains(offset) ? matchRole : plainRole }
                x += width + 1
            }
        }
    }

    private func drawEmpty(_ level: Level, into grid: inout CellGrid) {
        let lines: [String]
        if !level.filter.isEmpty {
            lines = ["Nothing matches “\(TerminalText.sanitize(level.filter))”.", "Esc clears the filter."]
        } else {
            switch level.kind {
            case .providers, .accounts:
                lines = ["No accounts linked yet. In a shell, run:", "  slipway link bitbucket --token-file -",
                         "or try everything against a local sandbox:", "  slipway demo"]
            case .workspaces:
                lines = ["No workspaces yet: the first sync is on its way."]
            case .repositories:
                lines = ["No repositories here (yet)."]
            case .branches:
                lines = ["No branches here (yet)."]
            case .commits:
                lines = [state.pendingCommands.isEmpty ? "No commits stored for this branch; press r to fetch them." : "Fetching commits…"]
            case .apps:
                lines = ["No apps yet. An app builds and runs a branch on this host; in a shell:",
                         "  slipway apps create NAME --source bitbucket/WS/REPO --branch main --build make --run ./run.sh"]
            case .deployments:
                lines = ["No deployments yet; d deploys the branch's head now."]
            case .log:
                lines = ["No output yet."]
            }
        }
        for (offset, line) in lines.enumerated() where state.layout.tableTop + 1 + offset < state.layout.statusRow {
            grid.put(line, x: 2, y: state.layout.tableTop + 1 + offset, role: .dim)
        }
    }

    // MARK: Columns per level

    static func columns(for kind: LevelKind) -> [Column] {
        switch kind {
        case .providers:
            [Column("PROVIDER", min: 9), Column("ACCOUNT", min: 10, weight: 2), Column("STATUS", min: 12, weight: 1, max: 30),
             Column("BUDGETS LEFT", min: 12, weight: 1, max: 40, optional: true), Column("WORKSPACES", min: 10, optional: true, alignRight: true), Column("REPOS", min: 6, optional: true, alignRight: true),
             Column("SYNCED", min: 6, alignRight: true)]
        case .workspaces:
            [Column("NAME", min: 12, weight: 2), Column("SLUG", min: 10, weight: 1), Column("REPOS", min: 6, alignRight: true),
             Column("ADMIN", min: 5, optional: true)]
        case let .repositories(accountID, workspaceID):
            (accountID == nil && workspaceID == nil ? [Column("PROVIDER", min: 9)] : [])
                + (workspaceID == nil ? [Column("WORKSPACE", min: 10, weight: 1, max: 24)] : [])
                + [Column("NAME", min: 12, weight: 3), Column("MAIN BRANCH", min: 11, weight: 1, max: 24, optional: true),
                   Column("BRANCHES", min: 8, alignRight: true), Column("PUSHED", min: 6, alignRight: true), Column("ADMIN", min: 5, optional: true),
                   Column("HOOK", min: 4, optional: true), Column("APPS", min: 12, weight: 1, max: 30, optional: true)]
        case let .branches(accountID, repositoryID):
            (accountID == nil && repositoryID == nil ? [Column("PROVIDER", min: 9)] : [])
                + (repositoryID == nil ? [Column("REPOSITORY", min: 10, weight: 1, max: 28)] : [])
                + [Column("BRANCH", min: 12, weight: 2, max: 48), Column("HEAD", min: 7), Column("AUTHOR", min: 10, weight: 1, max: 22, optional: true),
                   Column("AGE", min: 4, alignRight: true), Column("SUBJECT", min: 10, weight: 3, optional: true),
                   Column("APPS", min: 12, weight: 1, max: 30, optional: true)]
        case .commits:
            [Column("HASH", min: 7), Column("AUTHOR", min: 10, weight: 1, max: 22), Column("AGE", min: 4, alignRight: true),
             Column("SUBJECT", min: 10, weight: 4)]
        case .apps:
            [Column("NAME", min: 10, weight: 1, max: 24), Column("ON", min: 12, optional: true), Column("SOURCE", min: 14, weight: 2, optional: true),
             Column("BRANCH", min: 8, weight: 1, max: 24),
             Column("LIVE", min: 7), Column("LATEST DEPLOYMENT", min: 17), Column("AGE", min: 4, alignRight: true), Column("TOOK", min: 5, optional: true, alignRight: true)]
        case .deployments:
            [Column("ID", min: 5, alignRight: true), Column("COMMIT", min: 7), Column("PHASE", min: 16), Column("CAUSE", min: 12, weight: 3),
             Column("AGE", min: 4, alignRight: true), Column("TOOK", min: 5, alignRight: true)]
        case .log:
            [Column("LINE", min: 5, alignRight: true), Column("OUTPUT", min: 20, weight: 1)]
        case .accounts:
            [Column("PROVIDER", min: 9), Column("USER", min: 8, weight: 1, max: 24), Column("AUTH", min: 6, optional: true),
             Column("STATUS", min: 12, weight: 1, max: 28), Column("TOKEN EXPIRES", min: 13, optional: true),
             Column("REST LEFT", min: 11, optional: true, alignRight: true), Column("GIT LEFT", min: 13, optional: true, alignRight: true),
             Column("SCOPES", min: 8, weight: 1, optional: true)]
        }
    }

    /// The sanitized texts of a row, one per column.
    /// `web ACTIVE, api ERROR`: the apps built from a row and their newest deployment's phase.
    static func appsText(_ apps: [Store.AppState]) -> String {
        apps.map { "\($0.name) \($0.phase?.rawValue ?? "new")" }.joined(separator: ", ")
    }

    /// What a branch row says of an app built from it: its deployment under way, where it
    /// failed, or how far the head is ahead of the commit it serves ("web 3 commits behind").
    static func whereDeployed(_ app: Store.AppState, head: String) -> String {
        "\(app.name) \(deployedState(app, head: head))"
    }

    /// The same, without the app's name (the detail pane names it first).
    static func deployedState(_ app: Store.AppState, head: String) -> String {
        let short = { (hash: String?) in hash.map { String($0.prefix(7)) } ?? "?" }
        switch app.phase {
        case nil: return "never deployed"
        case .pendingBuild?, .building?, .pendingDeploy?, .deploying?: return "deploying \(short(app.latestCommit))"
        case .error?: return "failed at \(app.failedStep ?? "build")"
        case .canceled?: return "canceled"
        case .active?, .superseded?, .unknown?: break
        }
        guard let served = app.activeCommit else { return app.phase?.rawValue ?? "" }
        if served == head || app.behind == 0 { return "live" }
        if let behind = app.behind { return "\(behind) commit\(behind == 1 ? "" : "s") behind" }
        return "runs \(short(served))"
    }

    /// The worst news of a branch's APPS cell sets its colour.
    static func deployedRole(_ text: String) -> StyleRole? {
        if text.contains(" failed at ") { return .phaseError }
        if text.contains(" deploying ") { return .phaseDeploying }
        if text.contains(" behind") || text.contains(" runs ") { return .phaseSuperseded }
        if text.hasSuffix(" live") || text.contains(" live,") { return .phaseActive }
        return nil
    }

    /// ✓ for a delivering webhook, ○ for one waiting for its first push, ✗ for a failing one, blank without one.
    static func hookText(_ health: WebhookHealth?, glyphs: Glyphs) -> String {
        switch health {
        case nil: ""
        case .healthy?: glyphs.hookHealthy
        case .waiting?: glyphs.hookWaiting
        case .failing?: glyphs.hookFailing
        }
    }

    /// `⠋ BUILDING` while it runs, the phase alone once it is settled.
    static func phaseText(_ phase: DeploymentPhase, spinner: String) -> String {
        phase.isInProgress ? "\(spinner) \(phase.rawValue)" : phase.rawValue
    }

    /// How long it took; while it runs, how long it has run so far (`12s…`); `-` while queued.
    static func took(_ d: Deployment, now: Date) -> String {
        if let finished = d.finishedAt { return Age.elapsed(finished.timeIntervalSince(d.createdAt)) }
        guard d.phase.isInProgress, d.phase != .pendingBuild else { return d.phase == .pendingBuild ? "-" : Age.elapsed(d.updatedAt.timeIntervalSince(d.createdAt)) }
        return Age.elapsed(now.timeIntervalSince(d.createdAt)) + "…"
    }

    static func phaseRole(_ text: String) -> StyleRole? {
        let name = text.split(separator: " ").last.map(String.init) ?? text
        return StyleRole(rawValue: name).flatMap { [.phasePendingBuild, .phaseBuilding, .phasePendingDeploy, .phaseDeploying, .phaseActive,
                                                     .phaseSuperseded, .phaseError, .phaseCanceled].contains($0) ? $0 : nil }
    }

    static func cells(for item: Item, level: Level, now: Date, glyphs: Glyphs, spinner: String = "*") -> [String] {
        let clean = TerminalText.sanitize
        switch item {
        case let .provider(card):
            let o = card.overview
            let a = o.account
            return [a.providerName, clean(AccountText.handle(a) + (a.displayName.map { " (\($0))" } ?? "")),
                    AccountText.status(o, paused: card.pausedUntil(now: now), now: now), AccountText.budgets(card.budgets, now: now),
                    "\(o.workspaces)", "\(o.repositories)", Age.ago(o.lastActivityAt, now: now)]
        case let .workspace(w):
            return [clean(w.workspace.name ?? w.workspace.slug), clean(w.workspace.slug), "\(w.repositories)", w.workspace.isAdmin ? glyphs.adminMark : ""]
        case let .repository(r):
            let repo = r.repository
            let cells = [clean(repo.name), clean(repo.mainBranch ?? "-"), "\(repo.branchCount)", Age.ago(repo.updatedOn, now: now),
                         repo.isAdmin ? glyphs.adminMark : "", hookText(r.webhook, glyphs: glyphs), appsText(r.apps)]
            if case .repositories(nil, nil) = level.kind { return [r.provider, clean(r.workspaceSlug)] + cells }
            if case .repositories(_, nil) = level.kind { return [clean(r.workspaceSlug)] + cells }
            return cells
        case let .branch(b):
            let branch = b.branch
            let cells = [clean(branch.name), String(branch.headHash.prefix(7)), clean(AccountText.authorName(branch.headAuthor)),
                         Age.ago(branch.headDate, now: now), clean(AccountText.subject(branch.headMessage)),
                         b.apps.map { whereDeployed($0, head: branch.headHash) }.joined(separator: ", ")]
            if case .branches(nil, nil) = level.kind { return [b.provider, clean("\(b.workspaceSlug)/\(b.repositorySlug)")] + cells }
            if case .branches(_, nil) = level.kind { return [clean("\(b.workspaceSlug)/\(b.repositorySlug)")] + cells }
            return cells
        case let .commit(c):
            return [String(c.hash.prefix(7)), clean(AccountText.authorName(c.author)), Age.ago(c.date, now: now), clean(AccountText.subject(c.message))]
        case let .app(row):
            let latest = row.latest
            // Where it runs: this host, or App Platform's region; more components than one are counted.
            let on = row.app.backend == .local ? "local" : "do " + clean(row.app.backendSettings["region"] ?? "")
            let more = row.app.components.count > 1 ? " +\(row.app.components.count - 1)" : ""
            return [clean(row.app.name), on, clean(row.app.sourcePath) + more + (row.app.isSourceUnlinked ? " (unlinked)" : ""), clean(row.app.branch), row.activeCommit.map { String($0.prefix(7)) } ?? "-",
                    // The latest deployment's number and phase: not a verdict on the live commit.
                    latest.map { "#\($0.id ?? 0) " + phaseText($0.phase, spinner: spinner) } ?? "never deployed", Age.ago(latest?.createdAt, now: now),
                    latest.map { took($0, now: now) } ?? "-"]
        case let .deployment(d, _):
            return ["#\(d.id ?? 0)", String(d.commitHash.prefix(7)), phaseText(d.phase, spinner: spinner), clean(d.cause + (d.reason.map { ": \($0)" } ?? "")),
                    Age.ago(d.createdAt, now: now), took(d, now: now)]
        case let .logLine(number, part, _, text, _):
            return [part == 0 ? "\(number)" : "", clean(text)]
        case let .account(card):
            let o = card.overview
            let a = o.account
            let readings = card.budgets.map { $0.reading(now: now) }
            let rest = readings.first(where: \.isREST)
            let git = readings.first(where: \.isGit)
            return [a.providerName, clean(AccountText.handle(a)), a.auth.rawValue, AccountText.status(o, paused: card.pausedUntil(now: now), now: now),
                    a.tokenExpiresAt.map { $0 > now ? "in \(Age.duration($0.timeIntervalSince(now)))" : "expired" } ?? "never",
                    AccountText.budget(rest, now: now), AccountText.budget(git, now: now), clean(a.scopes.joined(separator: " "))]
        }
    }
}

/// Texts about accounts, authors and messages shared by the table, header and detail pane.
enum AccountText {
    /// `@user`, or what stands for it where there is no account (public Git).
    static func handle(_ a: Account) -> String { a.auth == .none ? "public repositories" : "@\(a.username)" }

    static func status(_ o: Store.AccountOverview, paused: Date? = nil, now: Date) -> String {
        let a = o.account
        if a.status == .needsRelink { return "needs relink" }
        if let paused { return "paused \(Age.countdown(paused.timeIntervalSince(now)))" }
        if a.status == .rateLimited { return "rate limited" }
        if !o.initialSyncDone { return o.repositories == 0 ? "syncing" : "syncing \(o.repositoriesChecked)/\(o.repositories)" }
        if let error = o.lastError { return "ok (\(TerminalText.sanitize(error)))" }
        return "ok"
    }

    /// Every window of an account's budgets, shortest first: `rest 612/800 · git 47k/48k`,
    /// a per-minute window as `/min`, a paused one with its countdown.
    static func budgets(_ budgets: [BudgetState], now: Date) -> String {
        func count(_ value: Double) -> String { value >= 10_000 ? "\(Int(value / 1000))k" : "\(Int(value))" }
        return budgets.map { $0.reading(now: now) }.sorted { $0.kind > $1.kind }.map { reading in
            if let paused = reading.pausedUntil { return "\(reading.kind) paused \(Age.countdown(paused.timeIntervalSince(now)))" }
            let minute = reading.minute.map { " (\(count($0.tokens))/\(count($0.capacity))/min)" } ?? ""
            return "\(reading.kind) \(count(Double(reading.left)))/\(count(reading.hour.capacity))\(minute)"
        }.joined(separator: " · ")
    }

    static func budget(_ reading: BudgetReading?, now: Date) -> String {
        guard let budget = reading else { return "-" }
        if let paused = budget.pausedUntil { return "paused \(Age.countdown(paused.timeIntervalSince(now)))" }
        return "\(budget.left)/\(Int(budget.hour.capacity))"
    }

    /// `612 of 800 left, full in 14m, provider resets in 20m` or `paused until 12:04:10Z (4m12s)`.
    static func budgetDetail(_ budget: BudgetReading, now: Date) -> String {
        if let paused = budget.pausedUntil {
            return "paused until \(JSONOutput.timestamp(paused)) (\(Age.countdown(paused.timeIntervalSince(now)))) after \(budget.consecutiveRateLimits) rate limit\(budget.consecutiveRateLimits == 1 ? "" : "s")"
        }
        var text = "\(Int(budget.hour.tokens)) of \(Int(budget.hour.capacity)) left"
        if let fullIn = budget.fullIn {
            text += ", full in \(Age.duration(fullIn))"
        } else {
            text += ", full"
        }
        if let minute = budget.minute {
            text += "; \(Int(minute.tokens)) of \(Int(minute.capacity)) this minute"
        }
        if let remaining = budget.providerRemaining, let limit = budget.providerLimit {
            text += "; provider says \(remaining)/\(limit)"
            if let reset = budget.providerResetsAt, reset > now { text += ", resets in \(Age.duration(reset.timeIntervalSince(now)))" }
        }
        return text
    }

    /// The command that re-authenticates an account in place (`--relink` keeps its URLs, mirror,
    /// apps and hooks); secrets are read from stdin, never put on the command line.
    static func relinkCommand(_ a: Account) -> String {
        var command = "slipway link \(a.providerName) --relink"
        switch a.auth {
        case .token: command += " --token-file -"
        case .apiToken: command += " --email \(TerminalText.sanitize(a.loginEmail ?? "EMAIL")) --token-file -"
        case .oauth: command += " --oauth" + (a.clientID.map { " --client-id \(TerminalText.sanitize($0)) --client-secret -" } ?? "")
        case .clientCredentials: command += " --client-credentials --client-id \(TerminalText.sanitize(a.clientID ?? "ID")) --client-secret -"
        case .device: command += " --device" + (a.clientID.map { " --client-id \(TerminalText.sanitize($0))" } ?? "")
        // Public repositories hold no credential to renew: more are added by URL.
        case .none: return "slipway repos add URL"
        }
        return command
    }

    /// "Ada Lovelace <ada@example.com>" → "Ada Lovelace".
    static func authorName(_ raw: String?) -> String {
        guard let raw, !raw.isEmpty else { return "-" }
        if let bracket = raw.firstIndex(of: "<") {
            let name = raw[..<bracket].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty { return name }
        }
        return raw
    }

    /// The first line of a message.
    static func subject(_ message: String?) -> String {
        guard let message else { return "" }
        let line = message.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" }.first.map(String.init) ?? ""
        // Trimmed of what `CharacterSet.whitespaces` holds (tab and the space separators), without
        // the round trip through NSString that cost a frame a millisecond.
        let blank = { (character: Character) in
            character == " " || character.unicodeScalars.allSatisfy { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
        }
        guard let first = line.firstIndex(where: { !blank($0) }), let last = line.lastIndex(where: { !blank($0) }) else { return "" }
        return String(line[first...last])
    }
}

/// Which character offsets of a cell match the filter (case-insensitive).
enum Highlight {
    static func ranges(of needle: String, in text: String) -> Set<Int> {
        guard !needle.isEmpty else { return [] }
        let hay = Array(text.lowercased())
        let pin = Array(needle.lowercased())
        guard hay.count == text.count, pin.count <= hay.count else { return [] }
        var hits = Set<Int>()
        var start = 0
        while start + pin.count <= hay.count {
            if hay[start] == pin[0], hay[start..<(start + pin.count)].elementsEqual(pin) {
                hits.formUnion(start..<(start + pin.count))
                start += pin.count
            } else {
                start += 1
            }
        }
        return hits
    }
}
