import Foundation
/// `slipway themes preview NAME`: every element of a theme as a swatch, in ANSI colours for a
/// terminal (256 colours), or as plain text naming colours and attributes (NO_COLOR, a pipe).
public enum ThemePreview {
    public static func render(_ theme: Theme, colors: Int) -> String {
        var lines = ["\(theme.name) — \(theme.description)", ""]
        var section = ""
        for role in StyleRole.allCases {
            let (name, key) = role.themeKey
            if name != section {
                section = name
                lines.append("[\(name)]")
            }
            let look = theme.resolved(role, fallback: ThemeCatalog.standard)
            let label = key.padding(toLength: 16, withPad: " ", startingAt: 0)
            let sample = " \(sampleText(role)) "
            if colors > 0 {
                lines.append("  \(label)\(sgr(look, colors: colors))\(sample)\u{1B}[0m")
            } else {
                lines.append("  \(label)\(sample)  \(describe(look))")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func sampleText(_ role: StyleRole) -> String {
        switch role {
        case .hash: "2e24de9"
        case .badgeOK: "[bitbucket @ada ok]"
        case .badgeWarning: "[bitbucket paused 4m12s]"
        case .badgeError: "[bitbucket needs relink]"
        case .crumbs, .crumbsCurrent: "Providers › bitbucket › acme"
        case .columnHeader: "BRANCH    HEAD    AGE"
        case .selected, .selectedMatch: "main      2e24de9  5m"
        default: role.themeKey.key.replacingOccurrences(of: "_", with: " ")
        }
    }

    /// The escape sequence for a look (our own constants and numbers, never provider text).
    static func sgr(_ look: ResolvedStyle, colors: Int) -> String {
        var codes: [String] = ["0"]
        let attributes: [(TextAttribute, String)] = [(.bold, "1"), (.dim, "2"), (.italic, "3"), (.underline, "4"), (.reverse, "7")]
        for (attribute, code) in attributes where look.attributes.contains(attribute) { codes.append(code) }
        let fg = look.fg.terminalIndex(colors: colors)
        let bg = look.bg.terminalIndex(colors: colors)
        if fg >= 0 { codes.append(fg < 8 ? "\(30 + fg)" : fg < 16 ? "\(90 + fg - 8)" : "38;5;\(fg)") }
        if bg >= 0 { codes.append(bg < 8 ? "\(40 + bg)" : bg < 16 ? "\(100 + bg - 8)" : "48;5;\(bg)") }
        return "\u{1B}[" + codes.joined(separator: ";") + "m"
    }

    static func describe(_ look: ResolvedStyle) -> String {
        func name(_ color: ThemeColor) -> String {
            switch color {
            case .terminalDefault: "default"
            case let .index(i): "\(i)"
            case let .rgb(r, g, b): "#" + [r, g, b].map { String($0, radix: 16).leftPadded(to: 2) }.joined()
            }
        }
        let attributes = look.attributes.map(\.rawValue).sorted().joined(separator: ",")
        return "fg \(name(look.fg)) bg \(name(look.bg))" + (attributes.isEmpty ? "" : " \(attributes)")
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
