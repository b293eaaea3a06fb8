import Foundation

/// Puts an index's slots in the order `Store.branchOrder` gives in SQL, from small numbers:
/// each distinct name, author and repository is ranked once (a few thousand comparisons of
/// bytes), then a million 16-byte keys are sorted as integers.
struct BranchIndexOrder {
    let sort: Store.BrowseSort
    let ids: [Int64]
    let names: [UInt32]
    let repositories: [UInt32]
    let authors: [UInt32]
    let dates: [UInt64]
    let nameInterner: ByteInterner
    let nameKeys: Store.BranchSearchIndex.SharedKeys
    let authorKeys: Store.BranchSearchIndex.SharedKeys
    /// The author number standing for NULL, which sorts first.
    let nullAuthor: UInt32?
    let table: IndexedRepositories

    private struct Key {
        var high: UInt64
        /// The second field's rank above, the slot's place by id below (the last tie-break).
        var low: UInt64
    }

    /// Slots in list order.
    func slots() -> [UInt32] {
        let count = ids.count
        // The tie-break is the id: rows read by a full scan come in id order already.
        var slotOfIDRank: [UInt32]?
        var idRank = [UInt32]()
        if !zip(ids, ids.dropFirst()).allSatisfy({ $0 < $1 }) {
            let byID = (0..<count).sorted { ids[$0] < ids[$1] }.map(UInt32.init)
            idRank = [UInt32](repeating: 0, count: count)
            for (rank, slot) in byID.enumerated() { idRank[Int(slot)] = UInt32(rank) }
            slotOfIDRank = byID
        }
        let place = { (slot: Int) -> UInt64 in UInt64(idRank.isEmpty ? UInt32(slot) : idRank[slot]) }
        var keys: [Key]
        switch sort {
        case .name:
            let name = foldedRanks(nameKeys), slug = table.slugRanks()
            keys = (0..<count).map { Key(high: UInt64(name[Int(names[$0])]), low: UInt64(slug[Int(repositories[$0])]) << 32 | place($0)) }
        case .recent:
            let name = nameInterner.ranks()
            // Newest first, none last: a larger date makes a smaller key.
            keys = (0..<count).map { Key(high: dates[$0] == 0 ? .max : .max - dates[$0], low: UInt64(name[Int(names[$0])]) << 32 | place($0)) }
        case .size:
            let author = foldedRanks(authorKeys, null: nullAuthor), name = nameInterner.ranks()
            keys = (0..<count).map { Key(high: UInt64(author[Int(authors[$0])]), low: UInt64(name[Int(names[$0])]) << 32 | place($0)) }
        case .provider:
            let provider = table.providerRanks(), name = foldedRanks(nameKeys), slug = table.slugRanks()
            keys = (0..<count).map {
                Key(high: UInt64(provider[Int(repositories[$0])]) << 32 | UInt64(name[Int(names[$0])]),
                    low: UInt64(slug[Int(repositories[$0])]) << 32 | place($0))
            }
        }
        keys.sort { $0.high != $1.high ? $0.high < $1.high : $0.low < $1.low }
        return keys.map { key in
            let rank = UInt32(truncatingIfNeeded: key.low)
            return slotOfIDRank.map { $0[Int(rank)] } ?? rank
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
