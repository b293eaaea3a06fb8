import SlipwayHTTP

/// A commit's author in GitHub's and GitLab's push payloads, `{"name", "email"}`, as the mirror
/// keeps authors: `Name <email>` (either part may be missing).
enum PushPerson {
    static func read(_ reader: inout JSONReader) throws -> String {
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
