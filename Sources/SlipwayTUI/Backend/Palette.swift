import CNcurses

/// A theme turned into curses attributes and colour pairs for this terminal: colours mapped to
/// the nearest it has (8, 16 or 256), one pair per role. With NO_COLOR (or no colours) only the
/// attributes remain, and the selection keeps reverse video so it stays visible.
struct Palette {
    let styles: [StyleRole: (attrs: attr_t, pair: Int16)]

    init(theme: Theme, colors: Int) {
        var styles: [StyleRole: (attr_t, Int16)] = [:]
        let fallback = ThemeCatalog.standard
        for (index, role) in StyleRole.allCases.enumerated() {
            let look = theme.resolved(role, fallback: fallback)
            var attributes = look.attributes
            if colors == 0, [.selected, .selectedMatch, .title].contains(role), !attributes.contains(.reverse) {
                attributes.insert(.reverse)
            }
            var attrs = slw_A_NORMAL()
            if attributes.contains(.bold) { attrs |= slw_A_BOLD() }
            if attributes.contains(.reverse) { attrs |= slw_A_REVERSE() }
            if attributes.contains(.underline) { attrs |= slw_A_UNDERLINE() }
            if attributes.contains(.dim) { attrs |= slw_A_DIM() }
            if attributes.contains(.italic) { attrs |= slw_A_ITALIC() }
            var pair: Int16 = 0
            if colors > 0 {
                let fg = look.fg.terminalIndex(colors: colors)
                let bg = look.bg.terminalIndex(colors: colors)
                if fg != -1 || bg != -1 {
                    pair = Int16(index + 1)
                    init_pair(pair, Int16(fg), Int16(bg))
                }
            }
            styles[role] = (attrs, pair)
        }
        self.styles = styles
    }
}
