import Foundation
import TOMLKit

/// A TOML value as plain Swift, for readers outside the core (themes) that should not depend
/// on the TOML library.
public indirect enum TOMLNode: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case double(Double)
    case bool(Bool)
    case array([TOMLNode])
    case table([String: TOMLNode])

    public var typeName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .double: "a number"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

/// A parsed TOML file that can say on which line a key is, so every message names file and line.
public struct TOMLDocument: Sendable {
    public let file: String
    public let root: [String: TOMLNode]
    private let lines: [String]

    public init(text: String, file: String) throws(ConfigError) {
        self.file = file
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        do {
            root = Self.convert(try TOMLTable(string: text))
        } catch let error as TOMLParseError {
            throw ConfigError(file: file, line: error.source.begin.line,
                              message: "not valid TOML: \(error.description.split(whereSeparator: \.isNewline).joined(separator: " "))")
        } catch {
            throw ConfigError(file: file, line: nil, message: "not valid TOML: \(error)")
        }
    }

    /// The line a key is set on (for keys inside inline tables, the line of the nearest
    /// enclosing key that can be found).
    public func line(of path: [String]) -> Int? {
        let locator = KeyLocator(text: lines.joined(separator: "\n"))
        var path = path
        while !path.isEmpty {
            if let line = locator.line(of: path) { return line }
            path.removeLast()
        }
        return nil
    }

    public func error(_ path: [String], _ message: String) -> ConfigError {
        ConfigError(file: file, line: line(of: path), message: message)
    }

    private static func convert(_ table: TOMLTable) -> [String: TOMLNode] {
        var out: [String: TOMLNode] = [:]
        for key in table.keys { if let value = table[key] { out[key] = convert(value) } }
        return out
    }

    private static func convert(_ value: any TOMLValueConvertible) -> TOMLNode {
        if let table = value.table { return .table(convert(table)) }
        if let array = value.array { return .array(array.map { convert($0) }) }
        switch value.type {
        case .bool: return .bool(value.bool ?? false)
        case .int: return .integer(value.int ?? 0)
        case .double: return .double(value.double ?? 0)
        default: return .string(value.string ?? "\(value)")
        }
    }
}
