import Foundation
import GRDB
import Testing
@testable import SlipwayCore
import SlipwayProviders

/// The dashboard's in-memory index of a large branch list: read unsorted (in halves), ordered in
/// memory, it must list branches exactly as SQL's ORDER BY does, for every sort and scope, and
/// keep what the filter matches (names, authors, repositories, subjects, hashes) intact.
@Suite("Branch search index")
struct BranchSearchIndexTests {
    let tmp = TemporaryDirectory()
    let now = Date(timeIntervalSince1970: 1_790_000_000)
    let store: Store
    var repositoryIDs: [Int64] = []

    /// Two accounts; workspaces that share repository slugs; names that differ only in case or
    /// prefix; authors that fold alike; missing dates and authors; hashes that are not 40 hex
    /// digits; branches inserted interleaved across repositories, some deleted (ids with gaps).
    init() throws {
        store = try Store(path: tmp.file("slipway.db"))
        let now = self.now
        repositoryIDs = try store.write { db in
            var repositories: [Int64] = []
            for (provider, slugs) in [(ProviderKind.github, ["zeta", "acme"]), (.bitbucket, ["acme"])] {
                var account = Account(provider: provider, username: "ada", apiURL: "https://example.com/\(provider.rawValue)", webURL: "https://example.com",
                                      auth: .token, createdAt: now)
                try account.insert(db)
                for slug in slugs {
                    var workspace = Workspace(accountID: account.id!, slug: slug, name: slug, updatedAt: now)
                    try workspace.insert(db)
                    for name in ["api", "Web", "api-2"] {
                        var repository = Repository(workspaceID: workspace.id!, slug: name, name: name, fullName: "\(slug)/\(name)", updatedAt: now)
                        try repository.insert(db)
                        repositories.append(repository.id!)
                    }
                }
            }
            let names = ["main", "Main", "feature/a", "Feature/B", "feature/ab", "fix", "é-unicode", "z", "feature/a-", "MAIN"]
            let authors: [String?] = ["Ada <ada@x>", "ada <ADA@x>", nil, "Grace <g@x>", ""]
            let hashes = [String(repeating: "ab", count: 20), String(repeating: "AB", count: 20), "not-a-hash", String(repeating: "c", count: 64),
                          "0123456789abcdef0123456789abcdef01234567"]
            var count = 0
            // Interleaved: one name across every repository, then the next.
            for (n, name) in names.enumerated() {
                for (r, repository) in repositories.enumerated() where (n + r) % 4 != 0 {
                    let date: Date? = count % 7 == 3 ? nil : now.addingTimeInterval(-Double((count * 37) % 50) * 60)
                    var branch = Branch(repositoryID: repository, name: name, headHash: hashes[count % hashes.count], headDate: date,
                                        headAuthor: authors[count % authors.count], headMessage: "Change \(count % 9): tidy\nsecond line", updatedAt: now)
                    try branch.insert(db)
                    count += 1
                }
            }
            // A subject and a hash longer than the index keeps of them.
            var long = Branch(repositoryID: repositories[0], name: "long", headHash: String(repeating: "not hex ", count: 20), headDate: now,
                              headAuthor: "Ada <ada@x>", headMessage: String(repeating: "subject ", count: 60) + "\nbody", updatedAt: now)
            try long.insert(db)
            try db.execute(sql: "DELETE FROM branches WHERE id % 11 = 5")
            return repositories
        }
    }

    func sqlOrder(accountID: Int64?, repositoryID: Int64?, sort: Store.BrowseSort) throws -> [Int64] {
        try store.branchWindow(accountID: accountID, repositoryID: repositoryID, Store.BrowseQuery(filter: "", sort: sort, offset: 0, limit: 10_000)).rows.map { $0.branch.id! }
    }

    @Test("every sort and scope lists the branches in SQL's order, read whole and read in halves",
          arguments: Store.BrowseSort.allCases)
    func ordersLikeSQL(sort: Store.BrowseSort) throws {
        for (accountID, repositoryID) in [(nil, nil), (Int64(1), nil), (Int64(2), nil), (nil, repositoryIDs[2])] as [(Int64?, Int64?)] {
            let expected = try sqlOrder(accountID: accountID, repositoryID: repositoryID, sort: sort)
            #expect(!expected.isEmpty)
            for partRows in [Int.max, 1] {
                let index = try #require(try store.branchSearchIndex(accountID: accountID, repositoryID: repositoryID, sort: sort, partRows: partRows))
                #expect(index.order.map { index.id(Int($0)) } == expected, "\(sort) \(String(describing: accountID)) \(String(describing: repositoryID)) parts \(partRows)")
            }
        }
    }

    @Test("each slot keeps its name, repository and author (folded, shared), its subject, and its hash as 20 bytes or, when not 40 hex digits, as text")
    func contents() throws {
        for partRows in [Int.max, 1] {
            let index = try #require(try store.branchSearchIndex(accountID: nil, repositoryID: nil, sort: .name, partRows: partRows))
            let rows = try store.branchRows(ids: (0..<index.count).map(index.id))
            #expect(rows.count == index.count)
            func shared(_ keys: Store.BranchSearchIndex.SharedKeys, _ number: UInt32) -> String {
                String(decoding: keys.bytes[Int(keys.starts[Int(number)])..<(keys.end(Int(number)) - 1)], as: UTF8.self)
            }
            for (slot, row) in rows.enumerated() {
                let fold = { (text: String) in String(decoding: text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self) }
                #expect(shared(index.nameKeys, index.names[slot]) == fold(row.branch.name))
                let pair = Int(index.pairs[slot])
                #expect(shared(index.authorKeys, index.pairAuthors[pair]) == fold(row.branch.headAuthor ?? ""))
                #expect(shared(index.repositoryKeys, index.pairRepositories[pair]) == fold("\(row.provider)/\(row.workspaceSlug)/\(row.repositorySlug)"))
                let start = index.subjectStart(slot)
                let key = String(decoding: index.subjects[start..<(start + Int(index.subjectLengths[slot]) - 1)], as: UTF8.self)
                let hash = row.branch.headHash
                let hex = hash.count == 40 && hash.allSatisfy(\.isHexDigit)
                #expect(index.hasTextHash(slot) == !hex)
                let subject = String(decoding: (row.branch.headMessage!.split(separator: "\n").first.map(String.init) ?? "").utf8.prefix(Store.BranchSearchIndex.subjectLimit), as: UTF8.self)
                #expect(key == fold(subject) + (hex ? "" : "\u{1}" + fold(String(hash.utf8.prefix(Store.BranchSearchIndex.textHashLimit))!)))
                let bytes = index.hashes[(slot * 20)..<(slot * 20 + 20)]
                #expect(bytes.map { String(format: "%02x", $0) }.joined() == (hex ? hash.lowercased() : String(repeating: "0", count: 40)))
            }
        }
    }

    @Test("the generation moves with a branch added, a change event, or an account removed — not with other writes")
    func generation() throws {
        let first = try store.mirrorGeneration()
        try store.write { db in try db.execute(sql: "UPDATE branches SET updated_at = updated_at WHERE id = 1") }
        #expect(try store.mirrorGeneration() == first)
        let repositoryID = repositoryIDs[0], now = self.now
        try store.write { db in
            var branch = Branch(repositoryID: repositoryID, name: "brand-new", headHash: String(repeating: "e", count: 40), updatedAt: now)
            try branch.insert(db)
        }
        let second = try store.mirrorGeneration()
        #expect(second != first)
        try store.write { db in try db.execute(sql: "DELETE FROM accounts WHERE id = 2") }
        #expect(try store.mirrorGeneration() != second)
    }

    @Test("a scope smaller than asked for gives no index")
    func small() throws {
        #expect(try store.branchSearchIndex(accountID: nil, repositoryID: repositoryIDs[0], sort: .name, atLeast: 5_000) == nil)
    }

    @Test("interned strings keep their numbers through the table's growth; equal bytes are one string")
    func interner() {
        var interner = ByteInterner(capacity: 4)
        let words = (0..<5_000).map { "word-\($0 % 3_000)-\(String(repeating: "x", count: $0 % 13))" }
        var numbers: [String: UInt32] = [:]
        for word in words {
            let number = Array(word.utf8).withUnsafeBufferPointer { interner.intern($0).number }
            if let known = numbers[word] { #expect(known == number) } else { numbers[word] = number }
        }
        #expect(interner.count == Set(words).count)
        for (word, number) in numbers { #expect(interner.withString(Int(number)) { String(decoding: $0, as: UTF8.self) } == word) }
    }

    @Test("folding eight bytes at once lowercases exactly A–Z, for every byte value in every lane")
    func foldsWordWide() {
        for value in 0...255 {
            for lane in 0..<8 {
                var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: 0x5A &+ lane &* 29), count: 11)
                bytes[lane] = UInt8(value)
                let expected = bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
                bytes.withUnsafeMutableBufferPointer { BranchIndexBuilder.fold($0.baseAddress!, count: $0.count) }
                #expect(bytes == expected)
            }
        }
    }

    @Test("stored dates become numbers in the same order as their text; none is 0")
    func dateKeys() {
        let texts = ["2026-12-02 14:04:12.405", "2026-12-02 14:04:12.406", "2026-12-02 14:04:13", "2027-01-01 00:00:00.000", "2026-12-02T14:04:12.404Z"]
        let keys = texts.map { text in Array(text.utf8).withUnsafeBufferPointer { DateOrderKey.of($0) } }
        #expect(Array(keys.prefix(4)) == keys.prefix(4).sorted())
        #expect(keys[4] < keys[0])
        #expect(!keys.contains(0))
    }
}
