import Foundation
import SlipwayHTTP

extension PushEvent {
    /// Reads a payload with `JSONReader`; any failure — malformed or truncated JSON, a mistyped
    /// or missing field — is one `DecodingError` naming it.
    static func reading<T>(_ body: Data, _ read: (inout JSONReader) throws -> T) throws(DecodingError) -> T {
        do {
            return try JSONReader.read(body, read)
        } catch let failure as JSONReader.Failure {
            throw .malformed(failure.description)
        } catch let known as DecodingError {
            throw known
        } catch {
            throw .malformed(describe(error))
        }
    }
}

/// A commit as GitHub's and GitLab's push payloads give it (`head_commit`, or one of `commits`):
/// its id (required), message, timestamp, and author as the mirror keeps authors, `Name <email>`.
struct PushCommit {
    var id: String
    var message: String?
    var timestamp: String?
    var author: String?

    /// `what` names the commit in the error when its id is missing.
    static func read(_ reader: inout JSONReader, what: String) throws -> PushCommit {
        var id: String?
        var message: String?
        var timestamp: String?
        var author: String?
        try reader.object { reader, key in
            if key == "id" {
                id = try reader.string()
            } else if key == "message" {
                message = try reader.string()
            } else if key == "timestamp" {
                timestamp = try reader.string()
            } else if key == "author" {
                if reader.peekKind() == .null { return }
                author = try readPerson(&reader)
            }
        }
        guard let id else { throw PushEvent.DecodingError.malformed("\(what) without its id") }
        return PushCommit(id: id, message: message, timestamp: timestamp, author: author)
    }

    /// `{"name", "email"}` as `Name <email>` (either part may be missing).
    static func readPerson(_ reader: inout JSONReader) throws -> String {
        var name: String?
        var email: String?
        try reader.object { reader, key in
            if key == "name" {
                name = try reader.string()
            } else if key == "email" {
                email = try reader.string()
            }
        }
        return [name, email.map { "<\($0)>" }].compactMap { $0 }.joined(separator: " ")
    }
}
