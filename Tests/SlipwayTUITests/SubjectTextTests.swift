import Foundation
import Testing
@testable import SlipwayTUI

/// A commit's subject as tables show it, trimmed as `CharacterSet.whitespaces` trims — without
/// Foundation in the path — and the filter's highlight offsets.
@Suite("Subject text")
struct SubjectTextTests {
    @Test("the first line, trimmed of tabs and space separators only, as Foundation trims it",
          arguments: ["  fix the build\t", "\u{00A0}\u{3000}wide\u{2003}", "\n\nsecond first\nthird", "\r\nline", "   ", "",
                      "keep\r", "\u{1B}[31mred\u{1B}[0m ", "é\u{301} accent ", "\t\u{202E}bidi\t"])
    func trims(message: String) {
        let line = message.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" }.first.map(String.init) ?? ""
        #expect(AccountText.subject(message) == line.trimmingCharacters(in: .whitespaces))
    }

    @Test("highlighting finds every case-insensitive occurrence, not overlapping")
    func highlights() {
        #expect(Highlight.ranges(of: "Ab", in: "xabABab") == [1, 2, 3, 4, 5, 6])
        #expect(Highlight.ranges(of: "aa", in: "aaa") == [0, 1])
        #expect(Highlight.ranges(of: "z", in: "abc").isEmpty)
        #expect(Highlight.ranges(of: "", in: "abc").isEmpty)
    }
}
