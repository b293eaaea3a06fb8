import CNcurses

/// How each role looks on a terminal: one of the eight base colours (or the terminal's own,
/// -1) plus attributes. With NO_COLOR only the attributes remain, so the selection still shows
/// by reverse video and bold.
struct Palette {
    struct Look {
        var fg: Int16 = -1
        var bg: Int16 = -1
        var bold = false
        var reverse = false
        var underline = false
        var dim = false
    }

    static let standard: [StyleRole: Look] = [
        .normal: Look(),
        .title: Look(fg: 0, bg: 6, bold: true),
        .header: Look(bold: true),
        .badgeOK: Look(fg: 2, bold: true),
        .badgeWarning: Look(fg: 3, bold: true),
        .badgeError: Look(fg: 1, bold: true),
        .crumbs: Look(fg: 6),
        .crumbsCurrent: Look(fg: 6, bold: true),
        .columnHeader: Look(bold: true, underline: true),
        .row: Look(),
        .selected: Look(reverse: true),
        .match: Look(fg: 3, bold: true, underline: true),
        .selectedMatch: Look(bold: true, reverse: true, underline: true),
        .changed: Look(fg: 2, bold: true),
        .stale: Look(dim: true),
        .dim: Look(dim: true),
        .hash: Look(fg: 3),
        .hintKey: Look(fg: 6, bold: true),
        .hint: Look(),
        .info: Look(fg: 2),
        .error: Look(fg: 1, bold: true),
        .prompt: Look(bold: true),
        .border: Look(dim: true),
        .progress: Look(fg: 6),
        .detailLabel: Look(bold: true),
    ]

    /// Attributes and colour pair per role, after `start_color` (or none with NO_COLOR).
    let styles: [StyleRole: (attrs: attr_t, pair: Int16)]

    init(colors: Bool) {
        var styles: [StyleRole: (attr_t, Int16)] = [:]
        for (index, role) in StyleRole.allCases.enumerated() {
            var look = Self.standard[role] ?? Look()
            if !colors, role == .title || role == .selected || role == .selectedMatch { look.reverse = true; look.bold = true }
            var attrs = slw_A_NORMAL()
            if look.bold { attrs |= slw_A_BOLD() }
            if look.reverse { attrs |= slw_A_REVERSE() }
            if look.underline { attrs |= slw_A_UNDERLINE() }
            if look.dim { attrs |= slw_A_DIM() }
            var pair: Int16 = 0
            if colors, look.fg != -1 || look.bg != -1 {
                pair = Int16(index + 1)
                init_pair(pair, look.fg, look.bg)
            }
            styles[role] = (attrs, pair)
        }
        self.styles = styles
    }
}
