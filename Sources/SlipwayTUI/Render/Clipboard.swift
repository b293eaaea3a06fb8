import Foundation

/// Copying through the terminal itself (OSC 52), which works over ssh; inside tmux the sequence
/// is wrapped in tmux's passthrough so it reaches the outer terminal. We write only this
/// constant prefix and base64 — never provider text as such.
public enum Clipboard {
    /// Base64 bytes at most (k9s uses the same cap; terminals drop longer payloads).
    public static let maxPayload = 74_994

    public static func osc52(_ text: String, inTmux: Bool) -> [UInt8]? {
        let payload = Data(text.utf8).base64EncodedString()
        guard payload.count <= maxPayload else { return nil }
        let sequence = "\u{1B}]52;c;\(payload)\u{07}"
        guard inTmux else { return Array(sequence.utf8) }
        // tmux takes the plain sequence when `set-clipboard on`, and passes the wrapped one
        // (DCS tmux; <sequence, each ESC doubled> ST) to the outer terminal when
        // `allow-passthrough on`: send both, whichever the user's tmux allows.
        let escaped = sequence.replacingOccurrences(of: "\u{1B}", with: "\u{1B}\u{1B}")
        return Array((sequence + "\u{1B}Ptmux;\(escaped)\u{1B}\\").utf8)
    }
}
