extension Store {
    /// Every branch of a scope with the text the dashboard filters on (name, repository, author,
    /// head hash, subject), packed for a million branches, and the order a sort gives.
    ///
    /// Branches sit in *slots*, in the order they were read. What many branches share — names,
    /// repositories, authors — is kept once each and referred to by number; each branch keeps only
    /// its subject (folded, 0-ended, back to back in `subjects`, with a length byte) and its head
    /// hash as 20 raw bytes: about 86 bytes a branch.
    /// `order` lists the slots in the sort's order, so a filter walks the packed bytes in storage
    /// order (the memory streams) and then reads its answer out in list order.
    public struct BranchSearchIndex: Sendable {
        /// List position → slot.
        public var order: [UInt32]
        /// Per slot: the branch's id, less `idBase`.
        public var idOffsets: [UInt32]
        public var idBase: Int64
        /// The subject (at most `subjectLimit` bytes of the first line), ASCII case folded and ended
        /// by a 0 byte; where a head hash is not 40 hex digits, its folded text follows the subject
        /// after a 1 byte (and `hashes` holds zeros).
        public var subjects: [UInt8]
        /// Each slot's key length with its end byte; where every 64th slot's key starts.
        public var subjectLengths: [UInt8]
        public var subjectCheckpoints: [UInt32]
        /// 20 bytes a slot: the head hash decoded from its 40 hex digits.
        public var hashes: [UInt8]
        /// Slots whose hash is kept as text in `subjects` (bit `slot % 64` of word `slot / 64`).
        public var textHashes: [UInt64]
        public var names: [UInt32]
        /// Per slot, its (repository, author) pair — far fewer pairs than branches, one number
        /// instead of two — and per pair, the two.
        public var pairs: [UInt32]
        public var pairRepositories: [UInt32]
        public var pairAuthors: [UInt32]
        public var nameKeys: SharedKeys
        public var repositoryKeys: SharedKeys
        public var authorKeys: SharedKeys
        /// The store's mirror generation when this was read (see `Store.mirrorGeneration`).
        public var generation: MirrorGeneration

        /// The searchable subject's most bytes, and a text hash's; a key then fits its length byte.
        public static let subjectLimit = 180
        public static let textHashLimit = 72
        /// Zero bytes after the last key: a word-wide search may read up to 16 bytes past a key.
        public static let subjectPadding = 16

        public var count: Int { idOffsets.count }

        @inline(__always) public func id(_ slot: Int) -> Int64 { idBase + Int64(idOffsets[slot]) }

        /// Where slot `slot`'s key starts (from the checkpoint of its 64, onward).
        public func subjectStart(_ slot: Int) -> Int {
            var start = Int(subjectCheckpoints[slot >> 6])
            for earlier in (slot & ~63)..<slot { start += Int(subjectLengths[earlier]) }
            return start
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
