import Foundation

/// JSON for the sandbox's `[String: Any]` documents. Foundation's `JSONSerialization` writer on
/// Linux goes through NSString and, with sorted keys, ICU collation: most of the sandbox's time
/// under load. This writes the same JSON (keys sorted by code point, `/` unescaped) directly.
enum JSONText {
    static func data(_ object: Any) -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        write(object, to: &out)
        return Data(out)
    }

    private static func write(_ value: Any, to out: inout [UInt8]) {
        switch value {
        case let string as String:
            writeString(string, to: &out)
        case let dictionary as [String: Any]:
            out.append(UInt8(ascii: "{"))
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                write(dictionary[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let bool as Bool where type(of: value) == Bool.self:
            out.append(contentsOf: (bool ? "true" : "false").utf8)
        case let int as Int:
            out.append(contentsOf: String(int).utf8)
        case let double as Double:
            out.append(contentsOf: Array((double.rounded() == double && abs(double) < 1e15 ? String(Int(double)) : String(double)).utf8))
        case let number as NSNumber:
            out.append(contentsOf: Array(number.stringValue.utf8))
        case is NSNull:
            out.append(contentsOf: "null".utf8)
        case let optional as Optional<Any>:
            if let wrapped = optional { write(wrapped, to: &out) } else { out.append(contentsOf: "null".utf8) }
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    static func writeString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escape: copied whole (byte by byte was a tenth of a delivery's cost).
        if !string.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: string.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
