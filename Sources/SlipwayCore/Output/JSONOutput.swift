import Foundation

/// The JSON conventions of the contract: snake_case keys, ISO 8601 UTC timestamps with `Z`,
/// stable key order, strings exactly as providers gave them.
public enum JSONOutput {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 timestamp: \(text)"))
            }
            return date
        }
        return decoder
    }

    /// `2026-12-02T06:45:00Z`, or `…:00.250Z` with milliseconds when the date has a fraction —
    /// exactly what `ISO8601DateFormatter` writes, without building one per call (every log
    /// line and JSON date goes through here; a formatter each time was a tenth of the daemon's
    /// CPU under a webhook burst).
    public static func timestamp(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        let whole = interval.rounded(.down)
        // Milliseconds rounded to the nearest, as the formatter rounds them (999.6 ms is the
        // next second's .000).
        let totalMillis = (interval * 1000).rounded()
        var seconds = time_t((totalMillis / 1000).rounded(.down))
        let millis = Int32(totalMillis - Double(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        var text = "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
        if whole != interval {
            text += "." + pad(millis, 3)
        }
        return text + "Z"
    }

    public static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// Encodes a value as one line of JSON text.
    public static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }
}
