import Foundation

/// Numbers distinct byte strings densely, in the order first seen: an open-addressing table over
/// the strings' own bytes, so a million lookups cost no allocation each (a `Dictionary` keyed by
/// `Data` made one per branch).
struct ByteInterner: Sendable {
    /// The distinct strings as given, back to back.
    private(set) var bytes: [UInt8] = []
    private(set) var starts: [UInt32] = []
    /// Number + 1 per bucket; 0 is empty.
    private var table: [UInt32]
    private var mask: Int
    /// Per table, so names crafted to collide in one process do not in another.
    private let seed = UInt64.random(in: 0...UInt64.max)

    /// The number standing for SQL's NULL (kept apart from the empty string, which it sorts
    /// before), once one was seen.
    private(set) var null: UInt32?

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

    /// The number of NULL, given a new one (an empty string that equals no other) when first seen.
    mutating func internNull() -> (number: UInt32, isNew: Bool) {
        if let null { return (null, false) }
        let number = UInt32(starts.count)
        starts.append(UInt32(bytes.count))
        null = number
        return (number, true)
    }

    private func equals(_ number: Int, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard number != null.map(Int.init) else { return false }
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

    /// Eight bytes at a time from a seeded start, finished with a multiply-xorshift so the low
    /// bits (the bucket) depend on every byte.
    @inline(__always) static func hash(_ text: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
        let multiplier: UInt64 = 0x9e37_79b9_7f4a_7c15
        var hash = (seed ^ UInt64(text.count)) &* multiplier
        guard let base = text.baseAddress else { return hash }
        let raw = UnsafeRawPointer(base)
        var index = 0
        while index + 8 <= text.count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* multiplier
            hash ^= hash >> 32
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < text.count {
            tail |= UInt64(base[index]) << shift
            shift += 8
            index += 1
        }
        hash = (hash ^ tail) &* multiplier
        hash ^= hash >> 29
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        return hash ^ (hash >> 32)
    }
}
