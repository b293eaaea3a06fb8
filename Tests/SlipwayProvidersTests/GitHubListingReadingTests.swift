import Foundation
import Testing
import SlipwayHTTP
@testable import SlipwayProviders

/// The listing's GraphQL pages are read with `JSONReader`; the Codable wire types are the judge:
/// for every page here both give the same values, or both refuse it.
@Suite("GitHub listing pages read like the Codable types")
struct GitHubListingReadingTests {
    static let hash = String(repeating: "c", count: 40)

    static func repository(_ name: String, refs: String) -> String {
        """
        {"databaseId":\(name.count),"name":"\(name)","nameWithOwner":"acme/\(name)","owner":{"login":"acme","__typename":"Organization"},
         "isPrivate":true,"viewerPermission":"ADMIN","pushedAt":"2026-12-01T10:00:00Z","updatedAt":"2026-12-01T10:00:00Z",
         "url":"https://github.com/acme/\(name)","defaultBranchRef":{"name":"main"},"stargazerCount":3,\(refs)}
        """
    }

    static let refs = """
        "refs":{"totalCount":4,"nodes":[
          {"name":"main","target":{"oid":"\(hash)","committedDate":"2026-12-01T10:00:00Z","message":"Fix \\u001b[31m it\\r\\n\\nbody","author":{"name":"Ada","email":"ada@example.com"}}},
          {"name":"v1-tag-like","target":{}},
          {"name":"no-author","target":{"oid":"\(hash)","author":null}},
          null
        ],"pageInfo":{"hasNextPage":false,"endCursor":null}}
        """

    static let viewerPages = [
        // The first listing page: the viewer, its organizations, a page of repositories.
        """
        {"data":{"viewer":{"login":"octo","organizations":{"nodes":[{"login":"acme","name":"Acme"},null,{"login":"globex","name":null}],
         "pageInfo":{"hasNextPage":false,"endCursor":"Y3Vyc29y"}},
         "repositories":{"nodes":[\(repository("api", refs: refs)),null,\(repository("web", refs: #""refs":null"#))],
         "pageInfo":{"hasNextPage":true,"endCursor":"MTAw"}}}}}
        """,
        #"{"data":{"viewer":{"login":"octo","repositories":{"nodes":null,"pageInfo":{"hasNextPage":false}}}},"errors":[{"type":"X","message":"m"}]}"#,
        #"{"data":null,"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded"}]}"#,
        #"{"errors":[{"message":"Parse error"}]}"#,
        // Refused by both: a required field missing or mistyped, or the JSON itself broken.
        #"{"data":{"viewer":{"repositories":{"nodes":[],"pageInfo":{"hasNextPage":false}}}}}"#,
        #"{"data":{"viewer":{"login":"octo"}}}"#,
        #"{"data":{"viewer":{"login":"octo","repositories":{"nodes":[],"pageInfo":{}}}}}"#,
        #"{"data":{"viewer":{"login":"octo","repositories":{"nodes":[{"name":"x","nameWithOwner":"o/x"}],"pageInfo":{"hasNextPage":false}}}}}"#,
        #"{"data":{"viewer":{"login":"octo","repositories":{"nodes":[{"name":"x","nameWithOwner":"o/x","owner":{"login":"o"},"refs":{"nodes":[{"target":{}}],"pageInfo":{"hasNextPage":false}}}],"pageInfo":{"hasNextPage":false}}}}}"#,
        #"{"data":{"viewer":{"login":"octo","repositories":{"nodes":[{"name":"x","nameWithOwner":"o/x","owner":{"login":"o"},"databaseId":"7"}],"pageInfo":{"hasNextPage":false}}}}}"#,
        #"{"data":{"viewer":{"login":"octo","repositories":{"nodes":[],"pageInfo":{"hasNextPage":"no"}}}}}"#,
        #"{"data":{"viewer":{"login":"octo","repositories":{"nodes":[],"pageInfo":{"hasNextPage":false}}}}"#,
        "",
    ]

    static let ownerPages = [
        #"{"data":{"organization":{"repositories":{"nodes":[\#(repository("svc", refs: refs))],"pageInfo":{"hasNextPage":false,"endCursor":"Mg"}}}}}"#,
        #"{"data":{"viewer":{"repositories":{"nodes":[],"pageInfo":{"hasNextPage":false}}},"organization":null}}"#,
        #"{"data":{"organization":null}}"#,
        #"{"data":{"organization":{}}}"#,
        #"{"data":{"organization":{"repositories":{"nodes":[{"name":"x"}],"pageInfo":{"hasNextPage":false}}}}}"#,
    ]

    /// Both ways, as text: the default description of a value names every field, nested.
    static func judged<T: Decodable & Sendable>(_ page: String, _ type: T.Type, _ read: @escaping (inout JSONReader) throws -> T) -> (codable: String?, reader: String?) {
        let data = Data(page.utf8)
        let codable = (try? JSONDecoder().decode(GitHubWire.Response<T>.self, from: data)).map { "\($0.data.map { "\($0)" } ?? "nil") \($0.errors.map { "\($0)" } ?? "nil")" }
        let reader = (try? JSONReader.read(data) { reader in try GitHubWire.readResponse(&reader, data: read) })
            .map { "\($0.data.map { "\($0)" } ?? "nil") \($0.errors.map { "\($0)" } ?? "nil")" }
        return (codable, reader)
    }

    @Test("the viewer's first page: the same values as JSONDecoder gives, or refused by both", arguments: viewerPages.indices)
    func viewerPage(index: Int) {
        let (codable, reader) = Self.judged(Self.viewerPages[index], GitHubWire.ViewerData.self, GitHubWire.readViewerData)
        #expect(codable == reader, "page \(index)")
    }

    @Test("an owner's chain pages: the same values as JSONDecoder gives, or refused by both", arguments: ownerPages.indices)
    func ownerPage(index: Int) {
        let (codable, reader) = Self.judged(Self.ownerPages[index], GitHubWire.OwnerRepositoriesData.self, GitHubWire.readOwnerRepositoriesData)
        #expect(codable == reader, "page \(index)")
    }

    @Test("the first page's values as read: refs with their heads, null nodes kept as nil, a non-commit target empty")
    func values() throws {
        let read = try JSONReader.read(Data(Self.viewerPages[0].utf8)) { reader in try GitHubWire.readResponse(&reader, data: GitHubWire.readViewerData) }
        let viewer = try #require(read.data?.viewer)
        #expect(viewer.login == "octo" && viewer.organizations?.nodes?.compactMap { $0?.login } == ["acme", "globex"])
        #expect(viewer.repositories.pageInfo.hasNextPage && viewer.repositories.pageInfo.endCursor == "MTAw")
        let api = try #require(viewer.repositories.nodes?.first ?? nil)
        let refs = try #require(api.refs?.nodes)
        #expect(refs.count == 4 && refs[3] == nil)
        #expect(refs[0]?.target?.message == "Fix \u{1b}[31m it\r\n\nbody" && refs[0]?.target?.author?.email == "ada@example.com")
        #expect(refs[1]?.target?.oid == nil && refs[2]?.target?.author == nil)
        #expect(viewer.repositories.nodes?.count == 3 && viewer.repositories.nodes?[1] == nil)
    }
}
