import Foundation
import GraphQL
import OrderedCollections

/// What a GraphQL query resolves against: a snapshot of GitHub's part of the world (taken under
/// the world's lock, read after it is released) and the cost already charged for the query.
struct GitHubGraphQLContext: Sendable {
    var world: SandboxWorld
    var format: GitHubWireFormat
    var rateLimit: [String: any Sendable]
}

/// The subset of GitHub's GraphQL schema a dashboard's queries use, typed as GitHub types it
/// (`octokit/graphql-schema`): `viewer`, `repository`, `organization`, `user`, `repositoryOwner`,
/// `rateLimit`; `User`/`Organization` behind `RepositoryOwner`, their `repositories` with
/// `affiliations`/`ownerAffiliations`/`orderBy`, `organizations`; `Repository` with
/// `viewerPermission`, `defaultBranchRef`, `refs(refPrefix:…)`, `ref(qualifiedName:)`; `Ref.target`
/// a `GitObject` (`... on Commit`); `Commit` with dates, headline, message, author and `history`.
/// Connections take `first`/`last` (1–100, one of them required) and `after` cursors.
enum GitHubGraphQLSchema {
    static let shared: GraphQLSchema = try! make()

    typealias Source = [String: any Sendable]

    static func make() throws -> GraphQLSchema {
        // A field read from its parent's dictionary — every object this schema resolves is a
        // `Source` — as the engine's default resolver would, without the reflection and protocol
        // casts it tries first, which were a large share of a listing page's 40,000 fields.
        func plain(_ type: any GraphQLOutputType) -> GraphQLField {
            GraphQLField(type: type) { source, _, _, info in (source as? Source)?[info.fieldName] }
        }
        let dateTime = try GraphQLScalarType(name: "DateTime", serialize: { try map(from: $0) })
        let uri = try GraphQLScalarType(name: "URI", serialize: { try map(from: $0) })
        let objectID = try GraphQLScalarType(name: "GitObjectID", serialize: { try map(from: $0) })
        let sshRemote = try GraphQLScalarType(name: "GitSSHRemote", serialize: { try map(from: $0) })
        let timestamp = try GraphQLScalarType(name: "GitTimestamp", serialize: { try map(from: $0) })

        func enumType(_ name: String, _ values: [String]) throws -> GraphQLEnumType {
            var map = GraphQLEnumValueMap()
            for value in values { map[value] = GraphQLEnumValue(value: .string(value)) }
            return try GraphQLEnumType(name: name, values: map)
        }
        let affiliation = try enumType("RepositoryAffiliation", ["OWNER", "COLLABORATOR", "ORGANIZATION_MEMBER"])
        let permission = try enumType("RepositoryPermission", ["ADMIN", "MAINTAIN", "WRITE", "TRIAGE", "READ"])
        let privacy = try enumType("RepositoryPrivacy", ["PUBLIC", "PRIVATE"])
        let direction = try enumType("OrderDirection", ["ASC", "DESC"])
        let repositoryOrderField = try enumType("RepositoryOrderField", ["CREATED_AT", "NAME", "PUSHED_AT", "STARGAZERS", "UPDATED_AT"])
        let refOrderField = try enumType("RefOrderField", ["ALPHABETICAL", "TAG_COMMIT_DATE"])
        let repositoryOrder = try GraphQLInputObjectType(name: "RepositoryOrder", fields: [
            "field": InputObjectField(type: GraphQLNonNull(repositoryOrderField)), "direction": InputObjectField(type: GraphQLNonNull(direction)),
        ])
        let refOrder = try GraphQLInputObjectType(name: "RefOrder", fields: [
            "field": InputObjectField(type: GraphQLNonNull(refOrderField)), "direction": InputObjectField(type: GraphQLNonNull(direction)),
        ])

        let pageInfo = try GraphQLObjectType(name: "PageInfo", fields: [
            "endCursor": plain(GraphQLString), "hasNextPage": plain(GraphQLNonNull(GraphQLBoolean)),
            "hasPreviousPage": plain(GraphQLNonNull(GraphQLBoolean)), "startCursor": plain(GraphQLString),
        ])
        let actor = try GraphQLObjectType(name: "GitActor", fields: [
            "name": plain(GraphQLString), "email": plain(GraphQLString), "date": plain(timestamp),
        ])
        let rateLimit = try GraphQLObjectType(name: "RateLimit", fields: [
            "cost": plain(GraphQLNonNull(GraphQLInt)), "limit": plain(GraphQLNonNull(GraphQLInt)),
            "nodeCount": plain(GraphQLNonNull(GraphQLInt)), "remaining": plain(GraphQLNonNull(GraphQLInt)),
            "resetAt": plain(GraphQLNonNull(dateTime)), "used": plain(GraphQLNonNull(GraphQLInt)),
        ])

        let gitObjectFields: GraphQLFieldMap = [
            "id": plain(GraphQLNonNull(GraphQLID)), "oid": plain(GraphQLNonNull(objectID)),
            "abbreviatedOid": plain(GraphQLNonNull(GraphQLString)),
        ]
        let gitObject = try GraphQLInterfaceType(name: "GitObject", fields: gitObjectFields, resolveType: { _, _ in "Commit" })
        let ownerFields: GraphQLFieldMap = [
            "id": plain(GraphQLNonNull(GraphQLID)), "login": plain(GraphQLNonNull(GraphQLString)),
            "url": plain(GraphQLNonNull(uri)),
        ]
        let repositoryOwner = try GraphQLInterfaceType(name: "RepositoryOwner", fields: ownerFields, resolveType: { value, _ in
            ((value as? Source)?["__typename"] as? String) ?? "User"
        })

        let connectionArgs: GraphQLArgumentConfigMap = [
            "first": GraphQLArgument(type: GraphQLInt), "last": GraphQLArgument(type: GraphQLInt),
            "after": GraphQLArgument(type: GraphQLString), "before": GraphQLArgument(type: GraphQLString),
        ]
        func connection(_ name: String, node: GraphQLObjectType) throws -> GraphQLObjectType {
            let edge = try GraphQLObjectType(name: "\(name)Edge", fields: [
                "cursor": plain(GraphQLNonNull(GraphQLString)), "node": plain(node),
            ])
            return try GraphQLObjectType(name: "\(name)Connection", fields: [
                "nodes": plain(GraphQLList(node)), "edges": plain(GraphQLList(edge)),
                "pageInfo": plain(GraphQLNonNull(pageInfo)), "totalCount": plain(GraphQLNonNull(GraphQLInt)),
            ])
        }

        var commitFields = gitObjectFields
        commitFields["committedDate"] = plain(GraphQLNonNull(dateTime))
        commitFields["authoredDate"] = plain(GraphQLNonNull(dateTime))
        commitFields["messageHeadline"] = plain(GraphQLNonNull(GraphQLString))
        commitFields["message"] = plain(GraphQLNonNull(GraphQLString))
        commitFields["author"] = plain(actor)
        commitFields["committer"] = plain(actor)
        commitFields["url"] = plain(GraphQLNonNull(uri))
        let commit = try GraphQLObjectType(name: "Commit", fields: commitFields, interfaces: [gitObject])
        // A commit's history is a connection of commits: the field joins once both exist.
        let historyConnection = try connection("CommitHistory", node: commit)
        commitFields["history"] = GraphQLField(type: GraphQLNonNull(historyConnection), args: connectionArgs) { source, args, context, _ in
            try Resolvers.history(source, args, context)
        }
        let withHistory = commitFields
        commit.fields = { withHistory }

        let ref = try GraphQLObjectType(name: "Ref", fields: [
            "id": plain(GraphQLNonNull(GraphQLID)), "name": plain(GraphQLNonNull(GraphQLString)),
            "prefix": plain(GraphQLNonNull(GraphQLString)), "target": plain(gitObject),
        ])

        let refConnection = try connection("Ref", node: ref)
        var refsArgs = connectionArgs
        refsArgs["refPrefix"] = GraphQLArgument(type: GraphQLNonNull(GraphQLString))
        refsArgs["query"] = GraphQLArgument(type: GraphQLString)
        refsArgs["orderBy"] = GraphQLArgument(type: refOrder)
        refsArgs["direction"] = GraphQLArgument(type: direction)
        let repository = try GraphQLObjectType(name: "Repository", fields: [
            "id": plain(GraphQLNonNull(GraphQLID)), "databaseId": plain(GraphQLInt),
            "name": plain(GraphQLNonNull(GraphQLString)), "nameWithOwner": plain(GraphQLNonNull(GraphQLString)),
            "owner": plain(GraphQLNonNull(repositoryOwner)), "isPrivate": plain(GraphQLNonNull(GraphQLBoolean)),
            "isArchived": plain(GraphQLNonNull(GraphQLBoolean)), "isFork": plain(GraphQLNonNull(GraphQLBoolean)),
            "viewerPermission": plain(permission), "defaultBranchRef": plain(ref),
            "pushedAt": plain(dateTime), "updatedAt": plain(GraphQLNonNull(dateTime)),
            "createdAt": plain(GraphQLNonNull(dateTime)), "url": plain(GraphQLNonNull(uri)),
            "sshUrl": plain(GraphQLNonNull(sshRemote)), "description": plain(GraphQLString),
            "refs": GraphQLField(type: refConnection, args: refsArgs) { source, args, context, _ in try Resolvers.refs(source, args, context) },
            "ref": GraphQLField(type: ref, args: ["qualifiedName": GraphQLArgument(type: GraphQLNonNull(GraphQLString))]) { source, args, context, _ in
                Resolvers.ref(source, args, context)
            },
            "object": GraphQLField(type: gitObject, args: ["oid": GraphQLArgument(type: objectID), "expression": GraphQLArgument(type: GraphQLString)]) {
                source, args, context, _ in Resolvers.object(source, args, context)
            },
        ])

        let repositoryConnection = try connection("Repository", node: repository)
        let repositoriesArgs: GraphQLArgumentConfigMap = connectionArgs.merging([
            "affiliations": GraphQLArgument(type: GraphQLList(affiliation)), "ownerAffiliations": GraphQLArgument(type: GraphQLList(affiliation)),
            "orderBy": GraphQLArgument(type: repositoryOrder), "privacy": GraphQLArgument(type: privacy),
            "isFork": GraphQLArgument(type: GraphQLBoolean), "isArchived": GraphQLArgument(type: GraphQLBoolean),
        ]) { a, _ in a }
        var organizationFields = ownerFields
        organizationFields["databaseId"] = plain(GraphQLInt)
        organizationFields["name"] = plain(GraphQLString)
        organizationFields["repositories"] = GraphQLField(type: GraphQLNonNull(repositoryConnection), args: repositoriesArgs) { source, args, context, _ in
            try Resolvers.repositories(source, args, context)
        }
        let organization = try GraphQLObjectType(name: "Organization", fields: organizationFields, interfaces: [repositoryOwner])
        let organizationConnection = try connection("Organization", node: organization)
        var userFields = ownerFields
        userFields["databaseId"] = plain(GraphQLInt)
        userFields["name"] = plain(GraphQLString)
        userFields["email"] = plain(GraphQLNonNull(GraphQLString))
        userFields["repositories"] = GraphQLField(type: GraphQLNonNull(repositoryConnection), args: repositoriesArgs) { source, args, context, _ in
            try Resolvers.repositories(source, args, context)
        }
        userFields["organizations"] = GraphQLField(type: GraphQLNonNull(organizationConnection), args: connectionArgs) { source, args, context, _ in
            try Resolvers.organizations(source, args, context)
        }
        let user = try GraphQLObjectType(name: "User", fields: userFields, interfaces: [repositoryOwner])

        let query = try GraphQLObjectType(name: "Query", fields: [
            "viewer": GraphQLField(type: GraphQLNonNull(user)) { _, _, context, _ in Resolvers.viewer(context) },
            "repository": GraphQLField(type: repository, args: [
                "owner": GraphQLArgument(type: GraphQLNonNull(GraphQLString)), "name": GraphQLArgument(type: GraphQLNonNull(GraphQLString)),
                "followRenames": GraphQLArgument(type: GraphQLBoolean, defaultValue: .bool(true)),
            ]) { _, args, context, _ in try Resolvers.repository(args, context) },
            "repositoryOwner": GraphQLField(type: repositoryOwner, args: ["login": GraphQLArgument(type: GraphQLNonNull(GraphQLString))]) { _, args, context, _ in
                Resolvers.owner(args["login"].string ?? "", context, kind: nil)
            },
            "organization": GraphQLField(type: organization, args: ["login": GraphQLArgument(type: GraphQLNonNull(GraphQLString))]) { _, args, context, _ in
                Resolvers.owner(args["login"].string ?? "", context, kind: "Organization")
            },
            "user": GraphQLField(type: user, args: ["login": GraphQLArgument(type: GraphQLNonNull(GraphQLString))]) { _, args, context, _ in
                Resolvers.owner(args["login"].string ?? "", context, kind: "User")
            },
            "rateLimit": GraphQLField(type: rateLimit, args: ["dryRun": GraphQLArgument(type: GraphQLBoolean, defaultValue: .bool(false))]) { _, _, context, _ in
                (context as? GitHubGraphQLContext)?.rateLimit
            },
        ])
        return try GraphQLSchema(query: query, types: [commit, user, organization, repository, ref])
    }
}
