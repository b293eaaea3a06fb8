/// The one gate every provider string passes before it reaches a terminal. Control characters,
/// escape sequences and bidi or zero-width controls are rendered inert and visible (`^[`,
/// `\u{202E}`), so a commit message can neither move the cursor nor reorder what is shown.
public enum TerminalText {
    public static func sanitize(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x00..<0x20:
                // Caret notation, as `cat -v` shows it: ESC is ^[, CR is ^M.
                out.append("^")
                out.append(Unicode.Scalar(UInt8(v + 0x40)))
            case 0x7F:
                out.append(contentsOf: "^?".unicodeScalars)
            case 0x80..<0xA0:
                out.append(contentsOf: escaped(v))
            default:
                if isInvisibleControl(v) { out.append(contentsOf: escaped(v)) } else { out.append(scalar) }
            }
        }
        return String(out)
    }

    /// True when the text would be changed by `sanitize`.
    public static func needsSanitizing(_ text: String) -> Bool {
        text.unicodeScalars.contains { v in
            v.value < 0x20 || (0x7F..<0xA0).contains(v.value) || isInvisibleControl(v.value)
        }
    }

    /// Bidi embeddings, overrides and isolates, directional marks, zero-width characters, the
    /// BOM and line/paragraph separators: all can disguise or reorder text.
    static func isInvisibleControl(_ v: UInt32) -> Bool {
        switch v {
        case 0x061C, 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x2064, 0x2066...0x2069, 0xFEFF:
            true
        default:
            false
        }
    }

    private static func escaped(_ v: UInt32) -> String.UnicodeScalarView {
        let hex = String(v, radix: 16, uppercase: true)
        return "\\u{\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex)}".unicodeScalars
    }
}
