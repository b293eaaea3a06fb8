import Foundation
import SlipwayHTTP

/// Polls the token endpoint for a device code until someone approves it (RFC 8628 §3.4–3.5): at
/// the interval the provider named, 5 s slower after each `slow_down` (or at the interval it sends
/// with one), backing off on network trouble; the user's refusal and the code's expiry end it.
/// The clock is injected, so the waits are tested without sleeping.
public struct DeviceFlow: Sendable {
    public var client: OAuthClient
    public var clock: any SlipwayClock

    public init(client: OAuthClient, clock: any SlipwayClock = SystemClock()) {
        self.client = client
        self.clock = clock
    }

    /// How many polls and waits a run took (for tests and progress lines).
    public struct Progress: Sendable, Equatable {
        public var polls = 0
        public var interval: TimeInterval
    }

    public func token(for authorization: DeviceAuthorization,
                      onProgress: @Sendable (Progress) -> Void = { _ in }) async throws -> OAuthToken {
        let deadline = clock.now.addingTimeInterval(authorization.expiresIn)
        var progress = Progress(interval: max(1, authorization.interval))
        var backoff: TimeInterval = 0
        while true {
            try await clock.sleep(for: progress.interval + backoff)
            guard clock.now < deadline else { throw OAuthError.expired }
            progress.polls += 1
            let poll: DevicePoll
            do {
                poll = try await client.pollDevice(authorization.deviceCode)
                backoff = 0
            } catch let error as HTTPError where error.isTransient {
                // A lost answer is not a refusal: wait longer and ask again while the code lives.
                backoff = min(60, max(progress.interval, backoff * 2))
                onProgress(progress)
                continue
            }
            switch poll {
            case let .token(token):
                return token
            case .pending:
                break
            case let .slowDown(interval):
                progress.interval = max(interval ?? 0, progress.interval + 5)
            }
            onProgress(progress)
        }
    }
}
