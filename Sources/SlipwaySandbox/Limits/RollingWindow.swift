import Foundation

/// Requests per credential over a rolling hour.
struct RollingWindow: Sendable {
    private var stamps: [String: [Date]] = [:]

    /// Records a request if the credential is under `limit`; returns (allowed, used after).
    mutating func admit(_ credential: String, limit: Int, now: Date) -> (allowed: Bool, used: Int) {
        var times = stamps[credential, default: []]
        let cutoff = now.addingTimeInterval(-3600)
        if let firstLive = times.firstIndex(where: { $0 > cutoff }) {
            if firstLive > 0 { times.removeFirst(firstLive) }
        } else {
            times.removeAll()
        }
        guard limit <= 0 || times.count < limit else {
            stamps[credential] = times
            return (false, times.count)
        }
        times.append(now)
        stamps[credential] = times
        return (true, times.count)
    }

    mutating func reset() { stamps.removeAll() }
}
