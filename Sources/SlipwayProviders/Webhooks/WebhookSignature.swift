import Crypto
import Foundation

/// Bitbucket's delivery signature: `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body,
/// keyed with the hook's secret>`. Checked over the exact bytes received, in constant time.
public enum WebhookSignature {
    /// The header value Bitbucket sends for `body` under `secret`.
    public static func header(body: Data, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `header` is the right signature of `body`. A missing, malformed or other-algorithm
    /// header is simply not valid.
    public static func isValid(body: Data, header: String?, secret: String) -> Bool {
        guard let header, header.hasPrefix("sha256=") else { return false }
        let hex = header.dropFirst("sha256=".count).lowercased()
        guard hex.count == 64, let given = Data(hexString: String(hex)) else { return false }
        // HMAC's own validation compares in constant time.
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: body, using: SymmetricKey(data: Data(secret.utf8)))
    }
}

extension WebhookSignature {
    /// Whether a shared token (GitLab's `X-Gitlab-Token`) equals the hook's, in time that does not
    /// depend on where they differ: both are hashed to 32 bytes, which are compared in full.
    public static func tokensMatch(_ given: String?, _ secret: String) -> Bool {
        guard let given, !secret.isEmpty else { return false }
        let a = Array(SHA256.hash(data: Data(given.utf8))), b = Array(SHA256.hash(data: Data(secret.utf8)))
        var difference: UInt8 = 0
        for index in 0..<a.count { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

extension Data {
    init?(hexString: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hexString.count / 2)
        var iterator = hexString.unicodeScalars.makeIterator()
        while let high = iterator.next() {
            guard let low = iterator.next(), let h = UInt8(String(high), radix: 16), let l = UInt8(String(low), radix: 16) else { return nil }
            bytes.append(h << 4 | l)
        }
        self.init(bytes)
    }
}
