import Foundation
import SlipwayCore

/// The themes a user can pick: the built-in ones (embedded, see `scripts/generate-themes`) and
/// `*.toml` files in the user's themes folder, which win over built-ins of the same name.
public struct ThemeCatalog: Sendable {
    public enum Origin: Sendable, Equatable {
        case builtIn
        case file(String)
    }

    public struct Entry: Sendable {
        public var name: String
        public var origin: Origin
        public var description: String
    }

    public let userDirectory: String?

    public init(userDirectory: String?) {
        self.userDirectory = userDirectory
    }

    /// The default theme; parsing it cannot fail (a test proves it).
    public static let standard: Theme = {
        let source = BuiltinThemes.sources.first { $0.name == "default" }!
        return (try? Theme.parse(source.text, file: "default.toml")) ?? Theme(name: "default", description: "", styles: [:])
    }()

    public static var builtInNames: [String] { BuiltinThemes.sources.map(\.name) }

    private func userFiles() -> [String: String] {
        guard let userDirectory, let names = try? FileManager.default.contentsOfDirectory(atPath: userDirectory) else { return [:] }
        var files: [String: String] = [:]
        for name in names where name.hasSuffix(".toml") { files[String(name.dropLast(5))] = userDirectory + "/" + name }
        return files
    }

    /// Every theme by name, with where it comes from and its description (broken files say so).
    public func entries() -> [Entry] {
        var entries: [String: Entry] = [:]
        for source in BuiltinThemes.sources {
            let description = (try? Theme.parse(source.text, file: source.name + ".toml"))?.description ?? ""
            entries[source.name] = Entry(name: source.name, origin: .builtIn, description: description)
        }
        for (name, path) in userFiles() {
            let description: String
            switch load(name) {
            case let .success(theme): description = theme.description
            case let .failure(error): description = "broken: \(error)"
            }
            entries[name] = Entry(name: name, origin: .file(path), description: description)
        }
        return entries.values.sorted { $0.name < $1.name }
    }

    /// A theme by name: the user's file if there is one, else the built-in.
    public func load(_ name: String) -> Result<Theme, ThemeError> {
        if let path = userFiles()[name] {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                return .failure(ThemeError(file: path, line: nil, message: "cannot be read as UTF-8 text"))
            }
            return Result { () throws(ThemeError) -> Theme in try Theme.parse(text, file: path) }
        }
        guard let source = BuiltinThemes.sources.first(where: { $0.name == name }) else {
            let known = entries().map(\.name).joined(separator: ", ")
            // Named by what was asked for, not by a file that does not exist.
            let own = userDirectory.map { "; or write \($0)/\(name).toml" } ?? ""
            return .failure(ThemeError(file: "theme '\(name)'", line: nil, message: "no theme named '\(name)'; themes: \(known)\(own)"))
        }
        return Result { () throws(ThemeError) -> Theme in try Theme.parse(source.text, file: "Themes/\(name).toml") }
    }
}
