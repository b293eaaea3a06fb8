/// The paths Slipway's inbound server answers besides each provider's webhook route (which its
/// dialect names). Providers are configured with these, so they are part of the contract and
/// change only with a migration note in the README.
public enum ServerRoutes {
    /// The OAuth loopback redirect (`http://127.0.0.1:<port>/callback`).
    public static let oauthCallback = "/callback"
    /// The daemon's health (`GET`), for the systemd unit and proxies: 200 when healthy, else 503.
    public static let health = "/healthz"
}
