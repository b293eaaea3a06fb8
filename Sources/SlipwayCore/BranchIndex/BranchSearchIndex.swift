extension Store {
    /// Every branch of a scope with the text the dashboard filters on (name, repository, author,
    /// head hash, subject), packed for a million branches, and the order a sort gives.
    ///
    /// Branches sit in *slots*, in the order they were read. What many branches share — names,
    /// repositories, authors — is kept once each and referred to by number; each branch keeps only
    /// its subject (folded, 0-ended, back to back in `subjects`) and its head hash as 20 raw bytes.
    /// `order` lists the slots in the sort's order, so a filter walks the packed bytes in storage
    /// order (the memory streams) and then reads its answer out in list order.
    public struct BranchSearchIndex: Sendable {
        /// List position → slot.
        public var order: [UInt32]
        /// Per slot:
        public var ids: [Int64]
        /// The subject, ASCII case folded and ended by a 0 byte; where a head hash is not 40 hex
        /// digits, its folded text follows the subject after a 1 byte (and `hashes` holds zeros).
        public var subjects: [UInt8]
        public var subjectStarts: [UInt32]
        /// 20 bytes a slot: the head hash decoded from its 40 hex digits.
        public var hashes: [UInt8]
        /// Slots whose hash is kept as text in `subjects` (bit `slot % 64` of word `slot / 64`).
        public var textHashes: [UInt64]
        public var names: [UInt32]
        public var repositories: [UInt32]
        public var authors: [UInt32]
        public var nameKeys: SharedKeys
        public var repositoryKeys: SharedKeys
        public var authorKeys: SharedKeys
        /// The store's mirror generation when this was read (see `Store.mirrorGeneration`).
        public var generation: MirrorGeneration

        public var count: Int { ids.count }

        /// Where slot `slot`'s subject key ends (its terminating 0 byte or its hash text's).
        @inline(__always) public func subjectEnd(_ slot: Int) -> Int {
            slot + 1 < subjectStarts.count ? Int(subjectStarts[slot + 1]) : subjects.count
        }

        @inline(__always) public func hasTextHash(_ slot: Int) -> Bool {
            textHashes[slot >> 6] & (1 << UInt64(slot & 63)) != 0
        }

        /// Keys many branches share, each once, folded, each ended by a 0 byte.
        public struct SharedKeys: Sendable {
            public var bytes: [UInt8] = []
            public var starts: [UInt32] = []
            public var count: Int { starts.count }

            public init() {}

            public func end(_ key: Int) -> Int { key + 1 < starts.count ? Int(starts[key + 1]) : bytes.count }
        }
    }

    /// What changes whenever a branch is added, removed or moves, or an account goes: the last
    /// change event (every mirror writer appends one), the highest branch id (a writer that
    /// appends none still adds rows) and the number of accounts (unlinking removes rows without
    /// events). Each part is an index lookup, so asking is cheap at any size.
    public struct MirrorGeneration: Sendable, Equatable {
        public var lastEvent: Int64
        public var lastBranch: Int64
        public var accounts: Int
    }
}
