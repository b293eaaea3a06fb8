import Foundation
import GraphQL
import OrderedCollections
import Testing
@testable import SlipwaySandbox

@Suite("Sandbox JSON writer", .timeLimit(.minutes(3)))
struct JSONTextTests {
    @Test("writes what JSONSerialization reads back: hostile strings, numbers, booleans, null, nesting; keys sorted")
    func roundTrip() throws {
        let hostile = "quote \" backslash \\ newline \n tab \t cr \r esc \u{1B}[2J bell \u{07} bidi \u{202E} 日本 / slash"
        let object: [String: Any] = [
            "b": [1, 2.5, -3, true, false, NSNull(), ["x": hostile]] as [Any],
            "a": hostile, "c": ["nested": ["deeper": 1_700_000_000]], "d": 0.1, "e": [] as [Any], "f": [:] as [String: Any],
        ]
        let data = JSONText.data(object)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix(#"{"a":"#))
        #expect(text.contains(#"\u001b[2J"#))
        #expect(text.contains("/ slash"))
        let parsed = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(parsed["a"] as? String == hostile)
        let b = try #require(parsed["b"] as? [Any])
        #expect(b.count == 7)
        #expect((b[0] as? NSNumber)?.intValue == 1)
        #expect((b[1] as? NSNumber)?.doubleValue == 2.5)
        #expect((b[3] as? Bool) == true && (b[4] as? Bool) == false)
        #expect(b[5] is NSNull)
        #expect(((b[6] as? [String: Any])?["x"] as? String) == hostile)
        #expect(((parsed["c"] as? [String: Any])?["nested"] as? [String: Any])?["deeper"] as? Int == 1_700_000_000)
        #expect((parsed["d"] as? NSNumber)?.doubleValue == 0.1)
        #expect(text.hasSuffix(#""e":[],"f":{}}"#))
    }

    @Test("a GraphQL answer is written as JSONEncoder writes it: the result's key order, undefined left out, numbers by value")
    func graphQLResult() throws {
        let hostile = "quote \" backslash \\ newline \n esc \u{1B}[2J bidi \u{202E} 日本 / slash"
        let data: Map = .dictionary([
            "viewer": .dictionary([
                "login": .string(hostile), "databaseId": .number(Number(123_456)), "ratio": .number(Number(0.25)),
                "gone": .undefined, "isPrivate": .bool(true), "defaultBranchRef": .null,
                "nodes": .array([.dictionary(["name": .string("main"), "oid": .string(String(repeating: "a", count: 40))]), .dictionary([:])]),
            ]),
        ])
        let result = GraphQLResult(data: data)
        let written = try #require(GraphQLResultText.data(result))
        let encoded = try JSONEncoder().encode(result)
        #expect(try JSONSerialization.jsonObject(with: written) as? NSDictionary == JSONSerialization.jsonObject(with: encoded) as? NSDictionary)
        // Keys in the result's order, as the engine put them.
        let text = String(decoding: written, as: UTF8.self)
        #expect(text.hasPrefix(#"{"data":{"viewer":{"login":"#) && !text.contains("gone"))
        #expect(text.range(of: #""databaseId":123456,"ratio":0.25,"isPrivate":true,"defaultBranchRef":null"#) != nil)
        // Answers with errors keep JSONEncoder's path; no data is an object without it.
        #expect(GraphQLResultText.data(GraphQLResult(data: nil, errors: [GraphQLError(message: "x")])) == nil)
        #expect(GraphQLResultText.data(GraphQLResult(data: nil)).map { String(decoding: $0, as: UTF8.self) } == "{}")
    }
}
