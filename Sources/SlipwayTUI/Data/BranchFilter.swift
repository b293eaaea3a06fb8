import Foundation
import SlipwayCore

/// Filters a large branch list in memory: one pass over all search keys (memchr for the first
/// byte, memcmp for the rest), so a keystroke over 100,000 branches costs milliseconds, not a
/// table scan in SQL.
struct BranchFilter {
    let index: Store.BranchSearchIndex
    /// The data version the index was read at, and when.
    let version: Int?
    let builtAt: Date
    private var cache: (needle: String, matches: [Int64])?

    init(index: Store.BranchSearchIndex, version: Int?, builtAt: Date) {
        self.index = index
        self.version = version
        self.builtAt = builtAt
    }

    /// Ids of the branches whose name, author, repository, hash or subject contains `needle` (ASCII case folded).
    mutating func matches(_ needle: String) -> [Int64] {
        guard !needle.isEmpty else { return index.ids }
        if let cache, cache.needle == needle { return cache.matches }
        let pin = Array(needle.utf8).map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        var found: [Int64] = []
        index.keys.withUnsafeBufferPointer { keys in
            pin.withUnsafeBufferPointer { pin in
                guard let base = keys.baseAddress, let pinBase = pin.baseAddress else { return }
                var position = 0
                var keyIndex = 0
                while position < keys.count {
                    guard let offset = Self.find(pinBase, pin.count, in: base, from: position, count: keys.count) else { break }
                    // The key holding this offset: starts are ascending; move forward from the last one.
                    while keyIndex + 1 < index.starts.count && index.starts[keyIndex + 1] <= offset { keyIndex += 1 }
                    found.append(index.ids[keyIndex])
                    // One match per key: continue at the next key.
                    guard keyIndex + 1 < index.starts.count else { break }
                    position = index.starts[keyIndex + 1]
                    keyIndex += 1
                }
            }
        }
        cache = (needle, found)
        return found
    }

    /// The offset of the first occurrence of the needle at or after `from`.
    static func find(_ needle: UnsafePointer<UInt8>, _ length: Int, in base: UnsafePointer<UInt8>, from: Int, count: Int) -> Int? {
        var position = from
        let first = Int32(needle[0])
        while count - position >= length {
            guard let hit = memchr(base + position, first, count - position - length + 1) else { return nil }
            let offset = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if length == 1 || memcmp(base + offset + 1, needle + 1, length - 1) == 0 { return offset }
            position = offset + 1
        }
        return nil
    }
}
