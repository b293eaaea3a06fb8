import CCurl
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket client for log streams (App Platform's `live_url`): RFC 6455 framing over
/// libcurl's connect-only connection, so the stream shares the HTTP client's TLS stack, CA
/// settings, proxies and URL policy (`wss`, or `ws` to loopback only). Debian's libcurl has no
/// WebSocket support of its own. Each connection runs on a thread of its own: a log stream is
/// long-lived and must never hold a thread of Swift's concurrency pool.
public enum WebSocketClient {
    /// The text messages a server sends, until it closes the stream (the sequence ends) or the
    /// connection fails (it throws). Ending the iteration closes the connection.
    public static func messages(_ url: String, options: TransferOptions = TransferOptions()) -> AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream { continuation in
            let connection = Connection(url: url, options: options, continuation: continuation)
            continuation.onTermination = { _ in connection.stop() }
            let thread = Thread { connection.run() }
            thread.name = "slipway-websocket"
            thread.start()
        }
    }

    /// The `http(s)` URL libcurl connects to for a `ws(s)` one.
    static func transportURL(_ url: String) throws(HTTPError) -> (url: String, host: String, target: String) {
        guard var components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else { throw .invalidURL(url) }
        switch scheme {
        case "wss", "https": components.scheme = "https"
        case "ws", "http": components.scheme = "http"
        default: throw .insecureURL(url)
        }
        guard let text = components.string, let host = components.host else { throw .invalidURL(url) }
        try URLPolicy.check(text)
        let target = (components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath)
            + (components.percentEncodedQuery.map { "?\($0)" } ?? "")
        let authority = components.port.map { "\(host.contains(":") ? "[\(host)]" : host):\($0)" } ?? host
        return (text, authority, target)
    }

    final class Connection: @unchecked Sendable {
        let url: String
        let options: TransferOptions
        let continuation: AsyncThrowingStream<String, any Error>.Continuation
        private let lock = NSLock()
        private var stopping = false

        init(url: String, options: TransferOptions, continuation: AsyncThrowingStream<String, any Error>.Continuation) {
            self.url = url
            self.options = options
            self.continuation = continuation
        }

        func stop() {
            lock.lock(); stopping = true; lock.unlock()
        }

        var stopped: Bool {
            lock.lock(); defer { lock.unlock() }
            return stopping
        }

        func run() {
            CurlRuntime.ensureInitialized()
            guard let easy = curl_easy_init() else {
                continuation.finish(throwing: HTTPError.network(.other, host: "", detail: "libcurl could not allocate a connection"))
                return
            }
            defer { curl_easy_cleanup(easy) }
            do {
                try stream(easy)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }

        private func stream(_ easy: UnsafeMutableRawPointer) throws {
            let target = try WebSocketClient.transportURL(url)
            let plain = target.url.hasPrefix("http:")
            let host = URLComponents(string: target.url)?.host ?? ""
            let ca = TransferOptions.caFromEnvironment()
            _ = slw_easy_setopt_string(easy, CURLOPT_URL, target.url)
            _ = slw_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, plain ? "http" : "https")
            _ = slw_easy_setopt_long(easy, CURLOPT_CONNECT_ONLY, 1)
            _ = slw_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
            _ = slw_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
            _ = slw_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
            if let file = options.caBundle ?? ca.file { _ = slw_easy_setopt_string(easy, CURLOPT_CAINFO, file) }
            if let directory = options.caDirectory ?? ca.directory { _ = slw_easy_setopt_string(easy, CURLOPT_CAPATH, directory) }
            // As for every plain request: loopback http never goes through a proxy.
            if plain { _ = slw_easy_setopt_string(easy, CURLOPT_NOPROXY, "*") }
            _ = slw_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000))
            let connected = curl_easy_perform(easy)
            guard connected == CURLE_OK else {
                throw HTTPError.network(connected == CURLE_COULDNT_RESOLVE_HOST ? .dns : .connect, host: host,
                                        detail: String(cString: curl_easy_strerror(connected)))
            }
            var socket: curl_socket_t = -1
            _ = slw_easy_active_socket(easy, &socket)

            var keyBytes = [UInt8](repeating: 0, count: 16)
            for i in keyBytes.indices { keyBytes[i] = UInt8.random(in: 0...255) }
            let key = Data(keyBytes).base64EncodedString()
            try send(Array(WebSocketHandshake.request(host: target.host, target: target.target, key: key, userAgent: options.userAgent).utf8),
                     easy: easy, socket: socket, host: host)

            // The server's head, up to the blank line; what follows it is frames already.
            var head: [UInt8] = []
            var reader = WebSocketFrameReader()
            let deadline = Date().addingTimeInterval(max(options.connectTimeout, 5))
            while true {
                guard let chunk = try receive(easy: easy, socket: socket, host: host) else { throw HTTPError.network(.reset, host: host, detail: "closed during the handshake") }
                if stopped { return }
                head += chunk
                if let end = Self.headEnd(head) {
                    let text = String(decoding: head[..<end], as: UTF8.self)
                    if let problem = WebSocketHandshake.check(responseHead: text, key: key) { throw HTTPError.network(.protocolError, host: host, detail: problem) }
                    reader.append(head[(end + 4)...])
                    break
                }
                if head.count > 16_384 || Date() > deadline { throw HTTPError.network(.protocolError, host: host, detail: "no WebSocket handshake answer") }
            }

            var message: [UInt8] = []
            while true {
                while let frame = try reader.next() {
                    switch frame.opcode {
                    case .text, .binary, .continuation:
                        message += frame.payload
                        if frame.fin {
                            continuation.yield(String(decoding: message, as: UTF8.self))
                            message.removeAll(keepingCapacity: true)
                        }
                    case .ping:
                        try send(WebSocketFrame(opcode: .pong, payload: frame.payload).encoded(mask: Self.mask()), easy: easy, socket: socket, host: host)
                    case .pong:
                        break
                    case .close:
                        // Echo the close (its status code only) and end: a normal end of the log.
                        try? send(WebSocketFrame(opcode: .close, payload: Array(frame.payload.prefix(2))).encoded(mask: Self.mask()),
                                  easy: easy, socket: socket, host: host)
                        return
                    }
                }
                if stopped {
                    try? send(WebSocketFrame(opcode: .close, payload: [0x03, 0xE8]).encoded(mask: Self.mask()), easy: easy, socket: socket, host: host)
                    return
                }
                guard let chunk = try receive(easy: easy, socket: socket, host: host) else {
                    throw HTTPError.network(.reset, host: host, detail: "the log stream closed without a close frame")
                }
                reader.append(chunk)
            }
        }

        static func mask() -> [UInt8] { (0..<4).map { _ in UInt8.random(in: 0...255) } }

        static func headEnd(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 4 else { return nil }
            for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i }
            return nil
        }

        private func wait(_ socket: curl_socket_t, for events: Int16) {
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            _ = poll(&descriptor, 1, 200)
        }

        private func send(_ bytes: [UInt8], easy: UnsafeMutableRawPointer, socket: curl_socket_t, host: String) throws {
            var offset = 0
            while offset < bytes.count {
                var sent = 0
                let code = bytes.withUnsafeBytes { buffer in curl_easy_send(easy, buffer.baseAddress! + offset, bytes.count - offset, &sent) }
                switch code {
                case CURLE_OK: offset += sent
                case CURLE_AGAIN: wait(socket, for: Int16(POLLOUT))
                default: throw HTTPError.network(.reset, host: host, detail: String(cString: curl_easy_strerror(code)))
                }
            }
        }

        /// Bytes as they come (waiting in short polls so a stop is noticed), or nil once the
        /// server closed the connection.
        private func receive(easy: UnsafeMutableRawPointer, socket: curl_socket_t, host: String) throws -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: 16_384)
            while true {
                var received = 0
                let code = buffer.withUnsafeMutableBytes { curl_easy_recv(easy, $0.baseAddress, $0.count, &received) }
                switch code {
                case CURLE_OK:
                    return received == 0 ? nil : Array(buffer[..<received])
                case CURLE_AGAIN:
                    if stopped { return [] }
                    wait(socket, for: Int16(POLLIN))
                default:
                    throw HTTPError.network(.reset, host: host, detail: String(cString: curl_easy_strerror(code)))
                }
            }
        }
    }
}
