import Foundation

/// A pull reader over a JSON document's bytes, for the few listings that arrive by the thousand
/// (an initial sync reads a branch page per repository). `JSONDecoder` builds a tree of every
/// value, then a Codable value of it, key by key through protocol witnesses; this walks the bytes
/// once, hands the caller each key as bytes to compare, and makes a `String` only of the values
/// the caller asks for. Whatever it is not asked to read it skips without allocating.
///
/// It is strict where decoding must be (a truncated body, a missing comma, an unterminated string
/// or a value of the wrong type is an error naming the offset) and does not recurse when it
/// skips, so a hostile, deeply nested body cannot exhaust the stack.
public struct JSONReader {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let offset: Int
        public let reason: String

        @usableFromInline init(offset: Int, reason: String) {
            self.offset = offset
            self.reason = reason
        }
        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// An object's key, compared as bytes without making a `String` of it.
    public struct Key {
        @usableFromInline let bytes: UnsafeRawBufferPointer
        /// Set when the key had escapes: its decoded text.
        @usableFromInline let decoded: String?

        @usableFromInline init(bytes: UnsafeRawBufferPointer, decoded: String?) {
            self.bytes = bytes
            self.decoded = decoded
        }

        @inlinable public static func == (key: Key, name: StaticString) -> Bool {
            if let decoded = key.decoded { return decoded == name.description }
            guard key.bytes.count == name.utf8CodeUnitCount else { return false }
            return memcmp(key.bytes.baseAddress!, name.utf8Start, key.bytes.count) == 0
        }

        public var text: String { decoded ?? String(decoding: bytes, as: UTF8.self) }
    }

    @usableFromInline let base: UnsafePointer<UInt8>
    @usableFromInline let count: Int
    @usableFromInline var position = 0
    /// How deep `object`/`array` calls are nested; bounded like any parser's recursion.
    @usableFromInline var depth = 0
    @usableFromInline static let maximumDepth = 512

    /// Reads `bytes`; they must outlive the reader (use `JSONReader.read(_:_:)`).
    @inlinable public init(_ bytes: UnsafeRawBufferPointer) {
        base = bytes.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) } ?? UnsafePointer(bitPattern: 1)!
        count = bytes.count
    }

    /// Reads one document from `data` with `body`, which must consume exactly one value; anything
    /// but whitespace after it is an error.
    @inlinable public static func read<T>(_ data: Data, _ body: (inout JSONReader) throws -> T) throws -> T {
        try data.withUnsafeBytes { raw in
            var reader = JSONReader(raw)
            let value = try body(&reader)
            reader.skipWhitespace()
            guard reader.position == reader.count else { throw reader.failure("unexpected text after the document") }
            return value
        }
    }

    // MARK: Structure

    /// Calls `field` for each key of an object, positioned at its value; `field` must read or
    /// skip that value. `null` is taken as an object with no keys.
    @inlinable public mutating func object(_ field: (inout JSONReader, Key) throws -> Void) throws {
        if consumeNull() { return }
        try expect(UInt8(ascii: "{"), "expected an object")
        try enter()
        defer { depth -= 1 }
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { position += 1; return }
        while true {
            skipWhitespace()
            let key = try readKey()
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "expected ':' after a key")
            skipWhitespace()
            let before = position
            try field(&self, key)
            if position == before { try skip() }
            skipWhitespace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return
            default: throw failure("expected ',' or '}' in an object")
            }
        }
    }

    /// Calls `element` for each value of an array; `null` is taken as an empty array.
    @inlinable public mutating func array(_ element: (inout JSONReader) throws -> Void) throws {
        if consumeNull() { return }
        try expect(UInt8(ascii: "["), "expected an array")
        try enter()
        defer { depth -= 1 }
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { position += 1; return }
        while true {
            skipWhitespace()
            let before = position
            try element(&self)
            if position == before { try skip() }
            skipWhitespace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"): return
            default: throw failure("expected ',' or ']' in an array")
            }
        }
    }

    // MARK: Values

    /// A string; `null` is nil; any other type is an error.
    @inlinable public mutating func string() throws -> String? {
        if consumeNull() { return nil }
        return try withString { bytes, decoded in decoded ?? String(decoding: bytes, as: UTF8.self) }
    }

    /// Hands the bytes of a string value to `body` without making a `String` of them (or, when the
    /// string had escapes, its decoded text as well); `null` is nil.
    @inlinable public mutating func withString<T>(_ body: (UnsafeBufferPointer<UInt8>, String?) throws -> T) throws -> T? {
        if consumeNull() { return nil }
        skipWhitespace()
        try expect(UInt8(ascii: "\""), "expected a string")
        let start = position
        while position < count {
            let byte = base[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return try body(UnsafeBufferPointer(start: base + start, count: position - 1 - start), nil)
            }
            if byte == UInt8(ascii: "\\") {
                position = start
                let text = try readEscaped()
                var copy = text
                return try copy.withUTF8 { try body($0, text) }
            }
            if byte < 0x20 { throw failure("a control character in a string") }
            position += 1
        }
        throw failure("an unterminated string")
    }

    /// A boolean; `null` is nil.
    @inlinable public mutating func bool() throws -> Bool? {
        if consumeNull() { return nil }
        if consume("true") { return true }
        if consume("false") { return false }
        throw failure("expected true or false")
    }

    /// An integer; `null` is nil; a fraction or an exponent is an error.
    @inlinable public mutating func int() throws -> Int? {
        if consumeNull() { return nil }
        skipWhitespace()
        var negative = false
        if peek() == UInt8(ascii: "-") { negative = true; position += 1 }
        let start = position
        var value = 0
        while position < count, base[position] >= 48, base[position] <= 57 {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(base[position] - 48))
            guard !overflow1, !overflow2 else { throw failure("an integer out of range") }
            value = sum
            position += 1
        }
        guard position > start else { throw failure("expected a number") }
        if let byte = peek(), byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            throw failure("expected an integer")
        }
        return negative ? -value : value
    }

    public enum Kind: Sendable { case object, array, string, number, bool, null }

    /// The type of the next value (not consumed); nil at the end of the document or before a
    /// byte no value starts with.
    @inlinable public mutating func peekKind() -> Kind? {
        skipWhitespace()
        guard let byte = peek() else { return nil }
        switch byte {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), 48...57: return .number
        default: return nil
        }
    }

    /// Skips one value of any type, however deeply nested, without recursing. Inside what it skips
    /// it checks that strings end and brackets balance, not where each comma goes.
    @inlinable public mutating func skip() throws {
        skipWhitespace()
        var open = 0
        repeat {
            skipWhitespace()
            guard let byte = peek() else { throw failure("an unexpected end of the document") }
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                open += 1
                position += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard open > 0 else { throw failure("an unexpected '\(Character(Unicode.Scalar(byte)))'") }
                open -= 1
                position += 1
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                guard open > 0 else { throw failure("an unexpected '\(Character(Unicode.Scalar(byte)))'") }
                position += 1
            case UInt8(ascii: "\""):
                try skipString()
            case UInt8(ascii: "t"):
                guard consume("true") else { throw failure("an unknown literal") }
            case UInt8(ascii: "f"):
                guard consume("false") else { throw failure("an unknown literal") }
            case UInt8(ascii: "n"):
                guard consume("null") else { throw failure("an unknown literal") }
            case UInt8(ascii: "-"), 48...57:
                position += 1
                while let next = peek(), (48...57).contains(next) || next == UInt8(ascii: ".") || next == UInt8(ascii: "e")
                        || next == UInt8(ascii: "E") || next == UInt8(ascii: "+") || next == UInt8(ascii: "-") {
                    position += 1
                }
            default:
                throw failure("an unexpected character")
            }
        } while open > 0
    }

    // MARK: Bytes

    @usableFromInline mutating func readKey() throws -> Key {
        try expect(UInt8(ascii: "\""), "expected a key")
        let start = position
        while position < count {
            let byte = base[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return Key(bytes: UnsafeRawBufferPointer(start: base + start, count: position - 1 - start), decoded: nil)
            }
            if byte == UInt8(ascii: "\\") {
                position = start
                return Key(bytes: UnsafeRawBufferPointer(start: base, count: 0), decoded: try readEscaped())
            }
            if byte < 0x20 { throw failure("a control character in a key") }
            position += 1
        }
        throw failure("an unterminated key")
    }

    /// Reads the rest of a string from just after its opening quote, undoing escapes.
    @usableFromInline mutating func readEscaped() throws -> String {
        var bytes: [UInt8] = []
        while position < count {
            let byte = base[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: bytes, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escape = next() else { break }
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escape)
                case UInt8(ascii: "b"): bytes.append(8)
                case UInt8(ascii: "f"): bytes.append(12)
                case UInt8(ascii: "n"): bytes.append(10)
                case UInt8(ascii: "r"): bytes.append(13)
                case UInt8(ascii: "t"): bytes.append(9)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), matches("\\u") {
                        let saved = position
                        position += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            position = saved
                        }
                    }
                    // A lone surrogate is not a scalar: shown as the replacement character.
                    bytes.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
                default:
                    throw failure("an unknown escape in a string")
                }
            case 0..<0x20:
                throw failure("a control character in a string")
            default:
                bytes.append(byte)
            }
        }
        throw failure("an unterminated string")
    }

    @usableFromInline mutating func hex4() throws -> UInt32 {
        guard position + 4 <= count else { throw failure("a truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = base[position]
            let digit: UInt8
            switch byte {
            case 48...57: digit = byte - 48
            case 65...70: digit = byte - 55
            case 97...102: digit = byte - 87
            default: throw failure("a bad \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    @usableFromInline mutating func skipString() throws {
        position += 1
        while position < count {
            let byte = base[position]
            position += 1
            if byte == UInt8(ascii: "\"") { return }
            if byte == UInt8(ascii: "\\") { position += 1 } else if byte < 0x20 { throw failure("a control character in a string") }
        }
        throw failure("an unterminated string")
    }

    @usableFromInline mutating func enter() throws {
        depth += 1
        guard depth <= Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth) levels") }
    }

    @usableFromInline mutating func skipWhitespace() {
        while position < count {
            switch base[position] {
            case 32, 9, 10, 13: position += 1
            default: return
            }
        }
    }

    @usableFromInline func peek() -> UInt8? { position < count ? base[position] : nil }

    @usableFromInline mutating func next() -> UInt8? {
        guard position < count else { return nil }
        defer { position += 1 }
        return base[position]
    }

    @usableFromInline mutating func expect(_ byte: UInt8, _ reason: String) throws {
        guard position < count else { throw failure("an unexpected end of the document (\(reason))") }
        guard base[position] == byte else { throw failure(reason) }
        position += 1
    }

    @usableFromInline func matches(_ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        return position + length <= count && memcmp(base + position, literal.utf8Start, length) == 0
    }

    @usableFromInline mutating func consume(_ literal: StaticString) -> Bool {
        guard matches(literal) else { return false }
        position += literal.utf8CodeUnitCount
        return true
    }

    @usableFromInline mutating func consumeNull() -> Bool {
        skipWhitespace()
        return consume("null")
    }

    @usableFromInline func failure(_ reason: String) -> Failure { Failure(offset: position, reason: reason) }
}
