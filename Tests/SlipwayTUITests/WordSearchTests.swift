import Foundation
import Testing
@testable import SlipwayTUI

/// The filter looks for a needle in a subject eight starts at a time; it must find exactly what a
/// plain substring search finds, at the key's first and last bytes, for needles of every length.
@Suite("Word-wide subject search")
struct WordSearchTests {
    @Test("finds a needle exactly where a substring search does, inside the given range only")
    func matchesSubstring() {
        var generator = SeededGenerator(seed: 11)
        let alphabet = Array("abcab/-0".utf8)
        for _ in 0..<3_000 {
            let length = Int.random(in: 0...40, using: &generator)
            let text = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            // Other bytes around the range, then the padding the index adds.
            let before = Int.random(in: 0...9, using: &generator)
            let bytes = [UInt8](repeating: 97, count: before) + text + [UInt8](repeating: 98, count: 3) + [UInt8](repeating: 0, count: 16)
            let needle = (0..<Int.random(in: 1...5, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let expected = String(decoding: text, as: UTF8.self).contains(String(decoding: needle, as: UTF8.self))
            let found = bytes.withUnsafeBufferPointer { hay in
                needle.withUnsafeBufferPointer { BranchFilter.occursInWords($0, in: hay.baseAddress!, from: before, to: before + length) }
            }
            #expect(found == expected, "\(needle) in \(text)")
        }
    }
}
