import SlipwayCore

public enum TextAttribute: String, Sendable, CaseIterable {
    case bold, dim, reverse, underline, italic
}

/// One role's look as a theme file gives it; what is left out comes from the theme's `normal`
/// (colours) and, for roles the file omits, from the default theme.
public struct ThemeStyle: Sendable, Equatable {
    public var fg: ThemeColor?
    public var bg: ThemeColor?
    public var attributes: Set<TextAttribute>?

    public init(fg: ThemeColor? = nil, bg: ThemeColor? = nil, attributes: Set<TextAttribute>? = nil) {
        self.fg = fg
        self.bg = bg
        self.attributes = attributes
    }
}

/// A look ready to paint: both colours and the attributes.
public struct ResolvedStyle: Sendable, Equatable {
    public var fg: ThemeColor
    public var bg: ThemeColor
    public var attributes: Set<TextAttribute>
}

/// A problem in a theme file: one line naming file and line.
public typealias ThemeError = ConfigError

public struct Theme: Sendable, Equatable {
    public var name: String
    public var description: String
    public var styles: [StyleRole: ThemeStyle]

    /// Reads a theme file. Unknown sections and keys, colours and attributes are errors (a
    /// typo should not pass silently), each with its line.
    public static func parse(_ text: String, file: String) throws(ThemeError) -> Theme {
        let document: TOMLDocument
        document = try TOMLDocument(text: text, file: file)
        func fail(_ path: [String], _ message: String) -> ThemeError {
            ThemeError(file: file, line: document.line(of: path), message: message)
        }
        var theme = Theme(name: "", description: "", styles: [:])
        let roles = Dictionary(uniqueKeysWithValues: StyleRole.allCases.map { ("\($0.themeKey.section).\($0.themeKey.key)", $0) })
        for (key, value) in document.root.sorted(by: { $0.key < $1.key }) {
            switch (key, value) {
            case let ("name", .string(name)):
                theme.name = name
            case let ("description", .string(text)):
                theme.description = text
            case ("name", _), ("description", _):
                throw fail([key], "\(key) must be a string")
            case let ("ui", .table(entries)), let ("badges", .table(entries)), let ("phases", .table(entries)):
                for (name, entry) in entries.sorted(by: { $0.key < $1.key }) {
                    guard let role = roles["\(key).\(name)"] else {
                        let known = StyleRole.allCases.filter { $0.themeKey.section == key }.map(\.themeKey.key).joined(separator: ", ")
                        throw fail([key, name], "unknown element '\(key).\(name)'; \(key) has \(known)")
                    }
                    theme.styles[role] = try style(entry, path: [key, name], fail: fail)
                }
            default:
                throw fail([key], "unknown key '\(key)'; a theme has name, description, [ui], [badges] and [phases]")
            }
        }
        guard !theme.name.isEmpty else { throw fail([], "the theme has no name (add name = \"…\")") }
        return theme
    }

    private static func style(_ node: TOMLNode, path: [String], fail: ([String], String) -> ThemeError) throws(ThemeError) -> ThemeStyle {
        guard case let .table(fields) = node else { throw fail(path, "\(path.joined(separator: ".")) must be a table like { fg = \"cyan\", attrs = [\"bold\"] }") }
        var style = ThemeStyle()
        for (field, value) in fields {
            switch field {
            case "fg", "bg":
                let text: String
                switch value {
                case let .string(s): text = s
                case let .integer(i): text = String(i)
                default: throw fail(path + [field], "\(path.joined(separator: ".")).\(field) must be a colour name, 0–255 or \"#rrggbb\"")
                }
                guard let color = ThemeColor(text: text) else {
                    throw fail(path + [field], "'\(text)' is not a colour; use default, a name such as cyan or bright_red, 0–255, or \"#rrggbb\"")
                }
                if field == "fg" { style.fg = color } else { style.bg = color }
            case "attrs":
                guard case let .array(items) = value else { throw fail(path + [field], "attrs must be a list such as [\"bold\", \"underline\"]") }
                var attributes = Set<TextAttribute>()
                for item in items {
                    guard case let .string(name) = item, let attribute = TextAttribute(rawValue: name.lowercased()) else {
                        throw fail(path + [field], "unknown attribute in \(path.joined(separator: ".")).attrs; use \(TextAttribute.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    attributes.insert(attribute)
                }
                style.attributes = attributes
            default:
                throw fail(path + [field], "unknown field '\(field)' in \(path.joined(separator: ".")); use fg, bg and attrs")
            }
        }
        return style
    }

    /// A role's finished look: the role's style over the theme's `normal` colours, roles the
    /// theme leaves out taken from `fallback` (the default theme).
    public func resolved(_ role: StyleRole, fallback: Theme? = nil) -> ResolvedStyle {
        let normal = styles[.normal] ?? fallback?.styles[.normal] ?? ThemeStyle()
        let own = styles[role] ?? fallback?.styles[role] ?? ThemeStyle()
        return ResolvedStyle(fg: own.fg ?? normal.fg ?? .terminalDefault, bg: own.bg ?? normal.bg ?? .terminalDefault,
                             attributes: own.attributes ?? (role == .normal ? [] : []))
    }
}
