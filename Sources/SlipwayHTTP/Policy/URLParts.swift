import Foundation

/// Scheme, host and port of a URL, as `URLComponents` reads them. Every request reads them
/// several times (the URL policy, the credential's origins, the budget's authority), and
/// Foundation's parser costs microseconds each; the common plain shape — `http(s)://` and a
/// lowercase DNS name or IPv4 address, an optional port, then only characters RFC 3986 allows
/// unescaped — is read here byte by byte. Anything else (user info, brackets, upper case,
/// punycode labels, which Foundation decodes, escapes in the authority, odd characters anywhere)
/// goes to `URLComponents`, so the answer is always Foundation's: a test holds the two to the
/// same results.
struct URLParts: Equatable {
    var scheme: String
    var host: String
    var port: Int?

    static func parse(_ url: String) -> URLParts? {
        if let plain = plain(url) { return plain }
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return nil }
        return URLParts(scheme: scheme, host: host, port: components.port)
    }

    /// The plain shape, or nil to let Foundation decide.
    static func plain(_ url: String) -> URLParts? {
        var url = url
        return url.withUTF8 { bytes -> URLParts? in
            let schemeLength: Int
            if bytes.starts(with: "https://".utf8) { schemeLength = 5 } else if bytes.starts(with: "http://".utf8) { schemeLength = 4 } else { return nil }
            var index = schemeLength + 3
            let hostStart = index
            var labelLength = 0
            while index < bytes.count {
                let byte = bytes[index]
                if (97...122).contains(byte) || (48...57).contains(byte) || byte == 45 {
                    labelLength += 1
                } else if byte == 46 {
                    guard labelLength > 0 else { return nil }
                    labelLength = 0
                } else {
                    break
                }
                index += 1
            }
            guard labelLength > 0 else { return nil }
            let hostEnd = index
            // Foundation shows punycode labels (`xn--…`) decoded: its business.
            var cursor = hostStart
            while cursor + 4 <= hostEnd {
                if (cursor == hostStart || bytes[cursor - 1] == 46), bytes[cursor] == 120, bytes[cursor + 1] == 110, bytes[cursor + 2] == 45,
                   bytes[cursor + 3] == 45 { return nil }
                cursor += 1
            }
            var port: Int?
            if index < bytes.count, bytes[index] == 58 {
                index += 1
                var value = 0, digits = 0
                while index < bytes.count, (48...57).contains(bytes[index]), digits < 5 {
                    value = value * 10 + Int(bytes[index] - 48)
                    digits += 1
                    index += 1
                }
                guard digits > 0, value <= 65535 else { return nil }
                port = value
            }
            // The authority ends at the path, the query, the fragment or the end.
            guard index == bytes.count || bytes[index] == 47 || bytes[index] == 63 || bytes[index] == 35 else { return nil }
            var fragments = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 37 {
                    guard index + 2 < bytes.count, isHex(bytes[index + 1]), isHex(bytes[index + 2]) else { return nil }
                    index += 3
                    continue
                }
                if byte == 35 {
                    fragments += 1
                    guard fragments == 1 else { return nil }
                } else if !allowed(byte) {
                    return nil
                }
                index += 1
            }
            return URLParts(scheme: schemeLength == 5 ? "https" : "http",
                            host: String(decoding: UnsafeBufferPointer(rebasing: bytes[hostStart..<hostEnd]), as: UTF8.self), port: port)
        }
    }

    private static func isHex(_ byte: UInt8) -> Bool { (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte) }

    /// Unreserved, sub-delimiters, `:`, `@`, `/` and `?`: what a path, a query and a fragment
    /// may hold unescaped.
    private static func allowed(_ byte: UInt8) -> Bool {
        switch byte {
        case 65...90, 97...122, 48...57: true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="): true
        case UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "/"), UInt8(ascii: "?"): true
        default: false
        }
    }
}
