/// Where Slipway's receiver takes each provider's deliveries. Hooks on the providers point here,
/// so these are part of the contract (the receiver serves them; the installer builds URLs).
public enum WebhookPaths {
    public static let bitbucket = "/webhooks/bitbucket"
}
