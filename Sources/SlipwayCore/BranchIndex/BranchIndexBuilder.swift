import Foundation
import GRDBSQLite

/// Builds a search index from the branch rows as SQLite hands them over, with no Swift string
/// per column and no doubling copy of the large buffer: subjects gather in fixed chunks, copied
/// once into an exact buffer at the end (each chunk freed as it goes).
struct BranchIndexBuilder: Sendable {
    static let chunkSize = 4 << 20

    let sort: Store.BrowseSort
    private var ids: [Int64] = []
    private var subjectStarts: [UInt32] = []
    private var hashes: [UInt8] = []
    private var textHashes: [UInt64] = []
    private var names: [UInt32] = []
    private var repositories: [UInt32] = []
    private var authors: [UInt32] = []
    /// `.recent` only: each slot's head date as a number that orders like the stored text.
    private var dates: [UInt64] = []
    /// Names and authors as stored (the exact-equality and BINARY view) …
    private var nameInterner = ByteInterner()
    private var authorInterner = ByteInterner()
    /// … and folded, numbered alike (what the filter matches, and the NOCASE view).
    private var nameKeys = Store.BranchSearchIndex.SharedKeys()
    private var authorKeys = Store.BranchSearchIndex.SharedKeys()
    private var chunks: [[UInt8]] = []
    private var current: [UInt8] = []
    private var length = 0

    init(expected: Int, sort: Store.BrowseSort) {
        self.sort = sort
        ids.reserveCapacity(expected)
        subjectStarts.reserveCapacity(expected)
        hashes.reserveCapacity(expected * 20)
        textHashes.reserveCapacity(expected / 64 + 1)
        names.reserveCapacity(expected)
        repositories.reserveCapacity(expected)
        authors.reserveCapacity(expected)
        if sort == .recent { dates.reserveCapacity(expected) }
        current.reserveCapacity(Self.chunkSize)
    }

    /// ASCII case folding; the separators (0, 1) never appear inside a key.
    @inline(__always) static func fold(_ byte: UInt8) -> UInt8 {
        byte < 2 ? 32 : byte &+ (byte &- 65 < 26 ? 32 : 0)
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
            bytes.withUnsafeMutableBufferPointer { buffer in
                for index in from..<buffer.count { buffer[index] = fold(buffer[index]) }
            }
        }
        bytes.append(end)
    }

    static func appendShared(_ text: UnsafeBufferPointer<UInt8>, to keys: inout Store.BranchSearchIndex.SharedKeys) {
        keys.starts.append(UInt32(keys.bytes.count))
        append(text, end: 0, to: &keys.bytes)
    }

    /// One branch from its row: id (0), name (2), hash (3), message (4), author (5), date (6).
    mutating func append(row: OpaquePointer, repository: UInt32) {
        let slot = ids.count
        ids.append(sqlite3_column_int64(row, 0))
        repositories.append(repository)
        let name = Self.text(row, 2)
        let named = nameInterner.intern(name)
        if named.isNew { Self.appendShared(name, to: &nameKeys) }
        names.append(named.number)
        let author = Self.text(row, 5)
        let authored = sqlite3_column_type(row, 5) == SQLITE_NULL ? authorInterner.internNull() : authorInterner.intern(author)
        if authored.isNew { Self.appendShared(author, to: &authorKeys) }
        authors.append(authored.number)
        if slot & 63 == 0 { textHashes.append(0) }
        let hash = Self.text(row, 3)
        let decoded = HeadHashBytes.append(hash, to: &hashes)
        if !decoded { textHashes[slot >> 6] |= 1 << UInt64(slot & 63) }
        if sort == .recent { dates.append(DateOrderKey.of(row, 6)) }
        // The subject only: the message's first line.
        var subject = Self.text(row, 4)
        if let base = subject.baseAddress, let newline = memchr(base, 10, subject.count) {
            subject = UnsafeBufferPointer(start: base, count: UnsafeRawPointer(base).distance(to: UnsafeRawPointer(newline)))
        }
        let size = subject.count + 1 + (decoded ? 0 : hash.count + 1)
        if current.count + size > Self.chunkSize, !current.isEmpty {
            chunks.append(current)
            current = []
            current.reserveCapacity(max(Self.chunkSize, size))
        }
        subjectStarts.append(UInt32(length))
        if decoded {
            Self.append(subject, end: 0, to: &current)
        } else {
            Self.append(subject, end: 1, to: &current)
            Self.append(hash, end: 0, to: &current)
        }
        length += size
    }

    /// Appends another builder's slots after this one's (the next range of ids), its names and
    /// authors renumbered into this one's.
    mutating func absorb(_ other: BranchIndexBuilder) {
        let base = ids.count
        let nameNumbers = (0..<other.nameInterner.count).map { number in
            other.nameInterner.withString(number) { text in
                let named = nameInterner.intern(text)
                if named.isNew { Self.appendShared(text, to: &nameKeys) }
                return named.number
            }
        }
        let authorNumbers = (0..<other.authorInterner.count).map { number in
            other.authorInterner.withString(number) { text in
                let authored = number == other.authorInterner.null.map(Int.init) ? authorInterner.internNull() : authorInterner.intern(text)
                if authored.isNew { Self.appendShared(text, to: &authorKeys) }
                return authored.number
            }
        }
        ids.append(contentsOf: other.ids)
        repositories.append(contentsOf: other.repositories)
        names.append(contentsOf: other.names.lazy.map { nameNumbers[Int($0)] })
        authors.append(contentsOf: other.authors.lazy.map { authorNumbers[Int($0)] })
        hashes.append(contentsOf: other.hashes)
        dates.append(contentsOf: other.dates)
        subjectStarts.append(contentsOf: other.subjectStarts.lazy.map { [length] in $0 + UInt32(length) })
        textHashes.append(contentsOf: repeatElement(0, count: (ids.count + 63) / 64 - textHashes.count))
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
        length += other.length
    }

    mutating func finish(repositories table: IndexedRepositories, generation: Store.MirrorGeneration) -> Store.BranchSearchIndex {
        chunks.append(current)
        current = []
        var parts = chunks
        chunks = []
        let subjects = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
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
            initialized = offset
        }
        IndexTiming.mark("copied")
        let order = BranchIndexOrder(sort: sort, ids: ids, names: names, repositories: repositories, authors: authors, dates: dates,
                                     nameInterner: nameInterner, nameKeys: nameKeys, authorKeys: authorKeys,
                                     nullAuthor: authorInterner.null, table: table).slots()
        dates = []
        return Store.BranchSearchIndex(order: order, ids: ids, subjects: subjects, subjectStarts: subjectStarts, hashes: hashes,
                                       textHashes: textHashes, names: names, repositories: repositories, authors: authors,
                                       nameKeys: nameKeys, repositoryKeys: table.keys, authorKeys: authorKeys, generation: generation)
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
