import Dispatch
import Foundation
import SlipwayCore

/// Filters a large branch list in memory. A keystroke first asks the few shared keys (names,
/// repositories, authors) which contain the needle, then walks the slots in storage order — the
/// packed subjects stream through memory, memchr for the needle's rarest byte, memcmp for the
/// rest; hex needles also against the raw hashes, nibble by nibble — split over the cores, into
/// a bitmap of slots; the list order is read out of the bitmap last. Typing on narrows the last
/// answer instead of starting over, and the last few answers are kept (a bitmap each, an eighth
/// of a byte a branch), so deleting back is free.
struct BranchFilter {
    let index: Store.BranchSearchIndex
    /// When the index was read (it is read again when the mirror's generation moves, at most
    /// this often).
    let builtAt: Date
    /// How often each byte occurs in the subjects: the rarest byte of a needle is the one looked for.
    private let frequency: [Int]
    private var recent: [(needle: [UInt8], matches: Matches)] = []
    /// The list positions of the last answer asked for a window, kept while it is paged.
    private var listed: (needle: [UInt8], positions: [UInt32])?
    static let remembered = 32

    /// Which branches match: every one, or the slots whose bit is set.
    struct Matches: Sendable {
        fileprivate let bits: [UInt64]?
        let count: Int
    }

    init(index: Store.BranchSearchIndex, builtAt: Date) {
        self.index = index
        self.builtAt = builtAt
        var frequency = [Int](repeating: 0, count: 256)
        // A sample is enough to know which bytes are rare.
        let stride = max(1, index.subjects.count / 1_000_000)
        for position in Swift.stride(from: 0, to: index.subjects.count, by: stride) { frequency[Int(index.subjects[position])] += 1 }
        self.frequency = frequency
    }

    static func fold(_ needle: String) -> [UInt8] { needle.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 } }

    /// The ids of the window `offset ..< offset + limit` of the branches matching `needle`, in list order.
    mutating func ids(matching needle: String, offset: Int, limit: Int) -> (total: Int, ids: [Int64]) {
        let matches = matches(needle)
        guard offset < matches.count else { return (matches.count, []) }
        let range = offset..<min(matches.count, offset + limit)
        guard let bits = matches.bits else { return (matches.count, range.map { index.ids[Int(index.order[$0])] }) }
        let pin = Self.fold(needle)
        if listed?.needle != pin {
            var positions: [UInt32] = []
            positions.reserveCapacity(matches.count)
            index.order.withUnsafeBufferPointer { order in
                bits.withUnsafeBufferPointer { bits in
                    for (position, slot) in order.enumerated() where bits[Int(slot) >> 6] & (1 << UInt64(slot & 63)) != 0 {
                        positions.append(UInt32(position))
                    }
                }
            }
            listed = (pin, positions)
        }
        let positions = listed!.positions
        return (matches.count, range.map { index.ids[Int(index.order[Int(positions[$0])])] })
    }

    /// The branches whose name, author, repository, hash or subject contains `needle` (ASCII case folded).
    mutating func matches(_ needle: String) -> Matches {
        guard !needle.isEmpty else { return Matches(bits: nil, count: index.count) }
        let pin = Self.fold(needle)
        if let known = recent.firstIndex(where: { $0.needle == pin }) {
            let hit = recent.remove(at: known)
            recent.append(hit)
            return hit.matches
        }
        // A longer needle matches only where a shorter one it contains did: narrow the longest such answer.
        let within = recent.filter { $0.needle.count < pin.count && Self.contains(pin, $0.needle) }.max { $0.needle.count < $1.needle.count }?.matches
        let found = search(pin, within: within?.bits)
        recent.append((pin, found))
        if recent.count > Self.remembered { recent.removeFirst() }
        return found
    }

    private func search(_ pin: [UInt8], within: [UInt64]?) -> Matches {
        let nameHits = Self.hits(pin, in: index.nameKeys)
        let repositoryHits = Self.hits(pin, in: index.repositoryKeys)
        let authorHits = Self.hits(pin, in: index.authorKeys)
        let hex = HexNeedle(pin)
        let anchor = pin.indices.min { frequency[Int(pin[$0])] < frequency[Int(pin[$1])] } ?? 0
        let words = (index.count + 63) / 64
        var bits = [UInt64](repeating: 0, count: words)
        // Contiguous ranges of 64-slot words, one per core: each part writes only its own words.
        let parts = index.count >= 100_000 ? max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4)) : 1
        var counts = [Int](repeating: 0, count: parts)
        bits.withUnsafeMutableBufferPointer { out in
            counts.withUnsafeMutableBufferPointer { counted in
                let out = UnsafeSendable(out), counted = UnsafeSendable(counted)
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    var found = 0
                    index.subjects.withUnsafeBufferPointer { subjects in
                        index.hashes.withUnsafeBufferPointer { hashes in
                            pin.withUnsafeBufferPointer { needle in
                                for word in (words * part / parts)..<(words * (part + 1) / parts) {
                                    var candidates = within?[word] ?? ~0
                                    if word == words - 1, index.count & 63 != 0 { candidates &= (1 << UInt64(index.count & 63)) - 1 }
                                    var matched: UInt64 = 0
                                    while candidates != 0 {
                                        let bit = candidates.trailingZeroBitCount
                                        candidates &= candidates - 1
                                        let slot = word << 6 | bit
                                        if nameHits[Int(index.names[slot])] || repositoryHits[Int(index.repositories[slot])] || authorHits[Int(index.authors[slot])]
                                            || Self.occurs(needle, anchor: anchor, in: subjects, from: Int(index.subjectStarts[slot]), to: index.subjectEnd(slot))
                                            || (hex.map { $0.occurs(in: hashes.baseAddress! + slot * 20) } ?? false) && !index.hasTextHash(slot) {
                                            matched |= 1 << UInt64(bit)
                                        }
                                    }
                                    out.value[word] = matched
                                    found += matched.nonzeroBitCount
                                }
                            }
                        }
                    }
                    counted.value[part] = found
                }
            }
        }
        return Matches(bits: bits, count: counts.reduce(0, +))
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
                (0..<keys.count).map { key in occurs(needle, anchor: 0, in: bytes, from: Int(keys.starts[key]), to: keys.end(key)) }
            }
        }
    }

    static func contains(_ text: [UInt8], _ part: [UInt8]) -> Bool {
        guard part.count <= text.count else { return false }
        return (0...(text.count - part.count)).contains { text[$0..<($0 + part.count)].elementsEqual(part) }
    }
}

/// A needle of hex digits, matched against a hash's 20 raw bytes at every nibble offset: the
/// byte its first two digits make is looked for with memchr (even offsets), the byte its second
/// and third make one byte later (odd offsets), and the rest compared nibble by nibble.
struct HexNeedle {
    let nibbles: [UInt8]

    init?(_ pin: [UInt8]) {
        guard !pin.isEmpty, pin.count <= 40 else { return nil }
        var nibbles: [UInt8] = []
        for byte in pin {
            switch byte {
            case 48...57: nibbles.append(byte - 48)
            case 97...102: nibbles.append(byte - 87)
            default: return nil
            }
        }
        self.nibbles = nibbles
    }

    @inline(__always) static func nibble(_ hash: UnsafePointer<UInt8>, _ position: Int) -> UInt8 {
        position & 1 == 0 ? hash[position >> 1] >> 4 : hash[position >> 1] & 15
    }

    /// Whether the needle's digits appear in the 40 digits of the hash at `hash`.
    func occurs(in hash: UnsafePointer<UInt8>) -> Bool {
        let count = nibbles.count
        if count == 1 {
            let digit = nibbles[0]
            for index in 0..<20 where hash[index] >> 4 == digit || hash[index] & 15 == digit { return true }
            return false
        }
        let last = 40 - count
        return nibbles.withUnsafeBufferPointer { needle in
            func matches(at start: Int, from checked: Int) -> Bool {
                for offset in checked..<count where Self.nibble(hash, start + offset) != needle[offset] { return false }
                return true
            }
            // Even offsets: whole bytes equal to the first two digits.
            let first = Int32(needle[0] << 4 | needle[1])
            let lastByte = last / 2
            var byte = 0
            while byte <= lastByte, let hit = memchr(hash + byte, first, lastByte - byte + 1) {
                byte = UnsafeRawPointer(hash).distance(to: UnsafeRawPointer(hit))
                if matches(at: byte * 2, from: 2) { return true }
                byte += 1
            }
            // Odd offsets: the first digit ends a byte, the next ones begin the following.
            for start in stride(from: 1, through: last, by: 2) where hash[start >> 1] & 15 == needle[0] && matches(at: start, from: 1) {
                return true
            }
            return false
        }
    }
}

/// A buffer handed to the workers of `concurrentPerform`, each writing its own slot.
private struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
