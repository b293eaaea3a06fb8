import Crypto
import Foundation

/// The Standard Webhooks signature (GitLab 19.0+ hooks with a `signing_token`):
/// `webhook-signature: v1,<base64 HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")>`,
/// where the key is the base64 after `whsec_`. Several space-separated signatures may come (a key
/// being rotated): one valid `v1` is enough. A timestamp further than the tolerance from now, either
/// way, is refused, so a captured delivery cannot be replayed later.
public enum StandardWebhookSignature {
    public static let secretPrefix = "whsec_"
    /// How far `webhook-timestamp` may be from the receiver's clock.
    public static let tolerance: TimeInterval = 5 * 60

    /// The key a `whsec_…` secret encodes; nil when it is not base64.
    public static func key(fromSecret secret: String) -> SymmetricKey? {
        let encoded = secret.hasPrefix(secretPrefix) ? String(secret.dropFirst(secretPrefix.count)) : secret
        guard let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else { return nil }
        return SymmetricKey(data: bytes)
    }

    /// The `webhook-signature` value a sender puts on `body`.
    public static func sign(id: String, timestamp: Int, body: Data, key: SymmetricKey) -> String {
        "v1," + Data(HMAC<SHA256>.authenticationCode(for: signedContent(id: id, timestamp: String(timestamp), body: body), using: key)).base64EncodedString()
    }

    public enum Verdict: Sendable, Equatable {
        case valid
        /// A header is missing or not in the format.
        case malformed
        /// The timestamp is outside the tolerance (a replay, or a clock far off).
        case stale
        /// No signature matches.
        case mismatch
    }

    /// Checks a delivery's three headers (as received) against the key at `now`.
    public static func verify(id: String?, timestamp: String?, signatures: String?, body: Data, key: SymmetricKey, now: Date) -> Verdict {
        guard let id, !id.isEmpty, let timestamp, let seconds = Int(timestamp), let signatures else { return .malformed }
        guard abs(now.timeIntervalSince1970 - Double(seconds)) <= tolerance else { return .stale }
        let given = signatures.split(separator: " ").compactMap { entry -> Data? in
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1" else { return nil }
            return Data(base64Encoded: String(parts[1]))
        }
        guard !given.isEmpty else { return .malformed }
        // Signed as sent: the timestamp's own digits.
        let content = signedContent(id: id, timestamp: timestamp, body: body)
        // HMAC's own validation compares in constant time.
        return given.contains { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: content, using: key) } ? .valid : .mismatch
    }

    private static func signedContent(id: String, timestamp: String, body: Data) -> Data {
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(body)
        return content
    }
}
