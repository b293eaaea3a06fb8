import Foundation
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
}
