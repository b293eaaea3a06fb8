import Foundation
import GRDBSQLite

/// Builds a search index from the branch rows as SQLite hands them over, with no Swift string
/// per column and no doubling copy of the large buffer: subjects gather in fixed chunks, copied
/// once into an exact buffer at the end (each chunk freed as it goes).
struct BranchIndexBuilder: Sendable {
    static let chunkSize = 4 << 20

    let sort: Store.BrowseSort
    let idBase: Int64
    private var idOffsets: [UInt32] = []
    private var subjectLengths: [UInt8] = []
    private var hashes: [UInt8] = []
    private var textHashes: [UInt64] = []
    private var names: [UInt32] = []
    private var pairs: [UInt32] = []
    /// `.recent` only: each slot's head date as a number that orders like the stored text.
    private var dates: [UInt64] = []
    private var nameStrings = SharedStrings()
    private var authorStrings = SharedStrings()
    private var pairTable = PairTable()
    private var chunks: [[UInt8]] = []
    private var current: [UInt8] = []
    private var length = 0

    var count: Int { idOffsets.count }

    /// `expected`: the rows this builder will hold, its own and any it absorbs — reserved at once,
    /// so absorbing copies into place (pages reserved but not yet written cost nothing).
    init(expected: Int, sort: Store.BrowseSort, idBase: Int64) {
        self.sort = sort
        self.idBase = idBase
        idOffsets.reserveCapacity(expected)
        subjectLengths.reserveCapacity(expected)
        hashes.reserveCapacity(expected * 20)
        textHashes.reserveCapacity(expected / 64 + 1)
        names.reserveCapacity(expected)
        pairs.reserveCapacity(expected)
        if sort == .recent { dates.reserveCapacity(expected) }
        current.reserveCapacity(Self.chunkSize)
    }

    /// ASCII case folding (what SQLite's `lower` does without ICU).
    @inline(__always) static func fold(_ byte: UInt8) -> UInt8 {
        byte &+ (byte &- 65 < 26 ? 32 : 0)
    }

    /// Folds eight bytes at once: a byte gains 0x20 where it is A–Z (its high bit clear, at least
    /// 'A', at most 'Z' — each tested in the byte's own high bit).
    @inline(__always) static func fold8(_ word: UInt64) -> UInt64 {
        let low = word & 0x7f7f_7f7f_7f7f_7f7f
        let atLeastA = low &+ 0x3f3f_3f3f_3f3f_3f3f
        let aboveZ = low &+ 0x2525_2525_2525_2525
        return word | ((atLeastA ^ aboveZ) & ~word & 0x8080_8080_8080_8080) >> 2
    }

    /// Folds `count` bytes in place.
    @inline(__always) static func fold(_ bytes: UnsafeMutablePointer<UInt8>, count: Int) {
        let raw = UnsafeMutableRawPointer(bytes)
        var index = 0
        while index + 8 <= count {
            raw.storeBytes(of: fold8(raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)), toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            bytes[index] = fold(bytes[index])
            index += 1
        }
    }

    /// A text column's bytes, valid until the row steps on.
    static func text(_ row: OpaquePointer, _ column: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let bytes = sqlite3_column_text(row, column) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(row, column)))
    }

    /// Appends `text` folded, then `end`.
    @inline(__always) static func append(_ text: UnsafeBufferPointer<UInt8>, end: UInt8, to bytes: inout [UInt8]) {
        if !text.isEmpty {
            let from = bytes.count
            bytes.append(contentsOf: text)
            bytes.withUnsafeMutableBufferPointer { buffer in fold(buffer.baseAddress! + from, count: buffer.count - from) }
        }
        bytes.append(end)
    }

    static func appendShared(_ text: UnsafeBufferPointer<UInt8>, to keys: inout Store.BranchSearchIndex.SharedKeys) {
        keys.starts.append(UInt32(keys.bytes.count))
        append(text, end: 0, to: &keys.bytes)
    }

    /// One branch from its row: id (0), name (2), hash (3), message (4), author (5), date (6).
    /// False when its id is too far from the base to be kept as an offset.
    mutating func append(row: OpaquePointer, repository: UInt32) -> Bool {
        let offset = sqlite3_column_int64(row, 0) &- idBase
        guard offset >= 0, offset <= Int64(UInt32.max) else { return false }
        let slot = idOffsets.count
        idOffsets.append(UInt32(offset))
        names.append(nameStrings.number(Self.text(row, 2)))
        let author = authorStrings.number(Self.text(row, 5), isNull: sqlite3_column_type(row, 5) == SQLITE_NULL)
        pairs.append(pairTable.number(repository: repository, author: author))
        if slot & 63 == 0 { textHashes.append(0) }
        var hash = Self.text(row, 3)
        let decoded = HeadHashBytes.append(hash, to: &hashes)
        if !decoded { textHashes[slot >> 6] |= 1 << UInt64(slot & 63) }
        if sort == .recent { dates.append(DateOrderKey.of(row, 6)) }
        // The subject only: the message's first line, as much of it as a length byte allows.
        var subject = Self.text(row, 4)
        if let base = subject.baseAddress, let newline = memchr(base, 10, subject.count) {
            subject = UnsafeBufferPointer(start: base, count: UnsafeRawPointer(base).distance(to: UnsafeRawPointer(newline)))
        }
        subject = UnsafeBufferPointer(rebasing: subject.prefix(Store.BranchSearchIndex.subjectLimit))
        if !decoded { hash = UnsafeBufferPointer(rebasing: hash.prefix(Store.BranchSearchIndex.textHashLimit)) }
        let size = subject.count + 1 + (decoded ? 0 : hash.count + 1)
        if current.count + size > Self.chunkSize, !current.isEmpty {
            chunks.append(current)
            current = []
            current.reserveCapacity(Self.chunkSize)
        }
        subjectLengths.append(UInt8(size))
        if decoded {
            Self.append(subject, end: 0, to: &current)
        } else {
            Self.append(subject, end: 1, to: &current)
            Self.append(hash, end: 0, to: &current)
        }
        length += size
        return true
    }

    /// Appends another builder's slots after this one's (the next range of ids, same base), its
    /// names, authors and pairs renumbered into this one's; each of its arrays is let go as soon
    /// as it is copied.
    mutating func absorb(_ other: inout BranchIndexBuilder) {
        let base = count
        let nameNumbers = nameStrings.numbers(of: other.nameStrings)
        let authorNumbers = authorStrings.numbers(of: other.authorStrings)
        let pairNumbers = (0..<other.pairTable.count).map { pair in
            pairTable.number(repository: other.pairTable.repositories[pair], author: authorNumbers[Int(other.pairTable.authors[pair])])
        }
        idOffsets.append(contentsOf: other.idOffsets)
        other.idOffsets = []
        names.append(contentsOf: other.names.lazy.map { nameNumbers[Int($0)] })
        other.names = []
        pairs.append(contentsOf: other.pairs.lazy.map { pairNumbers[Int($0)] })
        other.pairs = []
        hashes.append(contentsOf: other.hashes)
        other.hashes = []
        dates.append(contentsOf: other.dates)
        other.dates = []
        subjectLengths.append(contentsOf: other.subjectLengths)
        other.subjectLengths = []
        textHashes.append(contentsOf: repeatElement(0, count: (count + 63) / 64 - textHashes.count))
        for (word, bits) in other.textHashes.enumerated() where bits != 0 {
            for bit in 0..<64 where bits & (1 << UInt64(bit)) != 0 {
                let slot = base + word * 64 + bit
                textHashes[slot >> 6] |= 1 << UInt64(slot & 63)
            }
        }
        // The subjects' chunks follow this one's as they are: copied once, in finish.
        chunks.append(current)
        chunks.append(contentsOf: other.chunks)
        current = other.current
        other.chunks = []
        other.current = []
        length += other.length
    }

    mutating func finish(repositories table: IndexedRepositories, generation: Store.MirrorGeneration) -> Store.BranchSearchIndex {
        chunks.append(current)
        current = []
        var parts = chunks
        chunks = []
        let subjects = [UInt8](unsafeUninitializedCapacity: length + Store.BranchSearchIndex.subjectPadding) { buffer, initialized in
            var offset = 0
            for index in parts.indices {
                parts[index].withUnsafeBufferPointer { part in
                    guard let base = part.baseAddress, let target = buffer.baseAddress else { return }
                    (target + offset).initialize(from: base, count: part.count)
                    offset += part.count
                }
                // Each chunk goes as soon as it is copied: the peak is one buffer, not two.
                parts[index] = []
            }
            // Zeros after the last key, so a search may read a word past any key's end.
            (buffer.baseAddress! + offset).initialize(repeating: 0, count: Store.BranchSearchIndex.subjectPadding)
            initialized = offset + Store.BranchSearchIndex.subjectPadding
        }
        var checkpoints = [UInt32](repeating: 0, count: (count + 63) / 64)
        var start: UInt32 = 0
        for (slot, size) in subjectLengths.enumerated() {
            if slot & 63 == 0 { checkpoints[slot >> 6] = start }
            start += UInt32(size)
        }
        let order = BranchIndexOrder(sort: sort, idOffsets: idOffsets, names: names, pairs: pairs, pairRepositories: pairTable.repositories,
                                     pairAuthors: pairTable.authors, dates: dates, nameInterner: nameStrings.stored,
                                     nameKeys: nameStrings.folded, authorKeys: authorStrings.folded, nullAuthor: authorStrings.stored.null,
                                     table: table).slots()
        dates = []
        return Store.BranchSearchIndex(order: order, idOffsets: idOffsets, idBase: idBase, subjects: subjects, subjectLengths: subjectLengths,
                                       subjectCheckpoints: checkpoints, hashes: hashes, textHashes: textHashes, names: names, pairs: pairs,
                                       pairRepositories: pairTable.repositories, pairAuthors: pairTable.authors,
                                       nameKeys: nameStrings.folded, repositoryKeys: table.keys, authorKeys: authorStrings.folded,
                                       generation: generation)
    }
}

/// Strings many branches share (names, authors), numbered once: as stored (equality and the
/// BINARY order) and folded alike (what the filter matches, and the NOCASE order).
struct SharedStrings: Sendable {
    private(set) var stored = ByteInterner()
    private(set) var folded = Store.BranchSearchIndex.SharedKeys()

    /// The number of `text` (or of SQL's NULL), given one when first seen.
    @inline(__always) mutating func number(_ text: UnsafeBufferPointer<UInt8>, isNull: Bool = false) -> UInt32 {
        let interned = isNull ? stored.internNull() : stored.intern(text)
        if interned.isNew { BranchIndexBuilder.appendShared(text, to: &folded) }
        return interned.number
    }

    /// Each of another set's numbers as this one numbers the same string.
    mutating func numbers(of other: SharedStrings) -> [UInt32] {
        (0..<other.stored.count).map { number in
            other.stored.withString(number) { self.number($0, isNull: number == other.stored.null.map(Int.init)) }
        }
    }
}

/// Numbers (repository, author) pairs densely: an open-addressing table on the pair as one
/// 64-bit key.
struct PairTable: Sendable {
    private(set) var repositories: [UInt32] = []
    private(set) var authors: [UInt32] = []
    private var table = [UInt32](repeating: 0, count: 1024)
    private var last: (key: UInt64, number: UInt32) = (.max, 0)

    var count: Int { repositories.count }

    @inline(__always) mutating func number(repository: UInt32, author: UInt32) -> UInt32 {
        let key = UInt64(repository) << 32 | UInt64(author)
        if key == last.key { return last.number }
        let mask = table.count - 1
        var bucket = Self.bucket(key, mask)
        while true {
            let entry = table[bucket]
            if entry == 0 { break }
            let number = Int(entry - 1)
            if repositories[number] == repository, authors[number] == author {
                last = (key, UInt32(number))
                return UInt32(number)
            }
            bucket = (bucket + 1) & mask
        }
        let number = UInt32(repositories.count)
        repositories.append(repository)
        authors.append(author)
        table[bucket] = number + 1
        if repositories.count * 2 > table.count { grow() }
        last = (key, number)
        return number
    }

    @inline(__always) private static func bucket(_ key: UInt64, _ mask: Int) -> Int {
        var hash = key &* 0x9e37_79b9_7f4a_7c15
        hash ^= hash >> 31
        return Int(truncatingIfNeeded: hash) & mask
    }

    private mutating func grow() {
        table = [UInt32](repeating: 0, count: table.count * 2)
        let mask = table.count - 1
        for number in repositories.indices {
            var bucket = Self.bucket(UInt64(repositories[number]) << 32 | UInt64(authors[number]), mask)
            while table[bucket] != 0 { bucket = (bucket + 1) & mask }
            table[bucket] = UInt32(number + 1)
        }
    }
}

/// A head hash of 40 hex digits as its 20 bytes.
enum HeadHashBytes {
    private static let zeros = [UInt8](repeating: 0, count: 20)

    /// Appends the 20 bytes `text` spells and returns true; for anything else (another length, a
    /// non-hex character), 20 zero bytes and false.
    @inline(__always) static func append(_ text: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) -> Bool {
        let from = bytes.count
        bytes.append(contentsOf: zeros)
        guard text.count == 40 else { return false }
        return bytes.withUnsafeMutableBufferPointer { buffer in
            // Without a branch per digit (digits and letters come in no predictable order): a
            // digit's value is its low nibble, a letter's its low nibble + 9 (bit 6 tells which).
            var invalid: UInt8 = 0
            for index in 0..<20 {
                let high = text[2 * index], low = text[2 * index + 1]
                invalid |= notHex(high) | notHex(low)
                buffer[from + index] = ((high & 15) &+ 9 &* (high >> 6)) << 4 | ((low & 15) &+ 9 &* (low >> 6))
            }
            guard invalid == 0 else {
                for index in 0..<20 { buffer[from + index] = 0 }
                return false
            }
            return true
        }
    }

    /// 0 for a hex digit (either case), else 1 — computed, not branched on.
    @inline(__always) static func notHex(_ byte: UInt8) -> UInt8 {
        let digit = UInt8(truncatingIfNeeded: (Int(byte) &- 58) >> 63) & UInt8(truncatingIfNeeded: (47 &- Int(byte)) >> 63)
        let letter = (byte | 32) &- 97
        let isLetter = UInt8(truncatingIfNeeded: (Int(letter) &- 6) >> 63)
        return ~(digit | isLetter) & 1
    }
}

/// A stored date (GRDB's `yyyy-MM-dd HH:mm:ss.SSS`, or any text of the same fields in the same
/// order) as the number its digits spell, padded to the millisecond — so numbers order as the
/// texts do — and 0 for none.
enum DateOrderKey {
    static let digits = 17

    static func of(_ row: OpaquePointer, _ column: Int32) -> UInt64 {
        switch sqlite3_column_type(row, column) {
        case SQLITE_NULL: return 0
        case SQLITE_TEXT: return of(BranchIndexBuilder.text(row, column))
        default:
            // Written by something other than the store: seconds since 1970, as GRDB would read them.
            let text = StoredDate.text(Date(timeIntervalSince1970: sqlite3_column_double(row, column)))
            return text.utf8.withContiguousStorageIfAvailable { of($0) } ?? 0
        }
    }

    static func of(_ text: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var value: UInt64 = 0
        var count = 0
        for byte in text where byte &- 48 < 10 {
            value = value * 10 + UInt64(byte - 48)
            count += 1
            if count == digits { break }
        }
        while count < digits { value *= 10; count += 1 }
        // Never 0, so a date is always told from none.
        return value + 1
    }
}
