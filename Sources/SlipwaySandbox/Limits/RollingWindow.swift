import Foundation

/// Requests per credential over a rolling hour (or, for GitLab's limits, a rolling minute).
struct RollingWindow: Sendable {
    private var stamps: [String: [Date]] = [:]
    let span: TimeInterval

    init(span: TimeInterval = 3600) {
        self.span = span
    }

    /// Records a request (worth `weight`: GraphQL's points) if the credential stays within
    /// `limit`; returns (allowed, used after).
    mutating func admit(_ credential: String, limit: Int, now: Date, weight: Int = 1) -> (allowed: Bool, used: Int) {
        var times = stamps[credential, default: []]
        let cutoff = now.addingTimeInterval(-span)
        if let firstLive = times.firstIndex(where: { $0 > cutoff }) {
            if firstLive > 0 { times.removeFirst(firstLive) }
        } else {
            times.removeAll()
        }
        guard limit <= 0 || times.count + weight <= limit else {
            stamps[credential] = times
            return (false, times.count)
        }
        times.append(contentsOf: repeatElement(now, count: max(1, weight)))
        stamps[credential] = times
        return (true, times.count)
    }

    /// When the credential's oldest counted request leaves the window (GitHub's `x-ratelimit-reset`).
    func resetsAt(_ credential: String, now: Date) -> Date {
        (stamps[credential]?.first ?? now).addingTimeInterval(span)
    }

    /// Requests the credential has made in the last hour.
    func used(_ credential: String, now: Date) -> Int {
        let cutoff = now.addingTimeInterval(-span)
        return stamps[credential]?.filter { $0 > cutoff }.count ?? 0
    }

    /// Takes back the credential's latest request (an answer that costs nothing, such as a 304).
    mutating func refund(_ credential: String) {
        if stamps[credential]?.isEmpty == false { stamps[credential]?.removeLast() }
    }

    mutating func reset() { stamps.removeAll() }
}
