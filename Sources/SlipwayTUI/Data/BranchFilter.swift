import Dispatch
import Foundation
import SlipwayCore

/// Filters a large branch list in memory. A keystroke first asks the few shared keys (names,
/// repositories, authors) which contain the needle, then walks the slots in storage order — hex
/// needles against the raw hashes, a word at a time, then the packed subjects streaming through
/// memory, eight starts at a time for the needle's first two bytes, memcmp where both match —
/// split over the cores, into a bitmap of slots; the list order is read out of the bitmap last,
/// only as far as the window shown. Typing on narrows the last
/// answer instead of starting over, and the last few answers are kept (a bitmap each, an eighth
/// of a byte a branch), so deleting back is free.
public struct BranchFilter: Sendable {
    public let index: Store.BranchSearchIndex
    /// When the index was read (it is read again when the mirror's generation moves, at most
    /// this often).
    let builtAt: Date
    private var recent: [(needle: [UInt8], matches: Matches)] = []
    /// The list positions of the last answer asked for a window, found as far as a window has
    /// needed (a first page needs only its own rows), kept while it is paged.
    private var listed: (needle: [UInt8], positions: [UInt32], walked: Int)?
    static let remembered = 32
    /// How far ahead of the word being searched its subjects are touched, in bytes.
    static let touchAhead = 8192

    /// Takes a value the optimiser must then compute (the touched bytes), and does nothing with it.
    @_optimize(none) static func keep(_ value: UInt8) {}

    /// Which branches match: every one, or the slots whose bit is set.
    public struct Matches: Sendable {
        fileprivate let bits: [UInt64]?
        public let count: Int
    }

    public init(index: Store.BranchSearchIndex, builtAt: Date) {
        self.index = index
        self.builtAt = builtAt
    }

    static func fold(_ needle: String) -> [UInt8] { needle.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 } }

    /// The ids of the window `offset ..< offset + limit` of the branches matching `needle`, in list order.
    public mutating func ids(matching needle: String, offset: Int, limit: Int) -> (total: Int, ids: [Int64]) {
        let matches = matches(needle)
        guard offset < matches.count else { return (matches.count, []) }
        let range = offset..<min(matches.count, offset + limit)
        guard let bits = matches.bits else { return (matches.count, range.map { index.id(Int(index.order[$0])) }) }
        let pin = Self.fold(needle)
        if listed?.needle != pin { listed = (pin, [], 0) }
        // Walk the list order on from where the last window stopped, until this one is found.
        if var found = listed, found.positions.count < range.upperBound {
            // Out of `listed` while it grows, so appending does not copy what it holds.
            listed = nil
            index.order.withUnsafeBufferPointer { order in
                bits.withUnsafeBufferPointer { bits in
                    var position = found.walked
                    while position < order.count, found.positions.count < range.upperBound {
                        let slot = Int(order[position])
                        if bits[slot >> 6] & (1 << UInt64(slot & 63)) != 0 { found.positions.append(UInt32(position)) }
                        position += 1
                    }
                    found.walked = position
                }
            }
            listed = found
        }
        let positions = listed!.positions
        return (matches.count, range.map { index.id(Int(index.order[Int(positions[$0])])) })
    }

    /// The branches whose name, author, repository, hash or subject contains `needle` (ASCII case folded).
    public mutating func matches(_ needle: String) -> Matches {
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
        let index = self.index
        let nameHits = Self.hits(pin, in: index.nameKeys)
        let repositoryHits = Self.hits(pin, in: index.repositoryKeys)
        let authorHits = Self.hits(pin, in: index.authorKeys)
        let pairHits = index.pairRepositories.indices.map { repositoryHits[Int(index.pairRepositories[$0])] || authorHits[Int(index.pairAuthors[$0])] }
        let hex = HexNeedle(pin)
        let count = self.index.count
        let words = (count + 63) / 64
        var bits = [UInt64](repeating: 0, count: words)
        // Contiguous ranges of 64-slot words, one per core: each part writes only its own words.
        let parts = count >= 100_000 ? max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4)) : 1
        var counts = [Int](repeating: 0, count: parts)
        bits.withUnsafeMutableBufferPointer { out in
            counts.withUnsafeMutableBufferPointer { counted in
                let out = UnsafeSendable(out), counted = UnsafeSendable(counted)
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    // Every array as a plain pointer: the inner loop then does no reference counting.
                    let found = Self.withPointers(index, nameHits, pairHits, pin) { p in
                        var found = 0
                        // Subjects a few words ahead are touched before they are searched: the pass
                        // is bound by memory, and a load whose value is not waited on overlaps the
                        // work on this word instead of stalling the one that needs it.
                        var ahead: UInt8 = 0
                        // Whether the word before needed its subjects searched; at first, yes.
                        var searched = true
                        let lastByte = p.subjects.count - 1
                        for word in (words * part / parts)..<(words * (part + 1) / parts) {
                            let first = word << 6, last = min(first + 64, count)
                            var candidates = within?[word] ?? ~0
                            if last - first < 64 { candidates &= (1 << UInt64(last - first)) - 1 }
                            guard candidates != 0 else { continue }
                            // Only while subjects are being searched (a narrowed answer often
                            // matches by name, and touching then only costs).
                            let base = Int(p.checkpoints[word])
                            var touch = searched && lastByte >= 0 ? base + Self.touchAhead : .max
                            while touch < base + Self.touchAhead + 3072 {
                                ahead &+= p.subjects[min(touch, lastByte)]
                                touch += 64
                            }
                            var matched: UInt64 = 0
                            searched = false
                            // Each key starts where the one before ended, from the word's checkpoint.
                            var start = base
                            for slot in first..<last {
                                let end = start + Int(p.lengths[slot])
                                let bit = UInt64(slot - first)
                                if candidates & (1 << bit) != 0 {
                                    if p.nameHits[Int(p.names[slot])] || p.pairHits[Int(p.pairs[slot])]
                                        || hex.map({ $0.occurs(in: p.hashes + slot * 20) }) == true && p.textHashes[word] & (1 << bit) == 0 {
                                        matched |= 1 << bit
                                    } else {
                                        searched = true
                                        if Self.occursInWords(p.needle, in: p.subjects.baseAddress!, from: start, to: end) { matched |= 1 << bit }
                                    }
                                }
                                start = end
                            }
                            out.value[word] = matched
                            found += matched.nonzeroBitCount
                        }
                        Self.keep(ahead)
                        return found
                    }
                    counted.value[part] = found
                }
            }
        }
        return Matches(bits: bits, count: counts.reduce(0, +))
    }

    /// What the filter's inner loop reads, as pointers valid for one call of `withPointers`.
    struct Pointers {
        let subjects: UnsafeBufferPointer<UInt8>
        let lengths: UnsafePointer<UInt8>
        let checkpoints: UnsafePointer<UInt32>
        let hashes: UnsafePointer<UInt8>
        let textHashes: UnsafePointer<UInt64>
        let names: UnsafePointer<UInt32>
        let pairs: UnsafePointer<UInt32>
        let nameHits: UnsafePointer<Bool>
        let pairHits: UnsafePointer<Bool>
        let needle: UnsafeBufferPointer<UInt8>
    }

    static func withPointers<R>(_ index: Store.BranchSearchIndex, _ nameHits: [Bool], _ pairHits: [Bool], _ pin: [UInt8],
                                _ body: (Pointers) -> R) -> R {
        index.subjects.withUnsafeBufferPointer { subjects in
            index.subjectLengths.withUnsafeBufferPointer { lengths in
                index.subjectCheckpoints.withUnsafeBufferPointer { checkpoints in
                    index.hashes.withUnsafeBufferPointer { hashes in
                        index.textHashes.withUnsafeBufferPointer { textHashes in
                            index.names.withUnsafeBufferPointer { names in
                                index.pairs.withUnsafeBufferPointer { pairs in
                                    nameHits.withUnsafeBufferPointer { nameHits in
                                        pairHits.withUnsafeBufferPointer { pairHits in
                                            pin.withUnsafeBufferPointer { needle in
                                                body(Pointers(subjects: subjects, lengths: lengths.baseAddress!, checkpoints: checkpoints.baseAddress!,
                                                              hashes: hashes.baseAddress!, textHashes: textHashes.baseAddress!,
                                                              names: names.baseAddress!, pairs: pairs.baseAddress!, nameHits: nameHits.baseAddress!,
                                                              pairHits: pairHits.baseAddress!, needle: needle))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Whether the needle occurs in `bytes[from..<to]`, eight starts at a time: a word-wide test
    /// for where its first two bytes both match, then memcmp there. Reads up to 16 bytes past
    /// `to` (the subjects are padded for it).
    @inline(__always) static func occursInWords(_ needle: UnsafeBufferPointer<UInt8>, in bytes: UnsafePointer<UInt8>, from: Int, to: Int) -> Bool {
        let count = needle.count
        guard to - from >= count, let pin = needle.baseAddress else { return false }
        let raw = UnsafeRawPointer(bytes)
        let first = UInt64(pin[0]) &* 0x0101_0101_0101_0101
        let second = count > 1 ? UInt64(pin[1]) &* 0x0101_0101_0101_0101 : 0
        let last = to - count
        var position = from
        while position <= last {
            let here = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            var flags = HexNeedle.zeroBytes(here ^ first)
            if count > 1 { flags &= HexNeedle.zeroBytes(raw.loadUnaligned(fromByteOffset: position + 1, as: UInt64.self) ^ second) }
            // Only starts up to `last`.
            if last - position < 7 { flags &= (1 << UInt64(8 * (last - position + 1))) &- 1 }
            while flags != 0 {
                let start = position + flags.trailingZeroBitCount / 8
                if memcmp(bytes + start, pin, count) == 0 { return true }
                flags &= flags - 1
            }
            position += 8
        }
        return false
    }

    /// Whether the needle occurs in `keys[from..<to]`: memchr for its first byte, then memcmp.
    static func occurs(_ needle: UnsafeBufferPointer<UInt8>, in keys: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Bool {
        guard let base = keys.baseAddress, let pin = needle.baseAddress, to - from >= needle.count else { return false }
        let byte = Int32(needle[0])
        var position = from
        let last = to - needle.count
        while position <= last {
            guard let hit = memchr(base + position, byte, last - position + 1) else { return false }
            let offset = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
            if memcmp(base + offset, pin, needle.count) == 0 { return true }
            position = offset + 1
        }
        return false
    }

    /// Which of the shared keys contain the needle.
    static func hits(_ pin: [UInt8], in keys: Store.BranchSearchIndex.SharedKeys) -> [Bool] {
        keys.bytes.withUnsafeBufferPointer { bytes in
            pin.withUnsafeBufferPointer { needle in
                (0..<keys.count).map { key in occurs(needle, in: bytes, from: Int(keys.starts[key]), to: keys.end(key)) }
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

    /// Whether the needle's digits appear in the 40 digits of the hash at `hash`. The hash is read
    /// as 160 bits; a word-wide test for a zero nibble (one digit) or a zero byte (the first two
    /// digits, at even offsets and — shifted by a nibble — at odd ones) answers most hashes at
    /// once; the few that may match are checked digit by digit.
    func occurs(in hash: UnsafePointer<UInt8>) -> Bool {
        let raw = UnsafeRawPointer(hash)
        let w0 = UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self))
        let w1 = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let w2 = UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        if nibbles.count == 1 {
            let digit = UInt64(nibbles[0]) &* 0x1111_1111_1111_1111
            return Self.zeroNibble(w0 ^ digit) || Self.zeroNibble(w1 ^ digit) || Self.zeroNibble32(w2 ^ UInt32(truncatingIfNeeded: digit))
        }
        let pair = UInt64(nibbles[0] << 4 | nibbles[1]) &* 0x0101_0101_0101_0101
        let pair32 = UInt32(truncatingIfNeeded: pair)
        // Candidates, byte by byte: even offsets are whole bytes equal to the first two digits;
        // odd ones the same bytes of the stream shifted a nibble on (its last byte half padding).
        let even = (Self.zeroBytes(w0 ^ pair), Self.zeroBytes(w1 ^ pair), UInt64(Self.zeroBytes32(w2 ^ pair32)) << 32)
        let odd = (Self.zeroBytes((w0 << 4 | w1 >> 60) ^ pair), Self.zeroBytes((w1 << 4 | UInt64(w2) >> 28) ^ pair),
                   UInt64(Self.zeroBytes32(((w2 << 4) ^ pair32) | 0xFF)) << 32)
        guard even.0 | even.1 | even.2 | odd.0 | odd.1 | odd.2 != 0 else { return false }
        // A flag is certain where it is the lowest of its word; above one, a borrow may fake it.
        let count = nibbles.count
        if count == 2 { return true }
        return nibbles.withUnsafeBufferPointer { needle in
            // Each flagged byte of a word: where the digits would start; the rest compared digit by digit.
            func confirmed(_ flags: UInt64, firstByte: Int, shifted: Int) -> Bool {
                var flags = flags
                while flags != 0 {
                    let byte = flags.leadingZeroBitCount / 8
                    flags &= ~(0x80 << UInt64(56 - 8 * byte))
                    let start = 2 * (firstByte + byte) + shifted
                    guard start + count <= 40, Self.nibble(hash, start) == needle[0], Self.nibble(hash, start + 1) == needle[1] else { continue }
                    var offset = 2
                    while offset < count, Self.nibble(hash, start + offset) == needle[offset] { offset += 1 }
                    if offset == count { return true }
                }
                return false
            }
            return confirmed(even.0, firstByte: 0, shifted: 0) || confirmed(even.1, firstByte: 8, shifted: 0) || confirmed(even.2, firstByte: 16, shifted: 0)
                || confirmed(odd.0, firstByte: 0, shifted: 1) || confirmed(odd.1, firstByte: 8, shifted: 1) || confirmed(odd.2, firstByte: 16, shifted: 1)
        }
    }

    /// 0x80 in each byte of `v` that may be zero (exact for the lowest one), 0 where none is.
    @inline(__always) static func zeroBytes(_ v: UInt64) -> UInt64 { (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080 }
    @inline(__always) static func zeroBytes32(_ v: UInt32) -> UInt32 { (v &- 0x0101_0101) & ~v & 0x8080_8080 }
    @inline(__always) static func zeroNibble(_ v: UInt64) -> Bool { (v &- 0x1111_1111_1111_1111) & ~v & 0x8888_8888_8888_8888 != 0 }
    @inline(__always) static func zeroNibble32(_ v: UInt32) -> Bool { (v &- 0x1111_1111) & ~v & 0x8888_8888 != 0 }
}

/// A buffer handed to the workers of `concurrentPerform`, each writing its own slot.
private struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
