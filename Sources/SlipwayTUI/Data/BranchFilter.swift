import Dispatch
import Foundation
import SlipwayCore

/// Filters a large branch list in memory: a pass over the branches' own keys (memchr for the
/// needle's rarest byte, memcmp for the rest), split over the cores, and one over the few shared
/// repository and author keys — so a keystroke over a million branches costs milliseconds, not a
/// table scan in SQL. Typing on narrows the last answer instead of starting over, and the answers
/// of the last few needles are kept, so deleting back is free.
struct BranchFilter {
    let index: Store.BranchSearchIndex
    /// The data version the index was read at, and when.
    let version: Int?
    let builtAt: Date
    /// How often each byte occurs in the keys: the rarest byte of a needle is the one looked for.
    private let frequency: [Int]
    private var recent: [(needle: [UInt8], matches: Matches)] = []
    static let remembered = 32

    /// Which branches match, in list order: every one, or those at these positions.
    struct Matches: Sendable {
        fileprivate let positions: [UInt32]?
        let count: Int

        /// The ids of the window `offset ..< offset + limit`.
        func ids(in index: Store.BranchSearchIndex, offset: Int, limit: Int) -> [Int64] {
            guard offset < count else { return [] }
            let range = offset..<min(count, offset + limit)
            guard let positions else { return Array(index.ids[range]) }
            return range.map { index.ids[Int(positions[$0])] }
        }
    }

    init(index: Store.BranchSearchIndex, version: Int?, builtAt: Date) {
        self.index = index
        self.version = version
        self.builtAt = builtAt
        var frequency = [Int](repeating: 0, count: 256)
        // A sample is enough to know which bytes are rare.
        let stride = max(1, index.keys.count / 1_000_000)
        for position in Swift.stride(from: 0, to: index.keys.count, by: stride) { frequency[Int(index.keys[position])] += 1 }
        self.frequency = frequency
    }

    /// The branches whose name, author, repository, hash or subject contains `needle` (ASCII case folded).
    mutating func matches(_ needle: String) -> Matches {
        guard !needle.isEmpty else { return Matches(positions: nil, count: index.count) }
        let pin = needle.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        if let known = recent.firstIndex(where: { $0.needle == pin }) {
            let hit = recent.remove(at: known)
            recent.append(hit)
            return hit.matches
        }
        // A longer needle matches only where a shorter one it contains did: narrow the longest such answer.
        let within = recent.filter { $0.needle.count < pin.count && Self.contains(pin, $0.needle) }.max { $0.needle.count < $1.needle.count }?.matches
        let found = search(pin, within: within)
        recent.append((pin, found))
        if recent.count > Self.remembered { recent.removeFirst() }
        return found
    }

    private func search(_ pin: [UInt8], within: Matches?) -> Matches {
        let repositoryHits = Self.hits(pin, in: index.repositoryKeys)
        let authorHits = Self.hits(pin, in: index.authorKeys)
        let shared = repositoryHits.contains(true) || authorHits.contains(true)
        let anchor = pin.indices.min { frequency[Int(pin[$0])] < frequency[Int(pin[$1])] } ?? 0
        let total = within?.count ?? index.count
        // Two halves at once on two cores (each a contiguous range of candidates), then joined.
        let parts = total >= 100_000 ? max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4)) : 1
        var results = [[UInt32]](repeating: [], count: parts)
        results.withUnsafeMutableBufferPointer { slots in
            let slots = UnsafeSendable(slots)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let range = (total * part / parts)..<(total * (part + 1) / parts)
                var found: [UInt32] = []
                index.keys.withUnsafeBufferPointer { keys in
                    pin.withUnsafeBufferPointer { needle in
                        for candidate in range {
                            let branch = within?.positions.map { Int($0[candidate]) } ?? candidate
                            if shared, repositoryHits[Int(index.repositories[branch])] || authorHits[Int(index.authors[branch])] {
                                found.append(UInt32(branch))
                                continue
                            }
                            let start = Int(index.starts[branch])
                            let end = branch + 1 < index.count ? Int(index.starts[branch + 1]) : keys.count
                            if Self.occurs(needle, anchor: anchor, in: keys, from: start, to: end) { found.append(UInt32(branch)) }
                        }
                    }
                }
                slots.value[part] = found
            }
        }
        let positions = results.count == 1 ? results[0] : results.flatMap { $0 }
        return Matches(positions: positions, count: positions.count)
    }

    /// Whether the needle occurs in `keys[from..<to]`: memchr for its rarest byte (`anchor`), then
    /// memcmp around it.
    static func occurs(_ needle: UnsafeBufferPointer<UInt8>, anchor: Int, in keys: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Bool {
        guard let base = keys.baseAddress, let pin = needle.baseAddress, to - from >= needle.count else { return false }
        let byte = Int32(needle[anchor])
        var position = from + anchor
        let last = to - needle.count + anchor
        while position <= last {
            guard let hit = memchr(base + position, byte, last - position + 1) else { return false }
            let offset = base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) - anchor
            if memcmp(base + offset, pin, needle.count) == 0 { return true }
            position = offset + anchor + 1
        }
        return false
    }

    /// Which of the shared keys contain the needle.
    static func hits(_ pin: [UInt8], in keys: Store.BranchSearchIndex.SharedKeys) -> [Bool] {
        keys.bytes.withUnsafeBufferPointer { bytes in
            pin.withUnsafeBufferPointer { needle in
                (0..<keys.count).map { key in
                    occurs(needle, anchor: 0, in: bytes, from: Int(keys.starts[key]), to: key + 1 < keys.count ? Int(keys.starts[key + 1]) : bytes.count)
                }
            }
        }
    }

    static func contains(_ text: [UInt8], _ part: [UInt8]) -> Bool {
        guard part.count <= text.count else { return false }
        return (0...(text.count - part.count)).contains { text[$0..<($0 + part.count)].elementsEqual(part) }
    }
}

/// A buffer handed to the workers of `concurrentPerform`, each writing its own slot.
private struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
