import Foundation
import SlipwayHTTP

/// Everything one account's adapter is built from.
public struct ProviderConnection: Sendable {
    public var apiURL: String
    public var webURL: String
    public var credential: ProviderCredential
    public var http: HTTPClient
    /// Budgets are kept per credential name ("account:7"); nil spends from no budget (linking).
    public var budgetCredential: String?
    /// For expiring (OAuth) tokens: asked for the credential before each request.
    public var credentialSource: (any CredentialSource)?
    /// What the user added, for a provider with no listing of its own (public Git).
    public var publicRepositories: [PublicGitURL] = []
    /// Where public Git's commit details are fetched to.
    public var gitCache: GitObjectCache?

    public init(apiURL: String, webURL: String, credential: ProviderCredential, http: HTTPClient, budgetCredential: String? = nil,
                credentialSource: (any CredentialSource)? = nil) {
        self.apiURL = apiURL
        self.webURL = webURL
        self.credential = credential
        self.http = http
        self.budgetCredential = budgetCredential
        self.credentialSource = credentialSource
    }
}

/// The ways `slipway link` can authenticate with a provider.
public enum LinkMethod: String, Sendable, CaseIterable {
    case token, apiToken = "api_token", oauthCode = "oauth", clientCredentials = "client_credentials", device
}

/// Where a provider's OAuth pages and token endpoint are, relative to its web URL, and how its
/// token endpoint wants the client to prove itself.
public struct OAuthEndpoints: Sendable, Equatable {
    /// RFC 6749 §2.3.1: Basic credentials (Bitbucket), or `client_id`/`client_secret` in the form (GitHub).
    public enum ClientAuthentication: Sendable, Equatable { case basic, form }

    public var authorizePath: String
    public var tokenPath: String
    /// The RFC 8628 device authorization endpoint, where the provider has the device flow.
    public var deviceAuthorizationPath: String?
    public var clientAuthentication: ClientAuthentication

    public init(authorizePath: String, tokenPath: String, deviceAuthorizationPath: String? = nil, clientAuthentication: ClientAuthentication = .basic) {
        self.authorizePath = authorizePath
        self.tokenPath = tokenPath
        self.deviceAuthorizationPath = deviceAuthorizationPath
        self.clientAuthentication = clientAuthentication
    }
}

/// Where a provider's web pages are: the shapes of its URLs are its own business.
public struct WebLinks: Sendable {
    /// A workspace's page, from the account's web URL.
    public var workspace: @Sendable (_ webURL: String, _ slug: String) -> String?
    /// A branch's page, from its repository's page.
    public var branch: @Sendable (_ repositoryWebURL: String, _ name: String) -> String?
    /// A commit's page, from its repository's page.
    public var commit: @Sendable (_ repositoryWebURL: String, _ hash: String) -> String?

    public init(workspace: @escaping @Sendable (String, String) -> String?, branch: @escaping @Sendable (String, String) -> String?,
                commit: @escaping @Sendable (String, String) -> String?) {
        self.workspace = workspace
        self.branch = branch
        self.commit = commit
    }

    /// A path segment as a URL needs it (a branch name may hold `/`, spaces, `#`).
    public static func escaped(_ segment: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#")
        return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
    }
}

/// What Slipway knows about a kind of provider before an account exists: its defaults, how it
/// links, what it needs, how git names its credential, and how to build its adapter. The engine,
/// the linker and the CLI ask this, not the adapter's type.
public struct ProviderDescriptor: Sendable {
    public var kind: ProviderKind
    public var defaultAPIURL: String
    public var defaultWebURL: String
    /// Hourly allowances when the config names none (REST, git smart HTTP).
    public var restRequestsPerHour: Int
    public var gitRequestsPerHour: Int
    /// GraphQL points per hour, where the provider meters GraphQL apart (GitHub's 5,000).
    public var graphQLPointsPerHour: Int? = nil
    /// A second REST window, where the provider meters per minute (GitLab).
    public var restRequestsPerMinute: Int? = nil
    /// Concurrent requests per credential when the config names none.
    public var maxInFlight: Int = 4
    /// Each workspace is a host of its own with its own git budget (public Git), not one
    /// account's share.
    public var budgetPerWorkspace: Bool = false
    public var linkMethods: [LinkMethod]
    /// What a dashboard needs; a token lacking one gets a warning at link time.
    public var minimumScopes: [String]
    /// What the OAuth flows ask for (empty: the OAuth consumer's own settings decide).
    public var requestedScopes: [String]
    /// What they ask for with `--public-only` (nil: the provider has no such narrower grant).
    public var publicOnlyScopes: [String]? = nil
    /// What a dashboard needs when only public repositories were granted.
    public var publicOnlyMinimumScopes: [String]? = nil
    /// What the OAuth flows add with `--webhooks`, where reading and installing hooks are
    /// different grants (GitLab's `api`).
    public var webhookScopes: [String]? = nil
    /// Whether the code flow's exchange needs the client secret (GitLab's PKCE does not).
    public var codeFlowNeedsSecret: Bool = true
    public var oauth: OAuthEndpoints?
    /// git's Basic user name for a credential (smart HTTP and the deployer's fetch).
    public var gitUsername: @Sendable (ProviderCredential) -> String
    /// What is wrong with an `--api-url`, before any request.
    public var apiURLProblem: @Sendable (String) -> String?
    public var webLinks: WebLinks
    /// How its push webhooks are delivered; nil where it has none (public Git).
    public var webhookDialect: (any WebhookDialect)?
    /// The adapter: a `GitProvider` for a Git host, the App Platform client for a deploy target.
    public var make: @Sendable (ProviderConnection) -> any AccountProvider
}

extension ProviderDescriptor {
    /// The adapter of a Git host; nil for a deploy target.
    public func makeGitProvider(_ connection: ProviderConnection) -> (any GitProvider)? {
        make(connection) as? any GitProvider
    }
}

/// Kind → descriptor, for every provider this build can link.
public enum ProviderRegistry {
    public static let descriptors: [ProviderDescriptor] = [BitbucketProvider.descriptor, GitHubProvider.descriptor, GitLabProvider.descriptor,
                                                           PublicGitProvider.descriptor, AppPlatformClient.descriptor]

    public static func descriptor(for kind: ProviderKind) -> ProviderDescriptor? {
        descriptors.first { $0.kind == kind }
    }

    /// Every provider's webhook dialect: the receiver serves one route each.
    public static var webhookDialects: [any WebhookDialect] { descriptors.compactMap(\.webhookDialect) }
}
