/// The Git hosts Slipway can link. Bitbucket Cloud comes first; the others follow the same
/// adapter protocol.
public enum ProviderKind: String, Sendable, Codable, CaseIterable, Comparable {
    case bitbucket
    case github
    case gitlab
    case git


    /// Every kind here hosts Git; a deploy target (App Platform) is an account of its own kind.
    public var accountKind: AccountKind {
        switch self {
        case .bitbucket, .github, .gitlab, .git: .git
        }
    }

    public var displayName: String {
        switch self {
        case .bitbucket: "Bitbucket Cloud"
        case .github: "GitHub"
        case .gitlab: "GitLab"
        case .git: "Git"
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
