/// A colour as a theme writes it: the terminal's own, one of the 256 indexed colours, or RGB.
public enum ThemeColor: Sendable, Equatable {
    case terminalDefault
    case index(Int)
    case rgb(UInt8, UInt8, UInt8)

    static let names: [String: Int] = [
        "black": 0, "red": 1, "green": 2, "yellow": 3, "blue": 4, "magenta": 5, "cyan": 6, "white": 7,
        "bright_black": 8, "bright_red": 9, "bright_green": 10, "bright_yellow": 11, "bright_blue": 12,
        "bright_magenta": 13, "bright_cyan": 14, "bright_white": 15, "grey": 8, "gray": 8,
    ]

    /// `default`, a name, `0`–`255` (as a number or text) or `#rrggbb`.
    public init?(text: String) {
        let lower = text.lowercased()
        if lower == "default" { self = .terminalDefault; return }
        if let index = Self.names[lower] { self = .index(index); return }
        if let index = Int(lower), (0...255).contains(index) { self = .index(index); return }
        if lower.hasPrefix("#"), lower.count == 7, let value = UInt32(lower.dropFirst(), radix: 16) {
            self = .rgb(UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF))
            return
        }
        return nil
    }

    /// The colour number to use on a terminal with `colors` colours (-1: the terminal's own):
    /// indexes it has are used as they are, anything else maps to the nearest it has.
    public func terminalIndex(colors: Int) -> Int {
        switch self {
        case .terminalDefault: return -1
        case let .index(i) where i < colors: return i
        case let .index(i): return Self.nearest(Self.rgb(of: i), colors: colors)
        case let .rgb(r, g, b): return Self.nearest((Int(r), Int(g), Int(b)), colors: colors)
        }
    }

    /// xterm's palette: 16 system colours, a 6×6×6 cube, 24 greys.
    static func rgb(of index: Int) -> (Int, Int, Int) {
        let system: [(Int, Int, Int)] = [(0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
                                         (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255)]
        if index < 16 { return system[max(0, index)] }
        if index < 232 {
            let levels = [0, 95, 135, 175, 215, 255]
            let i = index - 16
            return (levels[i / 36], levels[(i / 6) % 6], levels[i % 6])
        }
        let grey = 8 + (index - 232) * 10
        return (grey, grey, grey)
    }

    static func nearest(_ target: (Int, Int, Int), colors: Int) -> Int {
        guard colors > 0 else { return -1 }
        var best = 0
        var bestDistance = Int.max
        // With 256 colours, the cube and greys: fixed values, unlike the 16 system colours,
        // which terminal colour schemes redefine.
        for index in (colors >= 256 ? 16 : 0)..<min(colors, 256) {
            let (r, g, b) = rgb(of: index)
            // Weighted for the eye's sensitivity (a cheap stand-in for a perceptual distance).
            let distance = 3 * (r - target.0) * (r - target.0) + 4 * (g - target.1) * (g - target.1) + 2 * (b - target.2) * (b - target.2)
            if distance < bestDistance { bestDistance = distance; best = index }
        }
        return best
    }
}
