import Foundation
import Testing
import SlipwayHTTP

@Suite("JSON reader")
struct JSONReaderTests {
    /// Reads a document into a plain tree, so each case can be checked against JSONSerialization.
    indirect enum Tree: Equatable {
        case object([String: Tree]), array([Tree]), string(String), number(Int), bool(Bool), null
    }

    static func tree(_ reader: inout JSONReader) throws -> Tree {
        switch reader.peekKind() {
        case .object:
            var fields: [String: Tree] = [:]
            try reader.object { reader, key in fields[key.text] = try tree(&reader) }
            return .object(fields)
        case .array:
            var items: [Tree] = []
            try reader.array { reader in items.append(try tree(&reader)) }
            return .array(items)
        case .string: return .string(try reader.string()!)
        case .number: return .number(try reader.int()!)
        case .bool: return .bool(try reader.bool()!)
        case .null:
            try reader.skip()
            return .null
        case nil:
            try reader.skip()
            return .null
        }
    }

    static func read(_ text: String) throws -> Tree {
        try JSONReader.read(Data(text.utf8)) { try tree(&$0) }
    }

    @Test("objects, arrays, strings, integers, booleans and null, with whitespace anywhere")
    func values() throws {
        let tree = try Self.read(#" { "a" : [1, -2 ,true,false, null] ,"b":{"c":"d"},"e":{},"f":[] } "#)
        #expect(tree == .object(["a": .array([.number(1), .number(-2), .bool(true), .bool(false), .null]),
                                 "b": .object(["c": .string("d")]), "e": .object([:]), "f": .array([])]))
    }

    @Test("escapes decode as JSONSerialization decodes them, surrogate pairs included; a lone surrogate is U+FFFD")
    func escapes() throws {
        let text = #"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u4e2d\ud83d\ude00", "\u001b[31m\u202e", "caf\u00E9"]"#
        let expected = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String])
        #expect(try Self.read(text) == .array(expected.map(Tree.string)))
        #expect(try Self.read(#""\ud83d x""#) == .string("\u{FFFD} x"))
        // Raw UTF-8 passes through untouched, and an escaped key still matches its name.
        #expect(try Self.read(#"{"n\u0061me":"zürich ✓"}"#) == .object(["name": .string("zürich ✓")]))
        let matched = try JSONReader.read(Data(#"{"n\u0061me":1}"#.utf8)) { reader -> Bool in
            var found = false
            try reader.object { reader, key in if key == "name" { found = try reader.int() == 1 } }
            return found
        }
        #expect(matched)
    }

    @Test("what a field does not read is skipped, however deep, strings with brackets and escapes included")
    func skipping() throws {
        let body = #"{"skip":{"x":[1,2.5e3,{"y":"]}\"{["}],"z":null},"want":"yes","also":[[[[]]]]}"#
        let want = try JSONReader.read(Data(body.utf8)) { reader -> String? in
            var want: String?
            try reader.object { reader, key in if key == "want" { want = try reader.string() } }
            return want
        }
        #expect(want == "yes")
        // Skipping does not recurse: a body nested far deeper than any stack allows is skipped.
        let deep = "{\"skip\":" + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "}"
        try JSONReader.read(Data(deep.utf8)) { reader in try reader.object { _, _ in } }
    }

    @Test("malformed, truncated and mistyped documents are errors naming the offset", arguments: [
        #"{"a":1"#, #"{"a" 1}"#, #"{"a":1,}"#, #"[1 2]"#, #""open"#, #"{"a":tru}"#, #"{"a":1} x"#, "", "   ",
        "{\"a\":\"line\nbreak\"}", #"{"a":"\q"}"#, #"{"a":"\u12"}"#, #"["#, #"{"a":[1,2}"#, #"]"#,
    ])
    func malformed(text: String) {
        #expect(throws: JSONReader.Failure.self) { _ = try Self.read(text) }
    }

    @Test("a value of the wrong type is an error; null is nil for any type")
    func types() throws {
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read(Data(#"5"#.utf8)) { try $0.string() } }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read(Data(#""5""#.utf8)) { try $0.int() } }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read(Data(#"2.5"#.utf8)) { try $0.int() } }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read(Data(#"99999999999999999999"#.utf8)) { try $0.int() } }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read(Data(#"[1]"#.utf8)) { reader in try reader.object { _, _ in } } }
        #expect(try JSONReader.read(Data("null".utf8)) { try $0.string() } == nil)
        #expect(try JSONReader.read(Data("null".utf8)) { try $0.int() } == nil)
        #expect(try JSONReader.read(Data("null".utf8)) { try $0.bool() } == nil)
        #expect(try JSONReader.read(Data("-42".utf8)) { try $0.int() } == -42)
        // A null object or array reads as empty.
        try JSONReader.read(Data("null".utf8)) { reader in try reader.object { _, _ in Issue.record("no keys in null") } }
        try JSONReader.read(Data("null".utf8)) { reader in try reader.array { _ in Issue.record("no items in null") } }
    }

    @Test("nesting past 512 levels is refused by the structured calls, not a crash")
    func depth() throws {
        func nested(_ reader: inout JSONReader) throws { try reader.array { reader in try nested(&reader) } }
        let text = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read(Data(text.utf8)) { try nested(&$0) } }
    }

    @Test("an HTTP response that does not read is a decoding error with the start of the body")
    func responseErrors() throws {
        let response = HTTPResponse(status: 200, body: Data(#"{"values": [{"name": "mai"#.utf8), url: "http://127.0.0.1/x")
        do {
            _ = try response.read("branches") { reader in try reader.object { _, _ in } }
            Issue.record("a truncated body must not read")
        } catch {
            guard case let .decoding(url, expected, excerpt) = error else { Issue.record("\(error)"); return }
            #expect(url == "http://127.0.0.1/x")
            #expect(expected == "branches")
            #expect(excerpt.contains("values"))
        }
    }
}
