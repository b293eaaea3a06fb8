import Foundation
import SlipwayHTTP

/// The listing's GraphQL pages — 100 repositories with their first 100 branch heads each, some
/// 300 KB — read straight into the wire values with `JSONReader`, with the Codable types' rules:
/// what is required there (a repository's `name`, `nameWithOwner` and `owner.login`, a ref's
/// `name`, every `pageInfo.hasNextPage`, the viewer's `login` and `repositories`) is required here,
/// a mistyped value is an error, and fields the types do not hold are skipped.
extension GitHubWire {
    enum ReadingError: Error { case missing(String) }

    /// `{"data": …, "errors": […]}`: the data read by `data` (nil when null or absent).
    static func readResponse<T>(_ reader: inout JSONReader, data read: (inout JSONReader) throws -> T) throws -> (data: T?, errors: [GraphQLError]?) {
        var data: T?
        var errors: [GraphQLError]?
        try reader.object { reader, key in
            if key == "data" {
                if reader.peekKind() != .null { data = try read(&reader) }
            } else if key == "errors" {
                guard reader.peekKind() != .null else { return }
                var list: [GraphQLError] = []
                try reader.array { reader in
                    var error = GraphQLError()
                    try reader.object { reader, key in
                        if key == "type" { error.type = try reader.string() } else if key == "message" { error.message = try reader.string() }
                    }
                    list.append(error)
                }
                errors = list
            }
        }
        return (data, errors)
    }

    static func readViewerData(_ reader: inout JSONReader) throws -> ViewerData {
        var viewer: Viewer?
        try reader.object { reader, key in
            if key == "viewer" { viewer = try readViewer(&reader) }
        }
        guard let viewer else { throw ReadingError.missing("viewer") }
        return ViewerData(viewer: viewer)
    }

    static func readViewer(_ reader: inout JSONReader) throws -> Viewer {
        var login: String?
        var organizations: Connection<Organization>?
        var repositories: Connection<GraphRepository>?
        try reader.object { reader, key in
            if key == "login" {
                login = try reader.string()
            } else if key == "organizations" {
                if reader.peekKind() != .null { organizations = try readConnection(&reader, node: readOrganization) }
            } else if key == "repositories" {
                repositories = try readConnection(&reader, node: readRepository)
            }
        }
        guard let login else { throw ReadingError.missing("viewer.login") }
        guard let repositories else { throw ReadingError.missing("viewer.repositories") }
        return Viewer(login: login, organizations: organizations, repositories: repositories)
    }

    static func readOwnerRepositoriesData(_ reader: inout JSONReader) throws -> OwnerRepositoriesData {
        var data = OwnerRepositoriesData()
        try reader.object { reader, key in
            guard key == "viewer" || key == "organization", reader.peekKind() != .null else { return }
            var repositories: Connection<GraphRepository>?
            try reader.object { reader, key in
                if key == "repositories" { repositories = try readConnection(&reader, node: readRepository) }
            }
            guard let repositories else { throw ReadingError.missing("repositories") }
            if key == "viewer" { data.viewer = .init(repositories: repositories) } else { data.organization = .init(repositories: repositories) }
        }
        return data
    }

    static func readConnection<Node>(_ reader: inout JSONReader, node read: (inout JSONReader) throws -> Node) throws -> Connection<Node> {
        var nodes: [Node?]?
        var pageInfo: PageInfo?
        try reader.object { reader, key in
            if key == "nodes" {
                nodes = try readNodes(&reader, read)
            } else if key == "pageInfo" {
                pageInfo = try readPageInfo(&reader)
            }
        }
        guard let pageInfo else { throw ReadingError.missing("pageInfo") }
        return Connection(nodes: nodes, pageInfo: pageInfo)
    }

    /// A connection's `nodes`: null is nil, and so is each null node (GraphQL nulls a node it
    /// could not resolve).
    static func readNodes<Node>(_ reader: inout JSONReader, _ read: (inout JSONReader) throws -> Node) throws -> [Node?]? {
        guard reader.peekKind() != .null else {
            try reader.skip()
            return nil
        }
        var list: [Node?] = []
        try reader.array { reader in
            if reader.peekKind() == .null {
                try reader.skip()
                list.append(nil)
            } else {
                list.append(try read(&reader))
            }
        }
        return list
    }

    static func readPageInfo(_ reader: inout JSONReader) throws -> PageInfo {
        var hasNextPage: Bool?
        var endCursor: String?
        try reader.object { reader, key in
            if key == "hasNextPage" { hasNextPage = try reader.bool() } else if key == "endCursor" { endCursor = try reader.string() }
        }
        guard let hasNextPage else { throw ReadingError.missing("pageInfo.hasNextPage") }
        return PageInfo(hasNextPage: hasNextPage, endCursor: endCursor)
    }

    static func readOrganization(_ reader: inout JSONReader) throws -> Organization {
        var login: String?
        var name: String?
        try reader.object { reader, key in
            if key == "login" { login = try reader.string() } else if key == "name" { name = try reader.string() }
        }
        guard let login else { throw ReadingError.missing("organization.login") }
        return Organization(login: login, name: name)
    }

    static func readRepository(_ reader: inout JSONReader) throws -> GraphRepository {
        var databaseId: Int64?
        var name: String?
        var nameWithOwner: String?
        var owner: GraphRepository.OwnerRef?
        var isPrivate: Bool?
        var viewerPermission: String?
        var pushedAt: String?
        var updatedAt: String?
        var url: String?
        var defaultBranchRef: GraphRepository.BranchRef?
        var refs: Refs?
        try reader.object { reader, key in
            if key == "databaseId" {
                databaseId = try reader.int().map(Int64.init)
            } else if key == "name" {
                name = try reader.string()
            } else if key == "nameWithOwner" {
                nameWithOwner = try reader.string()
            } else if key == "owner" {
                var login: String?
                var typename: String?
                try reader.object { reader, key in
                    if key == "login" { login = try reader.string() } else if key == "__typename" { typename = try reader.string() }
                }
                guard let login else { throw ReadingError.missing("owner.login") }
                owner = .init(login: login, __typename: typename)
            } else if key == "isPrivate" {
                isPrivate = try reader.bool()
            } else if key == "viewerPermission" {
                viewerPermission = try reader.string()
            } else if key == "pushedAt" {
                pushedAt = try reader.string()
            } else if key == "updatedAt" {
                updatedAt = try reader.string()
            } else if key == "url" {
                url = try reader.string()
            } else if key == "defaultBranchRef" {
                guard reader.peekKind() != .null else { return }
                var branch: String?
                try reader.object { reader, key in
                    if key == "name" { branch = try reader.string() }
                }
                guard let branch else { throw ReadingError.missing("defaultBranchRef.name") }
                defaultBranchRef = .init(name: branch)
            } else if key == "refs" {
                if reader.peekKind() != .null { refs = try readRefs(&reader) }
            }
        }
        guard let name, let nameWithOwner, let owner else { throw ReadingError.missing("repository name, nameWithOwner or owner") }
        return GraphRepository(databaseId: databaseId, name: name, nameWithOwner: nameWithOwner, owner: owner, isPrivate: isPrivate,
                               viewerPermission: viewerPermission, pushedAt: pushedAt, updatedAt: updatedAt, url: url,
                               defaultBranchRef: defaultBranchRef, refs: refs)
    }

    static func readRefs(_ reader: inout JSONReader) throws -> Refs {
        var totalCount: Int?
        var nodes: [Ref?]?
        var pageInfo: PageInfo?
        try reader.object { reader, key in
            if key == "totalCount" {
                totalCount = try reader.int()
            } else if key == "nodes" {
                nodes = try readNodes(&reader, readRef)
            } else if key == "pageInfo" {
                pageInfo = try readPageInfo(&reader)
            }
        }
        guard let pageInfo else { throw ReadingError.missing("refs.pageInfo") }
        return Refs(totalCount: totalCount, nodes: nodes, pageInfo: pageInfo)
    }

    static func readRef(_ reader: inout JSONReader) throws -> Ref {
        var name: String?
        var target: GitCommit?
        try reader.object { reader, key in
            if key == "name" {
                name = try reader.string()
            } else if key == "target" {
                if reader.peekKind() != .null { target = try readGitCommit(&reader) }
            }
        }
        guard let name else { throw ReadingError.missing("ref.name") }
        return Ref(name: name, target: target)
    }

    /// A ref's target: a commit's fields, or none at all for a target that is not a commit.
    static func readGitCommit(_ reader: inout JSONReader) throws -> GitCommit {
        var commit = GitCommit()
        try reader.object { reader, key in
            if key == "oid" {
                commit.oid = try reader.string()
            } else if key == "committedDate" {
                commit.committedDate = try reader.string()
            } else if key == "message" {
                commit.message = try reader.string()
            } else if key == "author" {
                guard reader.peekKind() != .null else { return }
                var actor = GitCommit.Actor()
                try reader.object { reader, key in
                    if key == "name" { actor.name = try reader.string() } else if key == "email" { actor.email = try reader.string() }
                }
                commit.author = actor
            }
        }
        return commit
    }
}
