import Foundation
import Testing
@testable import SlipwaySandbox
import SlipwayHTTP

/// The sandbox's JSON has the documented shapes: every field of the reference example is there,
/// with the same kind of value. (Fields the real API sends only sometimes are named as optional.)
@Suite("Sandbox shapes match Bitbucket's", .timeLimit(.minutes(3)))
struct ShapeTests {
    @Test("every endpoint's shape")
    func shapes() async throws {
        let h = try await SandboxHarness.start()
        defer { Task { await h.stop() } }
        let ws = h.server.service.workspaceSlugs()[0]
        let repo = h.server.service.repositorySlugs(workspace: ws)[0]
        let branches = h.server.service.branches(workspace: ws, repository: repo)
        let main = try #require(branches.keys.first { $0 == "main" || $0 == "master" })

        let cases: [(fixture: String, path: String, optional: [String])] = [
            ("user.json", "/2.0/user", []),
            ("user_workspaces_page.json", "/2.0/user/workspaces", []),
            ("workspaces_page_deprecated.json", "/2.0/workspaces", []),
            ("repositories_page.json", "/2.0/repositories/\(ws)?pagelen=10", ["next"]),
            ("repository.json", "/2.0/repositories/\(ws)/\(repo)", ["mainbranch.merge_strategies", "mainbranch.default_merge_strategy", "owner.has_2fa_enabled", "owner.is_staff",
                                                               "owner.location", "owner.account_status", "owner.created_on"]),
            ("branches_page.json", "/2.0/repositories/\(ws)/\(repo)/refs/branches?pagelen=100",
             ["values[].target.author.user", "values[].target.parents[].links.html", "values[].target.repository.links.avatar"]),
            ("branch.json", "/2.0/repositories/\(ws)/\(repo)/refs/branches/\(main)",
             ["target.author.user", "target.parents[].links.html", "target.repository.links.avatar"]),
            ("commits_page.json", "/2.0/repositories/\(ws)/\(repo)/commits/\(main)",
             ["values[].author.user", "values[].repository.links.avatar", "values[].links.approve", "values[].links.statuses", "values[].summary"]),
            ("commit.json", "/2.0/repositories/\(ws)/\(repo)/commit/\(branches[main]!)",
             ["author.user", "participants", "repository.links.avatar", "links.approve", "links.statuses", "links.comments", "summary", "rendered"]),
        ]
        for c in cases {
            let sandbox = try await h.json(c.path)
            let problems = Shape.differences(reference: try Shape.fixture(c.fixture), sandbox: sandbox, optional: c.optional)
            #expect(problems.isEmpty, "\(c.path) vs \(c.fixture): \(problems.joined(separator: "; "))")
        }
        let missing = try await h.get("/2.0/repositories/\(ws)/no-such-repo")
        #expect(missing.status == 404)
        let problems = Shape.differences(reference: try Shape.fixture("error_404.json"),
                                         sandbox: try JSONSerialization.jsonObject(with: missing.body))
        #expect(problems.isEmpty, "error envelope: \(problems)")
    }

    @Test("workspaces from /user/workspaces carry no name; /workspaces/{ws} does")
    func workspaceNames() async throws {
        let h = try await SandboxHarness.start()
        defer { Task { await h.stop() } }
        let page = try await h.json("/2.0/user/workspaces")
        let first = try #require((page["values"] as? [[String: Any]])?.first?["workspace"] as? [String: Any])
        #expect(first["name"] == nil)
        let slug = try #require(first["slug"] as? String)
        let workspace = try await h.json("/2.0/workspaces/\(slug)")
        #expect((workspace["name"] as? String)?.isEmpty == false)
        // Also by uuid, as Bitbucket allows.
        let byUUID = try await h.json("/2.0/workspaces/\((first["uuid"] as! String).addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
        #expect(byUUID["slug"] as? String == slug)
    }

    @Test("timestamps come in Bitbucket's shapes: +00:00 with microseconds, Z with nanoseconds, whole seconds on commits")
    func timestamps() async throws {
        let h = try await SandboxHarness.start()
        defer { Task { await h.stop() } }
        let ws = h.server.service.workspaceSlugs()[0]
        let repos = try await h.allValues("/2.0/repositories/\(ws)")
        let stamps = repos.compactMap { $0["updated_on"] as? String }
        #expect(stamps.contains { $0.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$"#, options: .regularExpression) != nil })
        #expect(stamps.contains { $0.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$"#, options: .regularExpression) != nil })
        let repo = try #require(repos.first?["slug"] as? String)
        let commits = try await h.json("/2.0/repositories/\(ws)/\(repo)/commits")
        let date = try #require((commits["values"] as? [[String: Any]])?.first?["date"] as? String)
        #expect(date.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$"#, options: .regularExpression) != nil)
    }

    @Test("timestamps and hashes are written by hand exactly as the format strings wrote them (a seed's world is the same)")
    func handWrittenFormats() {
        for seconds in [0.0, 86_399.25, 1_764_586_272.5, 4_102_444_799.999] {
            let date = Date(timeIntervalSince1970: seconds)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: seconds.rounded(.down)))
            let whole = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
            #expect(WireFormat.seconds(date) == whole + "+00:00")
        }
        var random = SandboxRandom(seed: 42), reference = SandboxRandom(seed: 42)
        for _ in 0..<50 {
            let expected = (0..<5).map { _ in String(format: "%016llx", reference.next()) }.joined().prefix(40).description
            #expect(random.hash() == expected)
        }
        #expect(random.next() == reference.next())
        #expect(SandboxRandom.hex16(0xAB) == "00000000000000ab" && SandboxRandom.hex16(.max) == "ffffffffffffffff")
    }
}
