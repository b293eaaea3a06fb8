import Crypto
import Foundation

/// Bitbucket's delivery signature: `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body,
/// keyed with the hook's secret>`. Checked over the exact bytes received, in constant time.
public enum WebhookSignature {
    /// The header value Bitbucket sends for `body` under `secret`.
    public static func header(body: Data, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        var text = Array("sha256=".utf8)
        text.reserveCapacity(7 + 64)
        for byte in mac {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

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
    /// Pairs of hex digits (either case) as bytes; nil for an odd count or any other character.
    init?(hexString: String) {
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        let digits = Array(hexString.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes)
    }
}
