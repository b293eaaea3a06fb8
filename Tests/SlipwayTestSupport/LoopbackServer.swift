import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A deliberately small HTTP/1.1 server on 127.0.0.1 (port 0) whose handler controls the raw
/// bytes, so tests can misbehave as real servers do: reset mid-body, trickle, never answer.
public final class LoopbackServer: @unchecked Sendable {
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var headers: [String: String]
        public var body: Data
    }

    /// The descriptor belongs to the connection's serving thread: other threads only shut the
    /// socket down (which wakes that thread), so a descriptor number is never closed twice or
    /// used after another test has been given it.
    public final class Connection: @unchecked Sendable {
        public let fd: Int32
        private let lock = NSLock()
        private var isClosed = false
        private var released = false

        init(fd: Int32) { self.fd = fd }

        public var closed: Bool { lock.withLock { isClosed } }

        public func write(_ data: Data) {
            data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                    if n <= 0 { return }
                    offset += n
                }
            }
        }

        public func write(_ text: String) { write(Data(text.utf8)) }

        public func respond(_ status: Int, headers: [String: String] = [:], body: Data = Data(), reason: String = "OK") {
            var head = "HTTP/1.1 \(status) \(reason)\r\n"
            var all = headers
            if all["Content-Length"] == nil && all["Transfer-Encoding"] == nil { all["Content-Length"] = "\(body.count)" }
            for (name, value) in all.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
            head += "\r\n"
            write(Data(head.utf8) + body)
        }

        public func respond(_ status: Int, headers: [String: String] = [:], text: String) {
            respond(status, headers: headers, body: Data(text.utf8))
        }

        /// Closes with RST instead of FIN, as a crashing peer or a middlebox does (serving thread only).
        public func reset() {
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            release()
        }

        /// Ends the connection (any thread): FIN to the peer, and the serving thread wakes up.
        public func close() {
            lock.lock()
            defer { lock.unlock() }
            guard !isClosed else { return }
            isClosed = true
            shutdown(fd, Int32(SHUT_RDWR))
        }

        /// Gives the descriptor back (serving thread only).
        func release() {
            lock.lock()
            defer { lock.unlock() }
            guard !released else { return }
            released = true
            isClosed = true
            Glibc.close(fd)
        }
    }

    public typealias Handler = @Sendable (Request, Connection) -> Void

    public let port: Int
    private let listener: Int32
    private let handler: Handler
    private let lock = NSLock()
    private var accepted = 0
    private var requests: [Request] = []
    private var connections: [Connection] = []
    private var stopped = false

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var acceptedConnections: Int { lock.withLock { accepted } }
    public var receivedRequests: [Request] { lock.withLock { requests } }

    public init(handler: @escaping Handler) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 512) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Stops accepting and ends every connection; safe to call more than once.
    public func stop() {
        let open: [Connection]? = lock.withLock {
            if stopped { return nil }
            stopped = true
            return connections
        }
        guard let open else { return }
        // The accept thread owns the listening descriptor and closes it when accept fails.
        shutdown(listener, Int32(SHUT_RDWR))
        for connection in open { connection.close() }
    }

    deinit { stop() }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR && !lock.withLock({ stopped }) { continue }
                close(listener)
                return
            }
            if lock.withLock({ stopped }) {
                Glibc.close(fd)
                close(listener)
                return
            }
            let connection = Connection(fd: fd)
            lock.withLock {
                accepted += 1
                connections.append(connection)
            }
            let thread = Thread { [self] in serve(connection) }
            thread.start()
        }
    }

    private func serve(_ connection: Connection) {
        var buffer = Data()
        while !connection.closed {
            guard let request = readRequest(connection.fd, buffer: &buffer) else { break }
            lock.withLock { requests.append(request) }
            handler(request, connection)
        }
        connection.release()
    }

    private func readRequest(_ fd: Int32, buffer: inout Data) -> Request? {
        let separator = Data("\r\n\r\n".utf8)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while buffer.range(of: separator) == nil {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            buffer.append(chunk, count: n)
        }
        let headEnd = buffer.range(of: separator)!
        let head = String(decoding: buffer[buffer.startIndex..<headEnd.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        buffer.removeSubrange(buffer.startIndex..<headEnd.upperBound)
        while buffer.count < length {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            buffer.append(chunk, count: n)
        }
        let body = buffer.prefix(length)
        buffer.removeFirst(length)
        return Request(method: requestLine.count > 0 ? String(requestLine[0]) : "", path: requestLine.count > 1 ? String(requestLine[1]) : "",
                       headers: headers, body: Data(body))
    }
}

/// A loopback port free right now (bound to port 0, then closed), for a program under test that
/// must be told its port before it starts.
public func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
