import Foundation

/// RFC 6455 frames: what a client sends (always masked, §5.3) and what it reads from a server
/// (never masked, §5.1), with payload lengths in 7, 16 or 64 bits.
public struct WebSocketFrame: Sendable, Equatable {
    public enum Opcode: UInt8, Sendable {
        case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA
        var isControl: Bool { rawValue & 0x8 != 0 }
    }
    public var fin: Bool
    public var opcode: Opcode
    public var payload: [UInt8]

    public init(fin: Bool = true, opcode: Opcode, payload: [UInt8]) {
        self.fin = fin
        self.opcode = opcode
        self.payload = payload
    }

    /// The frame's bytes, masked with `mask` (a client's frames must be).
    public func encoded(mask: [UInt8]?) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | opcode.rawValue]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        switch payload.count {
        case ..<126: out.append(maskBit | UInt8(payload.count))
        case ..<65_536: out += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: UInt64(payload.count) >> UInt64(shift))) }
        }
        guard let mask, mask.count == 4 else { return out + payload }
        out += mask
        out += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
        return out
    }
}

/// Reads frames from a byte stream as they arrive: bytes in, whole frames out.
public struct WebSocketFrameReader: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case maskedByServer, reservedBits, unknownOpcode(UInt8), tooLarge(Int), fragmentedControl
        public var description: String {
            switch self {
            case .maskedByServer: "the server masked a frame (RFC 6455 §5.1 forbids it)"
            case .reservedBits: "a frame set reserved bits no extension was agreed for"
            case let .unknownOpcode(code): "a frame with the unknown opcode \(code)"
            case let .tooLarge(limit): "a frame over \(limit) bytes"
            case .fragmentedControl: "a control frame was fragmented or over 125 bytes"
            }
        }
    }

    private var buffer: [UInt8] = []
    private var start = 0
    public let maxPayload: Int

    public init(maxPayload: Int = 16 << 20) { self.maxPayload = maxPayload }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 65_536 { buffer.removeFirst(start); start = 0 }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole frame, or nil until more bytes come.
    public mutating func next() throws(Failure) -> WebSocketFrame? {
        let available = buffer.count - start
        guard available >= 2 else { return nil }
        let first = buffer[start], second = buffer[start + 1]
        guard first & 0x70 == 0 else { throw .reservedBits }
        guard let opcode = WebSocketFrame.Opcode(rawValue: first & 0x0F) else { throw .unknownOpcode(first & 0x0F) }
        guard second & 0x80 == 0 else { throw .maskedByServer }
        var header = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard available >= 4 else { return nil }
            length = Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
            header = 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            var value: UInt64 = 0
            for i in 2..<10 { value = value << 8 | UInt64(buffer[start + i]) }
            guard value <= UInt64(maxPayload) else { throw .tooLarge(maxPayload) }
            length = Int(value)
            header = 10
        }
        guard length <= maxPayload else { throw .tooLarge(maxPayload) }
        if opcode.isControl, first & 0x80 == 0 || length > 125 { throw .fragmentedControl }
        guard available >= header + length else { return nil }
        let payload = Array(buffer[(start + header)..<(start + header + length)])
        start += header + length
        return WebSocketFrame(fin: first & 0x80 != 0, opcode: opcode, payload: payload)
    }
}

/// The opening handshake (RFC 6455 §4): the client's upgrade request and the check of the
/// server's answer.
public enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a key: base64 of SHA-1 of the key and the RFC's GUID.
    public static func accept(for key: String) -> String {
        Data(SHA1.digest(Array((key + guid).utf8))).base64EncodedString()
    }

    /// The GET that asks to upgrade, for a URL's host and path with its query.
    public static func request(host: String, target: String, key: String, userAgent: String) -> String {
        "GET \(target) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\nUser-Agent: \(userAgent)\r\n\r\n"
    }

    /// Checks the server's head (status line and headers, up to the blank line): 101 with the
    /// right accept value, or why not.
    public static func check(responseHead: String, key: String) -> String? {
        let lines = responseHead.components(separatedBy: "\r\n")
        let status = lines.first?.split(separator: " ", maxSplits: 2) ?? []
        guard status.count >= 2, status[0].hasPrefix("HTTP/1.1") else { return "the log server did not answer in HTTP/1.1" }
        guard status[1] == "101" else { return "the log server answered \(status[1]) instead of switching to WebSocket" }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard headers["upgrade"]?.lowercased() == "websocket" else { return "the log server did not upgrade to websocket" }
        guard headers["sec-websocket-accept"] == accept(for: key) else { return "the log server's Sec-WebSocket-Accept does not match the key" }
        return nil
    }
}
