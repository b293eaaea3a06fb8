/// What Slipway can link: the Git hosts (Bitbucket Cloud first; the others follow the same
/// adapter protocol) and one deploy target, DigitalOcean App Platform.
public enum ProviderKind: String, Sendable, Codable, CaseIterable, Comparable {
    case bitbucket
    case github
    case gitlab
    case git
    case digitalocean

    /// A Git host to mirror, or a target to deploy on (App Platform).
    public var accountKind: AccountKind {
        switch self {
        case .bitbucket, .github, .gitlab, .git: .git
        case .digitalocean: .deploy
        }
    }

    public var displayName: String {
        switch self {
        case .bitbucket: "Bitbucket Cloud"
        case .github: "GitHub"
        case .gitlab: "GitLab"
        case .git: "Git"
        case .digitalocean: "DigitalOcean"
        }
    }

    /// The REST base a new link uses unless `--api-url` says otherwise (the adapter's default).
    public var defaultAPIURL: String { ProviderRegistry.descriptor(for: self)?.defaultAPIURL ?? "" }

    /// The web base (OAuth pages, links shown to the user) unless `--web-url` says otherwise.
    public var defaultWebURL: String { ProviderRegistry.descriptor(for: self)?.defaultWebURL ?? "" }

    public static func < (lhs: ProviderKind, rhs: ProviderKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// What an account is for: a Git host to mirror, or a target to deploy on.
public enum AccountKind: String, Sendable, Codable {
    case git, deploy
}
