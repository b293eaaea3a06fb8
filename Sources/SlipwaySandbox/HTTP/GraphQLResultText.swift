import Foundation
import GraphQL
import OrderedCollections

/// A GraphQL answer's JSON, written straight from its `Map`: a listing page is some 300 KB, and
/// `JSONEncoder` going through `Map`'s Codable conformance was a large share of the sandbox's
/// work for one. The same document `JSONEncoder` writes — keys in the result's order, undefined
/// values left out, numbers as their double value (GraphQL's `Int` and `Float` alike, as `Map`
/// encodes them) — for answers without errors; those keep going through `JSONEncoder`.
enum GraphQLResultText {
    static func data(_ result: GraphQLResult) -> Data? {
        guard result.errors.isEmpty else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(64 * 1024)
        out.append(contentsOf: #"{"data":"#.utf8)
        if let data = result.data {
            guard write(data, to: &out) else { return nil }
        } else {
            out.removeLast(#""data":"#.utf8.count)
        }
        out.append(UInt8(ascii: "}"))
        return Data(out)
    }

    /// False for a value JSON cannot hold (undefined at the top, a non-finite number).
    private static func write(_ value: Map, to out: inout [UInt8]) -> Bool {
        switch value {
        case .undefined:
            return false
        case .null:
            out.append(contentsOf: "null".utf8)
        case let .bool(flag):
            out.append(contentsOf: (flag ? "true" : "false").utf8)
        case let .number(number):
            let double = number.doubleValue
            guard double.isFinite else { return false }
            if double.rounded() == double, abs(double) < 1e15 {
                out.append(contentsOf: String(Int64(double)).utf8)
            } else {
                out.append(contentsOf: "\(double)".utf8)
            }
        case let .string(text):
            JSONText.writeString(text, to: &out)
        case let .array(items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                guard write(item, to: &out) else { return false }
            }
            out.append(UInt8(ascii: "]"))
        case let .dictionary(fields):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, field) in fields where !field.isUndefined {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSONText.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                guard write(field, to: &out) else { return false }
            }
            out.append(UInt8(ascii: "}"))
        }
        return true
    }
}
