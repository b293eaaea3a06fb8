import Foundation

/// Bitbucket's JSON shapes, built from the world. Field names and nesting follow the documented
/// schema and the recorded examples (`type` on every object, `links` with `href`s, `target` on
/// branches, `author.raw` on commits).
struct WireFormat {
    /// `http://127.0.0.1:PORT` — the API lives under `/2.0`, git under `/git`, web pages at the root.
    let origin: String

    var api: String { origin + "/2.0" }

    // MARK: Timestamps, in the shapes Bitbucket sends

    /// `2026-11-20T10:11:12.345678+00:00`
    static func microseconds(_ date: Date) -> String {
        let (whole, fraction) = split(date)
        return whole + String(format: ".%06d", Int((fraction * 1_000_000).rounded(.down))) + "+00:00"
    }

    /// `2026-11-20T10:11:12.345678912Z`
    static func nanoseconds(_ date: Date) -> String {
        let (whole, fraction) = split(date)
        return whole + String(format: ".%09d", Int((fraction * 1_000_000_000).rounded(.down))) + "Z"
    }

    /// `2026-11-20T10:11:12+00:00` (commit dates carry whole seconds)
    static func seconds(_ date: Date) -> String {
        split(date).whole + "+00:00"
    }

    /// Made once: building a calendar and its time zone costs more than the formatting.
    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    private static func split(_ date: Date) -> (whole: String, fraction: Double) {
        let interval = date.timeIntervalSince1970
        let wholeSeconds = interval.rounded(.down)
        let c = utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: wholeSeconds))
        // By hand: `String(format:)` was a twentieth of the sandbox's CPU under a webhook load.
        let whole = padded(c.year!, 4) + "-" + padded(c.month!, 2) + "-" + padded(c.day!, 2) + "T"
            + padded(c.hour!, 2) + ":" + padded(c.minute!, 2) + ":" + padded(c.second!, 2)
        return (whole, interval - wholeSeconds)
    }

    /// `value` in decimal with leading zeros to `width` digits (`%0Nd`).
    static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/{}"))) ?? segment
    }

    static func link(_ href: String) -> [String: Any] { ["href": href] }

    // MARK: Objects

    /// `/user/emails`: the primary, confirmed address and an unconfirmed one, as Bitbucket lists
    /// confirmed and unconfirmed alike.
    func emails(_ u: SandboxUser) -> [[String: Any]] {
        let unconfirmed = "\(u.nickname).old@example.net"
        return [(u.email, true, true), (unconfirmed, false, false)].map { address, primary, confirmed in
            ["is_primary": primary, "is_confirmed": confirmed, "type": "email", "email": address,
             "links": ["self": Self.link("\(api)/user/emails/\(Self.escape(address))")]]
        }
    }

    func user(_ u: SandboxUser) -> [String: Any] {
        let id = Self.escape(u.uuid)
        return [
            "type": "user", "uuid": u.uuid, "account_id": u.accountID, "nickname": u.nickname, "display_name": u.displayName,
            "username": u.nickname, "account_status": "active", "created_on": Self.microseconds(u.createdOn),
            "has_2fa_enabled": NSNull(), "is_staff": false, "location": NSNull(),
            "links": [
                "self": Self.link("\(api)/users/\(id)"), "html": Self.link("\(origin)/\(id)/"),
                "avatar": Self.link("\(origin)/account/\(id)/avatar/"), "repositories": Self.link("\(api)/repositories/\(id)"),
                "snippets": Self.link("\(api)/snippets/\(id)"), "hooks": Self.link("\(api)/workspaces/\(id)/hooks"),
            ],
        ]
    }

    func workspaceBase(_ w: SandboxWorkspace) -> [String: Any] {
        [
            "type": "workspace_base", "uuid": w.uuid, "slug": w.slug,
            "links": ["avatar": Self.link("\(origin)/workspaces/\(w.slug)/avatar/"), "self": Self.link("\(api)/workspaces/\(w.slug)")],
        ]
    }

    func workspaceAccess(_ w: SandboxWorkspace) -> [String: Any] {
        ["type": "workspace_access", "administrator": w.isAdmin, "workspace": workspaceBase(w)]
    }

    func workspace(_ w: SandboxWorkspace) -> [String: Any] {
        [
            "type": "workspace", "uuid": w.uuid, "slug": w.slug, "name": w.name, "is_private": w.isPrivate, "is_personal": false,
            "is_privacy_enforced": false, "forking_mode": "allow_forks",
            "created_on": Self.microseconds(w.createdOn), "updated_on": Self.nanoseconds(w.createdOn),
            "links": [
                "self": Self.link("\(api)/workspaces/\(w.slug)"), "html": Self.link("\(origin)/\(w.slug)/"),
                "avatar": Self.link("\(origin)/workspaces/\(w.slug)/avatar/"), "members": Self.link("\(api)/workspaces/\(w.slug)/members"),
                "owners": Self.link("\(api)/workspaces/\(w.slug)/members?q=permission%3D%22owner%22"),
                "projects": Self.link("\(api)/workspaces/\(w.slug)/projects"), "repositories": Self.link("\(api)/repositories/\(w.slug)"),
                "snippets": Self.link("\(api)/snippets/\(w.slug)"),
            ],
        ]
    }

    func cloneURL(_ r: SandboxRepository) -> String { "\(origin)/git/\(r.workspace)/\(r.slug).git" }

    func repository(_ r: SandboxRepository, workspace w: SandboxWorkspace) -> [String: Any] {
        let base = "\(api)/repositories/\(r.fullName)"
        // Bitbucket's timestamps come in more than one shape; consumers must take both.
        let stamp = r.slug.count.isMultiple(of: 2) ? Self.nanoseconds : Self.microseconds
        return [
            "type": "repository", "uuid": r.uuid, "full_name": r.fullName, "name": r.name, "slug": r.slug, "scm": "git",
            "is_private": r.isPrivate, "description": r.description, "language": r.language, "size": 1024 * (r.commits.count + 10),
            "has_issues": false, "has_wiki": false, "fork_policy": "no_public_forks", "website": NSNull(),
            "created_on": stamp(r.createdOn), "updated_on": stamp(r.updatedOn),
            "mainbranch": ["type": "branch", "name": r.mainBranch],
            "owner": [
                "type": "team", "uuid": w.uuid, "username": w.slug, "display_name": w.name, "nickname": w.slug, "account_id": NSNull(),
                "links": ["self": Self.link("\(api)/workspaces/\(w.slug)"), "html": Self.link("\(origin)/\(w.slug)/"),
                          "avatar": Self.link("\(origin)/workspaces/\(w.slug)/avatar/")],
            ],
            "workspace": ["type": "workspace", "uuid": w.uuid, "slug": w.slug, "name": w.name,
                          "links": ["self": Self.link("\(api)/workspaces/\(w.slug)"), "html": Self.link("\(origin)/\(w.slug)/"),
                                    "avatar": Self.link("\(origin)/workspaces/\(w.slug)/avatar/")]],
            "project": ["type": "project", "key": "PROJ", "name": "Main", "uuid": w.uuid,
                        "links": ["self": Self.link("\(api)/workspaces/\(w.slug)/projects/PROJ"),
                                  "html": Self.link("\(origin)/\(w.slug)/workspace/projects/PROJ"),
                                  "avatar": Self.link("\(origin)/\(w.slug)/workspace/projects/PROJ/avatar/32")]],
            "override_settings": ["default_merge_strategy": false, "branching_model": false, "branch_restrictions": false],
            "enforced_signed_commits": NSNull(),
            "parent": NSNull(),
            "links": [
                "self": Self.link(base), "html": Self.link("\(origin)/\(r.fullName)"),
                "avatar": Self.link("\(origin)/\(r.fullName)/avatar/"), "branches": Self.link("\(base)/refs/branches"),
                "tags": Self.link("\(base)/refs/tags"), "commits": Self.link("\(base)/commits"), "hooks": Self.link("\(base)/hooks"),
                "pullrequests": Self.link("\(base)/pullrequests"), "forks": Self.link("\(base)/forks"),
                "watchers": Self.link("\(base)/watchers"), "downloads": Self.link("\(base)/downloads"), "source": Self.link("\(base)/src"),
                "clone": [["name": "https", "href": cloneURL(r)], ["name": "ssh", "href": "git@127.0.0.1:\(r.fullName).git"]],
            ],
        ]
    }

    func commit(_ c: SandboxCommit, in r: SandboxRepository) -> [String: Any] {
        let base = "\(api)/repositories/\(r.fullName)"
        return [
            "type": "commit", "hash": c.hash, "date": Self.seconds(c.date), "message": c.message,
            "author": ["type": "author", "raw": c.author],
            "summary": ["type": "rendered", "raw": c.message, "markup": "markdown", "html": "<p>\(Self.html(c.message))</p>"],
            "parents": c.parents.map { p in
                ["type": "commit", "hash": p, "links": ["self": Self.link("\(base)/commit/\(p)"), "html": Self.link("\(origin)/\(r.fullName)/commits/\(p)")]]
            },
            "repository": ["type": "repository", "name": r.name, "full_name": r.fullName, "uuid": r.uuid,
                           "links": ["self": Self.link(base), "html": Self.link("\(origin)/\(r.fullName)")]],
            "links": [
                "self": Self.link("\(base)/commit/\(c.hash)"), "html": Self.link("\(origin)/\(r.fullName)/commits/\(c.hash)"),
                "diff": Self.link("\(base)/diff/\(c.hash)"), "patch": Self.link("\(base)/patch/\(c.hash)"),
                "comments": Self.link("\(base)/commit/\(c.hash)/comments"), "statuses": Self.link("\(base)/commit/\(c.hash)/statuses"),
                "approve": Self.link("\(base)/commit/\(c.hash)/approve"),
            ],
            "rendered": ["message": ["type": "rendered", "raw": c.message, "markup": "markdown", "html": "<p>\(Self.html(c.message))</p>"]],
        ]
    }

    func branch(_ name: String, in r: SandboxRepository) -> [String: Any] {
        let base = "\(api)/repositories/\(r.fullName)"
        let encoded = Self.escape(name)
        return [
            "type": "branch", "name": name, "target": commit(r.commits[r.branches[name]!]!, in: r),
            "merge_strategies": ["merge_commit", "squash", "fast_forward"], "default_merge_strategy": "merge_commit",
            "links": [
                "self": Self.link("\(base)/refs/branches/\(encoded)"), "commits": Self.link("\(base)/commits/\(encoded)"),
                "html": Self.link("\(origin)/\(r.fullName)/branch/\(encoded)"),
            ],
        ]
    }

    static func html(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }) else { return text }
        return text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func error(_ message: String, detail: String? = nil) -> [String: Any] {
        var error: [String: Any] = ["message": message]
        if let detail { error["detail"] = detail }
        return ["type": "error", "error": error]
    }
}
