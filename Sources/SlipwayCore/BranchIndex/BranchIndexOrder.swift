import Foundation

/// Puts an index's slots in the order `Store.branchOrder` gives in SQL, from small numbers: each
/// distinct name, author and repository is ranked once (a few thousand comparisons of bytes),
/// then the slots go through one stable counting sort per sort key, least significant first
/// (radix sort) — linear, and only one list of slots besides the answer at a time.
struct BranchIndexOrder {
    let sort: Store.BrowseSort
    let idOffsets: [UInt32]
    let names: [UInt32]
    let pairs: [UInt32]
    let pairRepositories: [UInt32]
    let pairAuthors: [UInt32]
    let dates: [UInt64]
    let nameInterner: ByteInterner
    let nameKeys: Store.BranchSearchIndex.SharedKeys
    let authorKeys: Store.BranchSearchIndex.SharedKeys
    /// The author number standing for NULL, which sorts first.
    let nullAuthor: UInt32?
    let table: IndexedRepositories

    /// Slots in list order.
    func slots() -> [UInt32] {
        let count = idOffsets.count
        // The last tie-break is the id: rows read by a scan of the table come in id order already.
        var order: [UInt32]? = zip(idOffsets, idOffsets.dropFirst()).allSatisfy({ $0 < $1 }) ? nil
            : (0..<count).sorted { idOffsets[$0] < idOffsets[$1] }.map(UInt32.init)
        func by(_ ranks: [UInt32], of number: (Int) -> Int) {
            order = Self.countingSort(order, count: count, buckets: (ranks.max().map(Int.init) ?? 0) + 1) { Int(ranks[number($0)]) }
        }
        let repository = { (slot: Int) in Int(pairRepositories[Int(pairs[slot])]) }
        let author = { (slot: Int) in Int(pairAuthors[Int(pairs[slot])]) }
        let name = { (slot: Int) in Int(names[slot]) }
        switch sort {
        case .name:
            by(table.slugRanks(), of: repository)
            by(foldedRanks(nameKeys), of: name)
        case .provider:
            by(table.slugRanks(), of: repository)
            by(foldedRanks(nameKeys), of: name)
            by(table.providerRanks(), of: repository)
        case .size:
            by(nameInterner.ranks(), of: name)
            by(foldedRanks(authorKeys, null: nullAuthor), of: author)
        case .recent:
            by(nameInterner.ranks(), of: name)
            // Dates are nearly all distinct: compared, newest first and none last, ties kept in
            // the order so far.
            let sorted = order ?? (0..<UInt32(count)).map { $0 }
            var keys = sorted.enumerated().map { position, slot in
                (date: dates[Int(slot)] == 0 ? UInt64.max : .max - dates[Int(slot)], position: UInt32(position), slot: slot)
            }
            keys.sort { $0.date != $1.date ? $0.date < $1.date : $0.position < $1.position }
            return keys.map(\.slot)
        }
        return order ?? (0..<UInt32(count)).map { $0 }
    }

    /// A stable counting sort of the slots in `input` (nil: every slot in turn) by `rank`.
    static func countingSort(_ input: [UInt32]?, count: Int, buckets: Int, rank: (Int) -> Int) -> [UInt32] {
        var starts = [Int](repeating: 0, count: buckets + 1)
        for slot in 0..<count { starts[rank(slot) + 1] += 1 }
        for bucket in 0..<buckets { starts[bucket + 1] += starts[bucket] }
        return [UInt32](unsafeUninitializedCapacity: count) { output, initialized in
            for position in 0..<count {
                let slot = input.map { Int($0[position]) } ?? position
                let bucket = rank(slot)
                output[starts[bucket]] = UInt32(slot)
                starts[bucket] += 1
            }
            initialized = count
        }
    }

    /// The NOCASE order of folded keys (their bytes, then their length; `null` before all).
    private func foldedRanks(_ keys: Store.BranchSearchIndex.SharedKeys, null: UInt32? = nil) -> [UInt32] {
        let null = null.map(Int.init) ?? -1
        return keys.bytes.withUnsafeBufferPointer { bytes in
            // Without the ending 0.
            let key = { (number: Int) in UnsafeBufferPointer(rebasing: bytes[Int(keys.starts[number])..<(keys.end(number) - 1)]) }
            let compare = { (a: Int, b: Int) -> Int in a == null || b == null ? (a == null ? 0 : 1) - (b == null ? 0 : 1) : Self.compare(key(a), key(b)) }
            return Self.ranks(count: keys.count) { compare($0, $1) < 0 } equal: { compare($0, $1) == 0 }
        }
    }

    /// Bytes compared as SQLite's BINARY does: memcmp over the shorter, then the shorter first.
    static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let common = min(a.count, b.count)
        if common > 0, let x = a.baseAddress, let y = b.baseAddress {
            let order = memcmp(x, y, common)
            if order != 0 { return Int(order) }
        }
        return a.count - b.count
    }

    /// Each of `count` values' rank in the order `less` gives, equal values sharing one.
    static func ranks(count: Int, less: (Int, Int) -> Bool, equal: (Int, Int) -> Bool) -> [UInt32] {
        let sorted = (0..<count).sorted(by: less)
        var ranks = [UInt32](repeating: 0, count: count)
        var rank: UInt32 = 0
        for (position, value) in sorted.enumerated() {
            if position > 0, !equal(sorted[position - 1], value) { rank += 1 }
            ranks[value] = rank
        }
        return ranks
    }
}

extension ByteInterner {
    /// Each string's rank in BINARY order.
    func ranks() -> [UInt32] {
        let compare = { (a: Int, b: Int) in withString(a) { x in withString(b) { y in BranchIndexOrder.compare(x, y) } } }
        return BranchIndexOrder.ranks(count: count) { compare($0, $1) < 0 } equal: { compare($0, $1) == 0 }
    }
}
