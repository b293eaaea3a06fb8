import Foundation

/// Numbers distinct byte strings densely, in the order first seen: an open-addressing table over
/// the strings' own bytes, so a million lookups cost no allocation each (a `Dictionary` keyed by
/// `Data` made one per branch).
struct ByteInterner {
    /// The distinct strings as given, back to back.
    private(set) var bytes: [UInt8] = []
    private(set) var starts: [UInt32] = []
    /// Number + 1 per bucket; 0 is empty.
    private var table: [UInt32]
    private var mask: Int
    /// Per table, so names crafted to collide in one process do not in another.
    private let seed = UInt64.random(in: 0...UInt64.max)

    var count: Int { starts.count }

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        table = [UInt32](repeating: 0, count: size)
        mask = size - 1
    }

    /// The bytes of string `number`.
    func withString<R>(_ number: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let start = Int(starts[number]), end = number + 1 < starts.count ? Int(starts[number + 1]) : bytes.count
        return bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[start..<end])) }
    }

    /// The number of `text`, given a new one when first seen; `isNew` says which.
    @inline(__always) mutating func intern(_ text: UnsafeBufferPointer<UInt8>) -> (number: UInt32, isNew: Bool) {
        var bucket = Int(truncatingIfNeeded: Self.hash(text, seed: seed)) & mask
        while true {
            let entry = table[bucket]
            if entry == 0 { break }
            if equals(Int(entry - 1), text) { return (entry - 1, false) }
            bucket = (bucket + 1) & mask
        }
        let number = UInt32(starts.count)
        starts.append(UInt32(bytes.count))
        bytes.append(contentsOf: text)
        table[bucket] = number + 1
        if starts.count * 2 > table.count { grow() }
        return (number, true)
    }

    private func equals(_ number: Int, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = Int(starts[number]), end = number + 1 < starts.count ? Int(starts[number + 1]) : bytes.count
        guard end - start == text.count else { return false }
        guard let other = text.baseAddress, !text.isEmpty else { return true }
        return bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + start, other, text.count) == 0 }
    }

    private mutating func grow() {
        let size = table.count * 2
        table = [UInt32](repeating: 0, count: size)
        mask = size - 1
        for number in 0..<starts.count {
            let hash = withString(number) { Self.hash($0, seed: seed) }
            var bucket = Int(truncatingIfNeeded: hash) & mask
            while table[bucket] != 0 { bucket = (bucket + 1) & mask }
            table[bucket] = UInt32(number + 1)
        }
    }

    /// FNV-1a from a seeded start, finished with a multiply-xorshift so the low bits (the
    /// bucket) depend on every byte.
    @inline(__always) static func hash(_ text: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for byte in text { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash ^= hash >> 29
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        return hash ^ (hash >> 32)
    }
}
