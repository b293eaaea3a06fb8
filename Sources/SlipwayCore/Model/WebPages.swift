import Foundation
import SlipwayProviders

/// The web pages of mirrored things, as their provider's adapter shapes them: the dashboard asks
/// here and never builds a provider's URL itself. Nil where the provider has no such page (or is
/// not one this build knows).
public enum WebPages {
    public static func workspace(provider: String, webURL: String?, slug: String) -> String? {
        guard let links = links(provider), let webURL else { return nil }
        return links.workspace(webURL, slug)
    }

    public static func branch(provider: String, repositoryWebURL: String?, name: String) -> String? {
        guard let links = links(provider), let repositoryWebURL else { return nil }
        return links.branch(repositoryWebURL, name)
    }

    public static func commit(provider: String, repositoryWebURL: String?, hash: String) -> String? {
        guard let links = links(provider), let repositoryWebURL else { return nil }
        return links.commit(repositoryWebURL, hash)
    }

    /// `provider` as paths spell it (`bitbucket`).
    private static func links(_ provider: String) -> WebLinks? {
        ProviderKind(rawValue: provider).flatMap { ProviderRegistry.descriptor(for: $0)?.webLinks }
    }
}
