import Foundation

/// GitHub's answers as the adapter reads them: lenient (optional wherever GitHub may leave a
/// field out or send null), REST and GraphQL alike.
enum GitHubWire {
    struct User: Decodable, Sendable {
        var login: String
        var id: Int64
        var name: String?
    }

    struct Email: Decodable, Sendable {
        var email: String
        var primary: Bool?
        var verified: Bool?
    }

    struct Owner: Decodable, Sendable { var login: String }

    struct Repository: Decodable, Sendable {
        var id: Int64?
        var name: String
        var full_name: String
        var owner: Owner
        var `private`: Bool?
        var default_branch: String?
        var pushed_at: String?
        var updated_at: String?
        var html_url: String?
        var clone_url: String?
        var permissions: [String: Bool]?
    }

    struct CommitPerson: Decodable, Sendable {
        var name: String?
        var email: String?
        var date: String?
        var raw: String? { GitHubWire.raw(name: name, email: email) }
    }

    struct Commit: Decodable, Sendable {
        struct Detail: Decodable, Sendable {
            var author: CommitPerson?
            var message: String?
        }
        struct Parent: Decodable, Sendable { var sha: String }
        var sha: String
        var commit: Detail?
        var parents: [Parent]?

        var providerCommit: ProviderCommit {
            ProviderCommit(hash: sha.lowercased(), date: commit?.author?.date.flatMap(ProviderDate.parse), author: commit?.author?.raw,
                           message: commit?.message, parents: parents?.map(\.sha) ?? [])
        }
    }

    struct Compare: Decodable, Sendable {
        var commits: [Commit]
        var total_commits: Int?
    }

    struct Hook: Decodable, Sendable {
        struct Config: Decodable, Sendable {
            var url: String?
            var secret: String?
        }
        var id: Int64
        var active: Bool?
        var events: [String]?
        var config: Config?

        var providerHook: ProviderHook {
            ProviderHook(id: String(id), url: config?.url ?? "", events: events ?? [], active: active ?? true, description: nil,
                         hasSecret: config?.secret != nil)
        }
    }

    /// `Name <email>`, as the mirror keeps authors.
    static func raw(name: String?, email: String?) -> String? {
        let parts = [name, email.map { "<\($0)>" }].compactMap { $0 }.filter { !$0.isEmpty }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }

    // MARK: GraphQL

    struct GraphQLError: Decodable, Sendable {
        var type: String?
        var message: String?
    }

    struct Response<T: Decodable & Sendable>: Decodable, Sendable {
        var data: T?
        var errors: [GraphQLError]?
    }

    struct PageInfo: Decodable, Sendable {
        var hasNextPage: Bool
        var endCursor: String?
    }

    struct GitCommit: Decodable, Sendable {
        struct Actor: Decodable, Sendable { var name: String?; var email: String? }
        var oid: String?
        var committedDate: String?
        var message: String?
        var author: Actor?
    }

    struct Ref: Decodable, Sendable {
        var name: String
        var target: GitCommit?
    }

    struct Refs: Decodable, Sendable {
        var totalCount: Int?
        var nodes: [Ref?]?
        var pageInfo: PageInfo
    }

    struct GraphRepository: Decodable, Sendable {
        struct OwnerRef: Decodable, Sendable { var login: String; var __typename: String? }
        struct BranchRef: Decodable, Sendable { var name: String }
        var databaseId: Int64?
        var name: String
        var nameWithOwner: String
        var owner: OwnerRef
        var isPrivate: Bool?
        var viewerPermission: String?
        var pushedAt: String?
        var updatedAt: String?
        var url: String?
        var defaultBranchRef: BranchRef?
        var refs: Refs?
    }

    struct Connection<Node: Decodable & Sendable>: Decodable, Sendable {
        var nodes: [Node?]?
        var pageInfo: PageInfo
    }

    struct Organization: Decodable, Sendable {
        var login: String
        var name: String?
    }

    struct Viewer: Decodable, Sendable {
        var login: String
        var organizations: Connection<Organization>?
        var repositories: Connection<GraphRepository>
    }

    struct ViewerData: Decodable, Sendable { var viewer: Viewer }

    /// `viewer { repositories … }` or `organization(login:) { repositories … }`: one owner's chain.
    struct OwnerRepositoriesData: Decodable, Sendable {
        struct Owner: Decodable, Sendable { var repositories: Connection<GraphRepository> }
        var viewer: Owner?
        var organization: Owner?
    }

    struct RefsData: Decodable, Sendable {
        struct Repository: Decodable, Sendable { var refs: Refs? }
        var repository: Repository?
    }

    /// `repository { c0: object(oid:) … }`: each alias a commit, or null where the oid is unknown.
    struct ObjectsData: Decodable, Sendable {
        var repository: [String: GitCommit?]?
    }
}
