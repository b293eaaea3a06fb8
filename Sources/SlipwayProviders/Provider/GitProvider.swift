import Foundation
import SlipwayHTTP

/// How requests prove who they are. Never printed: `description` hides the secret.
public enum ProviderCredential: Sendable, Equatable, CustomStringConvertible {
    /// Access tokens and OAuth tokens: `Authorization: Bearer …`.
    case bearer(String)
    /// API tokens used with an e-mail: Basic e-mail:token.
    case apiToken(email: String, token: String)
    /// No credential at all (public Git): requests carry no `Authorization`.
    case none

    public var authorizationHeader: String {
        switch self {
        case let .bearer(token): "Bearer \(token)"
        case let .apiToken(email, token): "Basic " + Data("\(email):\(token)".utf8).base64EncodedString()
        case .none: ""
        }
    }

    /// The secret alone (git's password).
    public var secret: String {
        switch self {
        case let .bearer(token): token
        case let .apiToken(_, token): token
        case .none: ""
        }
    }

    /// Basic credentials for git's smart HTTP, under the user name the provider's git expects.
    public func gitAuthorizationHeader(username: String) -> String {
        "Basic " + Data("\(username):\(secret)".utf8).base64EncodedString()
    }

    public var description: String {
        switch self {
        case .bearer: "bearer token (hidden)"
        case let .apiToken(email, _): "API token for \(email) (hidden)"
        case .none: "no credential"
        }
    }
}

/// Where a provider gets its credential when tokens expire (OAuth): asked before each request,
/// and once more after a 401.
public protocol CredentialSource: Sendable {
    func credential() async throws -> ProviderCredential
    /// A credential to try after `rejected` got a 401 (refreshing it if nobody else has).
    func credentialAfterRejection(_ rejected: ProviderCredential) async throws -> ProviderCredential
}

public struct ProviderUser: Sendable, Equatable {
    public var id: String
    public var username: String
    public var displayName: String?
    /// What the token may do, when the provider says (`X-OAuth-Scopes`).
    public var scopes: [String]?

    public init(id: String, username: String, displayName: String?, scopes: [String]? = nil) {
        self.id = id
        self.username = username
        self.displayName = displayName
        self.scopes = scopes
    }
}

public struct ProviderWorkspace: Sendable, Equatable {
    public var id: String?
    public var slug: String
    public var name: String?
    public var isAdmin: Bool

    public init(id: String?, slug: String, name: String?, isAdmin: Bool) {
        self.id = id
        self.slug = slug
        self.name = name
        self.isAdmin = isAdmin
    }
}

public struct ProviderCommit: Sendable, Equatable {
    public var hash: String
    public var date: Date?
    /// "Name <email>"
    public var author: String?
    public var message: String?
    public var parents: [String]

    public init(hash: String, date: Date? = nil, author: String? = nil, message: String? = nil, parents: [String] = []) {
        self.hash = hash
        self.date = date
        self.author = author
        self.message = message
        self.parents = parents
    }
}

public struct ProviderRepository: Sendable, Equatable {
    public var id: String?
    public var slug: String
    public var name: String
    public var fullName: String
    public var mainBranch: String?
    public var isPrivate: Bool
    public var updatedOn: Date?
    public var cloneURL: String?
    public var webURL: String?

    public init(id: String?, slug: String, name: String, fullName: String, mainBranch: String?, isPrivate: Bool, updatedOn: Date?,
                cloneURL: String?, webURL: String?) {
        self.id = id
        self.slug = slug
        self.name = name
        self.fullName = fullName
        self.mainBranch = mainBranch
        self.isPrivate = isPrivate
        self.updatedOn = updatedOn
        self.cloneURL = cloneURL
        self.webURL = webURL
    }
}

public struct ProviderBranch: Sendable, Equatable {
    public var name: String
    public var head: ProviderCommit

    public init(name: String, head: ProviderCommit) {
        self.name = name
        self.head = head
    }
}

/// A webhook on a repository.
public struct ProviderHook: Sendable, Equatable {
    public var id: String
    public var url: String
    public var events: [String]
    public var active: Bool
    public var description: String?
    public var hasSecret: Bool
    /// The provider signs this hook's deliveries with a key derived from its secret (GitLab's
    /// signing token), so only that signature proves them.
    public var signed: Bool

    public init(id: String, url: String, events: [String], active: Bool, description: String?, hasSecret: Bool, signed: Bool = false) {
        self.id = id
        self.signed = signed
        self.url = url
        self.events = events
        self.active = active
        self.description = description
        self.hasSecret = hasSecret
    }
}

/// What every linked account's adapter answers — a Git host's or a deploy target's: who the
/// credential belongs to, and what its errors mean. Linking speaks only this.
public protocol AccountProvider: Sendable {
    var kind: ProviderKind { get }
    func currentUser() async throws -> ProviderUser
    /// What an error of this provider means (rate limit, lost access, gone, transient).
    func classify(_ error: any Error) -> ProviderFailure
}

/// What every Git host adapter answers. The engine speaks only this (and the capabilities
/// below, which an adapter has or has not); wire formats stay inside each adapter.
public protocol GitProvider: AccountProvider {
    /// The workspaces (organizations, groups, the host for public Git) the user can read.
    func workspaces() async throws -> [ProviderWorkspace]
    /// Every repository the user may read.
    func repositories(in workspace: String) async throws -> [ProviderRepository]
    func branches(workspace: String, repository: String) async throws -> [ProviderBranch]
    /// Commits reachable from `revision` and not from `exclude`, newest first.
    func commits(workspace: String, repository: String, revision: String, exclude: [String], limit: Int) async throws -> [ProviderCommit]
    /// Branch heads from git's refs advertisement (the git budget, not REST).
    func branchHeads(cloneURL: String) async throws -> [String: String]
}

/// Names a workspace its listing left unnamed, and lists the repositories the user
/// administers (webhooks need admin).
public protocol WorkspaceDetails: GitProvider {
    func workspace(_ slug: String) async throws -> ProviderWorkspace
    func adminRepositorySlugs(in workspace: String) async throws -> Set<String>
}

/// Says cheaply which repositories of a workspace changed lately (discovery, DESIGN step 2).
public protocol RepositoryDiscovery: GitProvider {
    /// One page, most recently changed first.
    func recentlyUpdatedRepositories(in workspace: String) async throws -> [ProviderRepository]
    /// One request answers for every workspace (GitHub's `/user/repos`): a round of discovery
    /// costs one request, not one per workspace.
    var discoveryCoversEveryWorkspace: Bool { get }
    /// An unchanged answer costs nothing (a 304 to a conditional request), so looking often is cheap.
    var unchangedDiscoveryIsFree: Bool { get }
}

extension RepositoryDiscovery {
    public var discoveryCoversEveryWorkspace: Bool { false }
    public var unchangedDiscoveryIsFree: Bool { false }
}

/// Reads one repository's listing entry alone (public Git: one refs advertisement), for a
/// repository the user just added.
public protocol RepositoryLookup: GitProvider {
    func repository(workspace: String, slug: String) async throws -> ProviderRepository
}

/// Gives one commit's details (for a head the refs advertisement moved).
public protocol CommitDetails: GitProvider {
    func commit(workspace: String, repository: String, hash: String) async throws -> ProviderCommit
}

/// Gives several commits' details of one repository in one request (GitHub: one GraphQL query
/// with an alias per commit). Hashes it cannot resolve are left out of the answer.
public protocol BatchCommitDetails: CommitDetails {
    /// The most one request may ask for.
    var commitsPerBatch: Int { get }
    func commits(workspace: String, repository: String, hashes: [String]) async throws -> [String: ProviderCommit]
}

/// The user's own e-mail address (the primary, confirmed one). Asked at link time and on each
/// token refresh; a token without the scope for it gives nil, never an error.
public protocol UserEmails: AccountProvider {
    func primaryEmail() async throws -> String?
}

/// Checks at link time what a credential may do where its scopes do not say it plainly (GitHub's
/// fine-grained and apps' tokens, by asking; a GitLab token without `api`): one warning per thing
/// it cannot do, saying what to grant.
public protocol AccessReview: AccountProvider {
    func accessWarnings(for user: ProviderUser) async -> [String]
}

/// Push webhooks on repositories.
public protocol WebhookHosting: GitProvider {
    /// How the hooks it makes deliver (route, events, proof).
    var webhookDialect: any WebhookDialect { get }
    /// Webhooks of a repository (admin needed).
    func hooks(workspace: String, repository: String) async throws -> [ProviderHook]
    /// Creates a webhook that signs its deliveries with `secret`.
    func createHook(workspace: String, repository: String, url: String, secret: String, events: [String], description: String) async throws -> ProviderHook
    func deleteHook(workspace: String, repository: String, id: String) async throws
}

extension AccountProvider {
    public func classify(_ error: any Error) -> ProviderFailure { .of(error) }
}
