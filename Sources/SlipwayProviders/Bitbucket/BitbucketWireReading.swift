import Foundation
import SlipwayHTTP

/// The branch and commit pages an initial sync reads by the thousand, read straight into the
/// provider's values with `JSONReader`: only the fields `BitbucketProvider.commitFields` asks
/// for, with the same rules as the Codable wire types (a `hash` and a `name` are required, an
/// unreadable date is nil).
extension BitbucketWire {
    /// One page of a listing: its values read by `value`, and the `next` link.
    static func readPage<V>(_ reader: inout JSONReader, value: (inout JSONReader) throws -> V?) throws -> (values: [V], next: String?) {
        var values: [V] = []
        var next: String?
        var sawValues = false
        try reader.object { reader, key in
            if key == "values" {
                sawValues = true
                try reader.array { reader in
                    if let item = try value(&reader) { values.append(item) }
                }
            } else if key == "next" {
                next = try reader.string()
            }
        }
        guard sawValues else { throw ReadingError.missing("values") }
        return (values, next)
    }

    /// A `refs/branches` value; nil for a branch without a target (as the Codable path drops it).
    static func readBranch(_ reader: inout JSONReader) throws -> ProviderBranch? {
        var name: String?
        var head: ProviderCommit?
        try reader.object { reader, key in
            if key == "name" {
                name = try reader.string()
            } else if key == "target" {
                if reader.peekKind() != .null { head = try readCommit(&reader) }
            }
        }
        guard let name else { throw ReadingError.missing("name") }
        return head.map { ProviderBranch(name: name, head: $0) }
    }

    /// A commit (a branch's target, or a value of `commits/…`).
    static func readCommit(_ reader: inout JSONReader) throws -> ProviderCommit {
        var hash: String?
        var date: Date?
        var author: String?
        var message: String?
        var parents: [String] = []
        try reader.object { reader, key in
            if key == "hash" {
                hash = try reader.string()
            } else if key == "date" {
                // Any shape Bitbucket sends, parsed from the bytes; anything else is no date.
                if reader.peekKind() == .string {
                    date = try reader.withString { bytes, _ in ProviderDate.parse(bytes: bytes) } ?? nil
                }
            } else if key == "author" {
                try reader.object { reader, key in
                    if key == "raw" { author = try reader.string() }
                }
            } else if key == "message" {
                message = try reader.string()
            } else if key == "parents" {
                try reader.array { reader in
                    try reader.object { reader, key in
                        if key == "hash", let parent = try reader.string() { parents.append(parent) }
                    }
                }
            }
        }
        guard let hash else { throw ReadingError.missing("hash") }
        return ProviderCommit(hash: hash, date: date, author: author, message: message, parents: parents)
    }

    enum ReadingError: Error { case missing(String) }
}
