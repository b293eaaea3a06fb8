import Foundation
import Testing
@testable import SlipwayHTTP

/// RFC 6455 as the log-stream client speaks it: the handshake's accept value, masked client
/// frames, server frames read as their bytes arrive, and what a server must not send.
@Suite("WebSocket framing")
struct WebSocketFramingTests {
    @Test("SHA-1 of the FIPS 180 vectors, and RFC 6455's own handshake example")
    func handshakeAccept() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(SHA1.digest(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.digest([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(hex(SHA1.digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(WebSocketHandshake.accept(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        #expect(WebSocketHandshake.check(responseHead: good, key: "dGhlIHNhbXBsZSBub25jZQ==") == nil)
        #expect(WebSocketHandshake.check(responseHead: good, key: "another") != nil)
        #expect(WebSocketHandshake.check(responseHead: "HTTP/1.1 403 Forbidden\r\n", key: "k")?.contains("403") == true)
    }

    @Test("a client's frame is masked as RFC 6455 §5.7 shows; lengths of 7, 16 and 64 bits read back")
    func frames() throws {
        // §5.7: a masked "Hello" with the mask 37 fa 21 3d.
        let hello = WebSocketFrame(opcode: .text, payload: Array("Hello".utf8)).encoded(mask: [0x37, 0xFA, 0x21, 0x3D])
        #expect(hello == [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
        var reader = WebSocketFrameReader()
        for size in [5, 200, 70_000] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0) }
            reader.append(WebSocketFrame(opcode: .binary, payload: payload).encoded(mask: nil))
            #expect(try reader.next() == WebSocketFrame(opcode: .binary, payload: payload))
        }
        #expect(try reader.next() == nil)
    }

    @Test("frames arrive a byte at a time and fragmented; a masked or reserved-bit frame from a server is refused")
    func streaming() throws {
        var reader = WebSocketFrameReader()
        let bytes = WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8)).encoded(mask: nil)
            + WebSocketFrame(opcode: .continuation, payload: Array("lo".utf8)).encoded(mask: nil)
        var frames: [WebSocketFrame] = []
        for byte in bytes {
            reader.append([byte])
            while let frame = try reader.next() { frames.append(frame) }
        }
        #expect(frames.map(\.opcode) == [.text, .continuation] && frames.flatMap(\.payload) == Array("Hello".utf8) && frames.map(\.fin) == [false, true])
        var masked = WebSocketFrameReader()
        masked.append(WebSocketFrame(opcode: .text, payload: [1]).encoded(mask: [1, 2, 3, 4]))
        #expect(throws: WebSocketFrameReader.Failure.maskedByServer) { try masked.next() }
        var reserved = WebSocketFrameReader()
        reserved.append([0xC1, 0x00])
        #expect(throws: WebSocketFrameReader.Failure.reservedBits) { try reserved.next() }
        var huge = WebSocketFrameReader(maxPayload: 1000)
        huge.append(WebSocketFrame(opcode: .text, payload: [UInt8](repeating: 65, count: 2000)).encoded(mask: nil))
        #expect(throws: WebSocketFrameReader.Failure.tooLarge(1000)) { try huge.next() }
    }

    @Test("ws goes to loopback only, wss anywhere; the request target keeps the URL's query (App Platform's token)")
    func urls() throws {
        let live = try WebSocketClient.transportURL("wss://proxy-nyc1.ondigitalocean.app/?token=abc%2B1&follow=true")
        #expect(live.url.hasPrefix("https://proxy-nyc1.ondigitalocean.app") && live.target == "/?token=abc%2B1&follow=true" && live.host == "proxy-nyc1.ondigitalocean.app")
        #expect(try WebSocketClient.transportURL("ws://127.0.0.1:9000/logs").host == "127.0.0.1:9000")
        #expect(throws: HTTPError.self) { try WebSocketClient.transportURL("ws://logs.example.com/x") }
        #expect(throws: HTTPError.self) { try WebSocketClient.transportURL("ftp://logs.example.com/x") }
    }
}
