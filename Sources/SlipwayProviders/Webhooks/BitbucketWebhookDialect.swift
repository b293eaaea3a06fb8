import Foundation

/// What Bitbucket's deliveries say about themselves beyond the payload.
public enum BitbucketWebhookDialect {
    /// Bitbucket sends `X-Request-UUID` on every delivery and keeps it across retries, so a
    /// delivery without one is not Bitbucket's and is refused.
    public static let deliveryIDHeader = "x-request-uuid"
    public static let deliveryIDRequired = true

    /// The delivery id from lowercased header names, in one case: a UUID is the same id
    /// whichever case its hex digits arrive in.
    public static func deliveryID(_ headers: [String: String]) -> String? {
        guard let raw = headers[deliveryIDHeader]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        return raw.lowercased()
    }
}
