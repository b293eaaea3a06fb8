import SlipwayProviders

/// The paths Slipway's inbound server answers. Providers are configured with these, so they
/// are part of the contract and change only with a migration note in the README.
public enum ServerRoutes {
    /// Bitbucket `repo:push` deliveries (GitHub and GitLab get their own paths with those providers).
    public static let bitbucketWebhook = WebhookPaths.bitbucket
    /// The OAuth loopback redirect (`http://127.0.0.1:<port>/callback`).
    public static let oauthCallback = "/callback"
    /// The daemon's health (`GET`), for the systemd unit and proxies: 200 when healthy, else 503.
    public static let health = "/healthz"
}
