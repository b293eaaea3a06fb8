import Foundation
import SlipwayHTTP
import SlipwayProviders

/// The URL a provider's hook should call: `--url`, else `webhooks.public_url` (the address of a
/// reverse proxy or tunnel in front of the receiver), else the receiver's own `listen` address —
/// which only a provider on this host (the sandbox) can reach.
public enum WebhookTarget {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case noPublicURL(listen: String, provider: String)
        case noWebhooks(provider: String)
        case invalid(String, reason: String)

        public var description: String {
            switch self {
            case let .noWebhooks(provider):
                "\(provider) has no push webhooks"
            case let .noPublicURL(listen, provider):
                "\(provider) cannot reach \(listen); set webhooks.public_url to the https address of a reverse proxy or tunnel to it, or pass --url"
            case let .invalid(url, reason):
                "cannot use \(url) as the webhook URL: \(reason)"
            }
        }
    }

    /// The delivery URL for an account's hooks, on its provider's route.
    public static func url(for account: Account, override: String?, publicURL: String, listen: String) throws(Failure) -> String {
        guard let dialect = ProviderRegistry.descriptor(for: account.provider)?.webhookDialect else {
            throw .noWebhooks(provider: account.provider.displayName)
        }
        return try url(override: override, publicURL: publicURL, listen: listen, providerAPI: account.apiURL, route: dialect.route,
                       providerName: account.provider.displayName)
    }

    /// The full delivery URL; a base without the receiver's route gets it appended.
    public static func url(override: String?, publicURL: String, listen: String, providerAPI: String, route: String,
                           providerName: String = "the provider") throws(Failure) -> String {
        if let chosen = [override ?? "", publicURL].first(where: { !$0.isEmpty }) {
            do {
                _ = try URLPolicy.check(chosen, allowLoopbackHTTP: true)
            } catch {
                throw .invalid(chosen, reason: error.description)
            }
            var base = chosen
            while base.hasSuffix("/") { base.removeLast() }
            return base.hasSuffix(route) ? base : base + route
        }
        guard let address = ListenAddress(listen), let apiHost = URLComponents(string: providerAPI)?.host,
              URLPolicy.isLoopback(host: apiHost) else { throw .noPublicURL(listen: listen, provider: providerName) }
        let host = address.host == "0.0.0.0" || address.host == "::" ? "127.0.0.1" : address.host
        return "http://\(host.contains(":") ? "[\(host)]" : host):\(address.port)\(route)"
    }
}
