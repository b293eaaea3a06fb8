/// The product version, kept in the lowest module so the User-Agent and `--version` agree.
public enum SlipwayVersion {
    public static let current = "0.1.0"
    public static var userAgent: String { "slipway/\(current)" }
}
