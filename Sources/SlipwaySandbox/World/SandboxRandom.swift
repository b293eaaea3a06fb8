import Foundation

/// SplitMix64: the sandbox's only source of randomness, so a seed always builds the same world
/// and the same sequence of pushes.
struct SandboxRandom {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed &+ 0x5851_F42D_4C95_7F2D
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func unit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }

    mutating func chance(_ p: Double) -> Bool { unit() < p }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

    /// 40 hex digits, shaped like a SHA-1.
    mutating func hash() -> String {
        var text = ""
        text.reserveCapacity(80)
        for _ in 0..<3 { text += Self.hex16(next()) }
        _ = (next(), next())  // five words drawn, as ever, so a seed's world stays the same
        return String(text.prefix(40))
    }

    /// `%016llx`, without `String(format:)` (which a push's hashes spent most of their time in).
    static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return digits.count >= 16 ? digits : String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// `{8-4-4-4-12}`, as Bitbucket writes UUIDs.
    mutating func uuid() -> String {
        let hex = (0..<2).map { _ in String(format: "%016llx", next()) }.joined()
        let c = Array(hex)
        return "{\(String(c[0..<8]))-\(String(c[8..<12]))-4\(String(c[13..<16]))-a\(String(c[17..<20]))-\(String(c[20..<32]))}"
    }
}
