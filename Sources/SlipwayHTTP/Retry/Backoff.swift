import Foundation

/// Capped exponential backoff with full jitter (AWS, "Exponential Backoff And Jitter"):
/// `sleep = random(0, min(cap, base · 2^attempt))`.
public struct Backoff: Sendable, Equatable {
    public var base: TimeInterval
    public var cap: TimeInterval
    /// Attempts in all, the first included.
    public var maxAttempts: Int

    public init(base: TimeInterval = 0.5, cap: TimeInterval = 30, maxAttempts: Int = 4) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
    }

    /// The ceiling of the wait before retry number `retry` (0 for the first retry).
    public func ceiling(retry: Int) -> TimeInterval {
        min(cap, base * pow(2, Double(min(retry, 62))))
    }

    public func delay(retry: Int, random: any RandomSource) -> TimeInterval {
        random.nextUnit() * ceiling(retry: retry)
    }
}

/// How long a credential pauses after a 429. With `Retry-After`: what it says, clamped to an
/// hour. Without: at least 60 s, doubling with jitter on each further 429 in a row, up to 15 min.
public struct RateLimitPausePolicy: Sendable, Equatable {
    public var minimum: TimeInterval = 60
    public var maximum: TimeInterval = 15 * 60
    public var retryAfterClamp: TimeInterval = 3600

    public init() {}

    /// `consecutive` counts 429s in a row, this one included (1 for the first).
    public func pause(retryAfter: TimeInterval?, consecutive: Int, random: any RandomSource) -> TimeInterval {
        if let retryAfter { return min(max(0, retryAfter), retryAfterClamp) }
        let doubled = minimum * pow(2, Double(max(0, min(consecutive - 1, 30))))
        // Jitter upwards only, so a pause is never shorter than the minimum.
        let jittered = doubled * (1 + random.nextUnit() * 0.5)
        return min(maximum, max(minimum, jittered))
    }
}

public enum RetryAfter {
    /// `Retry-After` in either form RFC 9110 allows: delay-seconds or an HTTP-date.
    public static func parse(_ value: String, now: Date) -> TimeInterval? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed) { return seconds >= 0 ? TimeInterval(seconds) : nil }
        guard let date = HTTPDate.parse(trimmed) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}

public enum HTTPDate {
    private static let formats = [
        "EEE, dd MMM yyyy HH:mm:ss zzz", // IMF-fixdate
        "EEEE, dd-MMM-yy HH:mm:ss zzz",  // RFC 850
        "EEE MMM d HH:mm:ss yyyy",       // asctime
    ]

    public static func parse(_ text: String) -> Date? {
        for format in formats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }

    public static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
