import Foundation
import Testing
import SlipwayProviders

/// The three dialects read push payloads with the pull reader, not Codable: the same rules at
/// the edges — what is required, what may be null or missing, escapes decoded, and a clear
/// error (never a crash, never a half-read push) for anything else.
@Suite("Push payloads read at the edges")
struct PushReadingTests {
    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)"))
    }

    static let hash = String(repeating: "b", count: 40)
    static let zero = String(repeating: "0", count: 40)

    @Test("Bitbucket: a change with nulls and left-out fields, escaped names, tags skipped among branches")
    func bitbucketEdges() throws {
        let body = Data("""
            {"push":{"changes":[
              {"new":{"type":"tag","name":"v1","target":{"hash":"\(Self.hash)"}},"old":null},
              {"new":{"name":"feat\\u001b[31m/x","target":{"hash":"\(Self.hash)","date":"2026-12-01T10:00:00+00:00","author":null,"message":"line\\r\\n","extra":[1,{"a":[]}]}},"old":null},
              {"new":null,"old":{"type":"branch","name":"gone","target":{"hash":"\(Self.zero)"}},"closed":true},
              {"new":{"type":"branch","name":"nohead","target":null},"old":null,"created":false,"forced":true}
            ]},"repository":{"full_name":"acme/api","uuid":"{u}","links":{"html":{"href":"x"}}},"actor":{"display_name":"A"}}
            """.utf8)
        let dialect = BitbucketWebhookDialect()
        #expect(dialect.repository(in: body) == DeliveryRepository(fullName: "acme/api", id: "{u}"))
        let event = try dialect.decodePush(body)
        #expect(event.repositoryFullName == "acme/api" && event.repositoryID == "{u}")
        #expect(event.changes.map(\.branch) == ["feat\u{1b}[31m/x", "gone", "nohead"])
        let created = event.changes[0]
        #expect(created.created && !created.closed && !created.forced && !created.truncated && created.oldHash == nil)
        #expect(created.newHead?.hash == Self.hash && created.newHead?.message == "line\r\n" && created.newHead?.author == nil && created.newHead?.date != nil)
        #expect(event.changes[1].closed && event.changes[1].newHead == nil && event.changes[1].oldHash == Self.zero)
        #expect(!event.changes[2].created && event.changes[2].forced && event.changes[2].newHead == nil)
    }

    @Test("Bitbucket: what is required is required", arguments: [
        #"{"push":{"changes":[]}}"#,                                                  // no repository
        #"{"repository":{"full_name":"a/b"}}"#,                                        // no push
        #"{"push":{"changes":[]},"repository":{"full_name":""}}"#,                     // an empty name
        #"{"push":{"changes":[{"new":{"name":"x","target":{"date":"2026"}}}]},"repository":{"full_name":"a/b"}}"#, // a target without hash
        #"{"push":{"changes":[{"new":{"name":3}}]},"repository":{"full_name":"a/b"}}"#, // a mistyped name
        #"{"push":{"changes":{}},"repository":{"full_name":"a/b"}}"#,                  // changes not a list
        #"{"push":{"changes":[]},"repository":{"full_name":"a/b"}} x"#,                // text after the document
        #"{"push":{"changes":[]},"repository":{"full_name":"a/b""#,                   // truncated
    ])
    func bitbucketRequired(body: String) {
        #expect(throws: PushEvent.DecodingError.self) { try BitbucketWebhookDialect().decodePush(Data(body.utf8)) }
    }

    @Test("GitHub: the fixture push, a null head_commit where the branch was deleted, and what is required")
    func github() throws {
        let dialect = GitHubWebhookDialect()
        let fixture = try Self.fixture("github/push-new-branch.json")
        let named = try #require(dialect.repository(in: fixture))
        let event = try dialect.decodePush(fixture)
        #expect(event.repositoryFullName == named.fullName && event.repositoryID == named.id && named.id != nil)
        #expect(event.changes.first?.created == true && event.changes.first?.newHead?.author?.contains("<") == true)

        let deleted = Data(#"{"ref":"refs/heads/old","before":"\#(Self.hash)","after":"\#(Self.zero)","deleted":true,"head_commit":null,"repository":{"id":7,"full_name":"o/r"}}"#.utf8)
        let change = try #require(try dialect.decodePush(deleted).changes.first)
        #expect(change.closed && change.newHead == nil && change.oldHash == Self.hash && change.branch == "old")
        // A head_commit that is another commit lends the head nothing but its hash.
        let other = Data(#"{"ref":"refs/heads/m","before":"\#(Self.zero)","after":"\#(Self.hash.uppercased())","head_commit":{"id":"c","message":"m","author":{"name":"N"}},"repository":{"full_name":"o/r"}}"#.utf8)
        let head = try #require(try dialect.decodePush(other).changes.first?.newHead)
        #expect(head.hash == Self.hash && head.message == nil && head.author == nil)

        for bad in [#"{"repository":{"full_name":"o/r"}}"#,                                       // no ref
                    #"{"ref":"refs/heads/m","after":"\#(Self.hash)"}"#,                             // no repository
                    #"{"ref":"refs/heads/m","after":"\#(Self.hash)","repository":{"id":"7","full_name":"o/r"}}"#, // a mistyped id
                    #"{"ref":"refs/heads/m","after":"\#(Self.hash)","head_commit":{"message":"m"},"repository":{"full_name":"o/r"}}"#, // no commit id
                    #"{"ref":"refs/heads/m","repository":{"full_name":"o/r"}}"#] {                  // no new head
            #expect(throws: PushEvent.DecodingError.self, "\(bad)") { try dialect.decodePush(Data(bad.utf8)) }
        }
        #expect(dialect.repository(in: Data(#"{"repository":{"id":7}}"#.utf8)) == nil)
        #expect(dialect.repository(in: Data("{\"repository\":".utf8)) == nil)
    }

    @Test("GitLab: commits may be null or left out, the project id may come from project_id, and what is required")
    func gitlab() throws {
        let dialect = GitLabWebhookDialect()
        let body = Data(#"{"ref":"refs/heads/main","before":"\#(Self.zero)","after":"\#(Self.hash)","project_id":9,"project":{"path_with_namespace":"g/s/p"},"commits":null}"#.utf8)
        #expect(dialect.repository(in: body) == DeliveryRepository(fullName: "g/s/p", id: "9"))
        let change = try #require(try dialect.decodePush(body).changes.first)
        #expect(change.created && change.newHead?.hash == Self.hash && change.newHead?.message == nil && !change.truncated)
        let listed = Data(#"{"ref":"refs/heads/main","after":"\#(Self.hash)","project":{"id":4,"path_with_namespace":"g/p"},"commits":[{"id":"\#(Self.hash)","message":"m","timestamp":"2026-12-01T10:00:00Z","author":{"email":"e@x"}}],"total_commits_count":3}"#.utf8)
        let head = try #require(try dialect.decodePush(listed).changes.first)
        #expect(head.newHead?.author == "<e@x>" && head.newHead?.date != nil && head.truncated)

        for bad in [#"{"project":{"path_with_namespace":"g/p"}}"#,                                       // no ref
                    #"{"ref":"refs/heads/m","project":null}"#,                                          // no project
                    #"{"ref":"refs/heads/m","project":{"id":1}}"#,                                      // no path
                    #"{"ref":"refs/heads/m","project":{"path_with_namespace":"g/p"},"commits":[{"message":"m"}]}"#, // a commit without id
                    #"{"ref":"refs/heads/m","project":{"path_with_namespace":"g/p"},"total_commits_count":"3"}"#] { // mistyped
            #expect(throws: PushEvent.DecodingError.self, "\(bad)") { try dialect.decodePush(Data(bad.utf8)) }
        }
        #expect(dialect.repository(in: Data(#"{"project_id":3}"#.utf8)) == nil)
    }
}
