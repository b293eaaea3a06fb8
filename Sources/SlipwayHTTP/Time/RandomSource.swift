import Foundation

/// Randomness, injected so that jitter is reproducible in tests.
public protocol RandomSource: Sendable {
    /// A value in [0, 1).
    func nextUnit() -> Double
}

public struct SystemRandom: RandomSource {
    public init() {}

    public func nextUnit() -> Double { Double.random(in: 0..<1) }
}

/// SplitMix64: small, fast and reproducible from a seed.
public final class SeededRandom: RandomSource, @unchecked Sendable {
    // `state` is guarded by `lock`.
    private let lock = NSLock()
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public func nextUInt64() -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public func nextUnit() -> Double {
        Double(nextUInt64() >> 11) / Double(1 << 53)
    }
}
