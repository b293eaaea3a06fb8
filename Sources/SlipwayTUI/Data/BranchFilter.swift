import Foundation
import SlipwayCore

/// Filters a large branch list in memory: one pass over the branches' own keys (memchr for the
/// first byte, memcmp for the rest) and one over the few shared repository and author keys, so
/// a keystroke over a million branches costs milliseconds, not a table scan in SQL.
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
        let pin = needle.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        let repositoryHits = Self.hits(pin, in: index.repositoryKeys.bytes, starts: index.repositoryKeys.starts)
        let authorHits = Self.hits(pin, in: index.authorKeys.bytes, starts: index.authorKeys.starts)
        var found: [Int64] = []
        if !repositoryHits.contains(true) && !authorHits.contains(true) {
            // The usual case: only the branches' own keys can match.
            Self.scan(pin, in: index.keys, starts: index.starts) { found.append(index.ids[$0]) }
        } else {
            var own: [Int] = []
            Self.scan(pin, in: index.keys, starts: index.starts) { own.append($0) }
            var next = 0
            for branch in 0..<index.count {
                let mine = next < own.count && own[next] == branch
                if mine { next += 1 }
                if mine || repositoryHits[Int(index.repositories[branch])] || authorHits[Int(index.authors[branch])] { found.append(index.ids[branch]) }
            }
        }
        cache = (needle, found)
        return found
    }

    /// Which of the keys contain the needle.
    static func hits(_ pin: [UInt8], in bytes: [UInt8], starts: [UInt32]) -> [Bool] {
        var hits = [Bool](repeating: false, count: starts.count)
        scan(pin, in: bytes, starts: starts) { hits[$0] = true }
        return hits
    }

    /// Calls `match` with the number of every key containing the needle, in order.
    static func scan(_ pin: [UInt8], in bytes: [UInt8], starts: [UInt32], match: (Int) -> Void) {
        bytes.withUnsafeBufferPointer { keys in
            pin.withUnsafeBufferPointer { pin in
                guard let base = keys.baseAddress, let pinBase = pin.baseAddress else { return }
                var position = 0
                var keyIndex = 0
                while position < keys.count {
                    guard let offset = find(pinBase, pin.count, in: base, from: position, count: keys.count) else { break }
                    // The key holding this offset: starts are ascending; move forward from the last one.
                    while keyIndex + 1 < starts.count && Int(starts[keyIndex + 1]) <= offset { keyIndex += 1 }
                    match(keyIndex)
                    // One match per key: continue at the next key.
                    guard keyIndex + 1 < starts.count else { break }
                    position = Int(starts[keyIndex + 1])
                    keyIndex += 1
                }
            }
        }
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
