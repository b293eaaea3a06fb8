import Foundation

/// Changes one setting in the config file in place, keeping everything else as the user wrote
/// it (comments, order): the `:theme` command remembers its choice as `ui.theme`.
public enum ConfigWriter {
    public static func set(_ key: String, to value: String, inTable table: String, path: String) throws {
        let existing = FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) } ?? ""
        let updated = setting(key, to: value, inTable: table, text: existing)
        let data = Data(updated.utf8)
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw ConfigError(file: path, line: nil, message: "cannot be written (check the folder's permissions and free space)")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ConfigError(file: path, line: nil, message: "cannot be replaced: \(String(cString: strerror(errno)))")
        }
    }

    /// The text with `key = "value"` set under `[table]` (added when missing).
    public static func setting(_ key: String, to value: String, inTable table: String, text: String) -> String {
        let quoted = "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        var lines = text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var inTable = false
        var tableLine: Int?
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("[") {
                inTable = trimmed.split(separator: "#").first.map { $0.trimmingCharacters(in: .whitespaces) } == "[\(table)]"
                if inTable { tableLine = index }
                continue
            }
            if inTable, let eq = trimmed.firstIndex(of: "="), trimmed[..<eq].trimmingCharacters(in: .whitespaces) == key {
                lines[index] = "\(key) = \(quoted)"
                return lines.joined(separator: "\n") + "\n"
            }
        }
        if let tableLine {
            lines.insert("\(key) = \(quoted)", at: tableLine + 1)
        } else {
            if !lines.isEmpty { lines.append("") }
            lines += ["[\(table)]", "\(key) = \(quoted)"]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
