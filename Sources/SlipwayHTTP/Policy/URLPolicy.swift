import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one URL rule for every URL Slipway sends to — API and web URLs, OAuth endpoints, webhook
/// public URLs, clone URLs: https everywhere; plain http only for a literal loopback address or
/// the name `localhost` (which libcurl resolves to loopback itself). A *name* that merely starts
/// with `127.` (`127.0.0.1.nip.io`) resolves wherever its owner likes, so it needs https.
public enum URLPolicy {
    /// `127.0.0.0/8`, `::1`, `::ffff:127.x.y.z` as literals, or `localhost`.
    public static func isLoopback(host: String) -> Bool {
        var h = host.lowercased()
        if h.hasPrefix("[") { h = h.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) }
        if h == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, h, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, h, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        // IPv4-mapped: ::ffff:127.x.y.z
        return bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127
    }

    /// `host` or `host:port` of a URL: budgets are kept per authority.
    public static func authority(of url: String) -> String? {
        guard let parts = URLParts.parse(url) else { return nil }
        return parts.port.map { "\(parts.host):\($0)" } ?? parts.host
    }

    /// Scheme and host of an allowed URL, or the reason it is refused.
    @discardableResult
    public static func check(_ text: String, allowLoopbackHTTP: Bool = true) throws(HTTPError) -> (scheme: String, host: String) {
        guard let parts = URLParts.parse(text), !parts.host.isEmpty else { throw .invalidURL(text) }
        let scheme = parts.scheme.lowercased(), host = parts.host
        switch scheme {
        case "https": return (scheme, host)
        case "http" where allowLoopbackHTTP && isLoopback(host: host): return (scheme, host)
        default: throw .insecureURL(text)
        }
    }
}
