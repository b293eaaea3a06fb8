import Foundation
import Testing
import SlipwayHTTP
@testable import SlipwayTUI

/// Hashes are kept as 20 raw bytes; a needle of hex digits must find them exactly where a search
/// of the 40-digit text would, at even and odd offsets, at both ends, for every length.
@Suite("Hex needles")
struct HexNeedleTests {
    @Test("a hex needle occurs in the raw bytes exactly where it occurs in their hex text")
    func matchesText() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<400 {
            let bytes = (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = bytes.map { String(format: "%02x", $0) }.joined()
            var needles = [String(text.prefix(1)), String(text.suffix(1)), String(text.suffix(3)), text, String(text.dropFirst().prefix(5))]
            for _ in 0..<20 {
                let length = Int.random(in: 1...6, using: &generator)
                needles.append(String((0..<length).map { _ in "0123456789abcdef".randomElement(using: &generator)! }))
            }
            for needle in needles {
                let hex = HexNeedle(Array(needle.utf8))!
                let found = bytes.withUnsafeBufferPointer { hex.occurs(in: $0.baseAddress!) }
                #expect(found == text.contains(needle), "\(needle) in \(text)")
            }
        }
    }

    @Test("only hex digits (folded) of at most 40 make a hex needle")
    func onlyHex() {
        #expect(HexNeedle(Array("feature".utf8)) == nil)
        #expect(HexNeedle(Array("".utf8)) == nil)
        #expect(HexNeedle(Array(String(repeating: "a", count: 41).utf8)) == nil)
        #expect(HexNeedle(Array("c0ffee".utf8))?.nibbles == [12, 0, 15, 15, 14, 14])
    }
}

/// `SeededRandom` (SlipwayHTTP's injected randomness) as a generator, so a failure names the
/// same case every run.
struct SeededGenerator: RandomNumberGenerator {
    let random: SeededRandom
    init(seed: UInt64) { random = SeededRandom(seed: seed) }
    mutating func next() -> UInt64 { random.nextUInt64() }
}
