import Foundation

/// Where a credential may go: scheme + host + port, as browsers draw the line. Two URLs on the
/// same host but another port or scheme are different origins.
public struct Origin: Hashable, Sendable, CustomStringConvertible {
    public let scheme: String
    /// Lowercased, without IPv6 brackets.
    public let host: String
    /// Explicit, or the scheme's default (443, 80).
    public let port: Int

    public init?(url: String) {
        guard let parts = URLParts.parse(url), !parts.host.isEmpty else { return nil }
        let scheme = parts.scheme.lowercased()
        var host = parts.host.lowercased()
        if host.hasPrefix("[") { host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) }
        guard let port = parts.port ?? Self.defaultPort(scheme) else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    public static func defaultPort(_ scheme: String) -> Int? {
        switch scheme {
        case "https": 443
        case "http": 80
        default: nil
        }
    }

    public var description: String {
        Self.defaultPort(scheme) == port ? "\(scheme)://\(bracketedHost)" : explicitDescription
    }

    /// `scheme://host:port`, the port written even when it is the scheme's default.
    public var explicitDescription: String { "\(scheme)://\(bracketedHost):\(port)" }

    private var bracketedHost: String { host.contains(":") ? "[\(host)]" : host }
}
