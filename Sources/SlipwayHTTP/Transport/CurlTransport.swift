import CCurl
import Foundation

/// Sends one request and returns one response: no retries, no redirects, no budgets (the
/// client adds those). Tests substitute scripted transports.
public protocol HTTPTransport: Sendable {
    func perform(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// The libcurl transport: one multi handle driven by its own thread (`curl_multi_poll` woken by
/// `curl_multi_wakeup`), so connections, DNS and TLS sessions are shared and HTTP/2 multiplexes.
/// Cancelling the awaiting task removes its transfer at once.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    public let options: TransferOptions
    private let multi: UnsafeMutableRawPointer
    private let caBundle: String?
    private let caDirectory: String?

    // Shared with the transfer thread, guarded by `lock`.
    private let lock = NSLock()
    private var incoming: [Transfer] = []
    private var cancelled: [UInt64] = []
    private var stopping = false
    private var nextID: UInt64 = 0
    private var connectionsOpened = 0

    // Owned by the transfer thread alone.
    private var active: [UInt: Transfer] = [:]
    /// Finished easy handles, reset and kept for the next transfers: a handle costs a few
    /// kilobytes to set up and tear down, and a sync sends thousands of requests.
    private var idleHandles: [UnsafeMutableRawPointer] = []
    private static let maxIdleHandles = 16

    public init(options: TransferOptions = TransferOptions()) {
        CurlRuntime.ensureInitialized()
        self.options = options
        let ca = TransferOptions.caFromEnvironment()
        caBundle = options.caBundle ?? ca.file
        caDirectory = options.caDirectory ?? ca.directory
        multi = curl_multi_init()
        _ = slw_multi_setopt_long(multi, CURLMOPT_PIPELINING, slw_CURLPIPE_MULTIPLEX())
        if options.maxHostConnections > 0 {
            _ = slw_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, options.maxHostConnections)
        }
        let thread = Thread { [self] in self.run() }
        thread.name = "slipway-curl"
        thread.start()
    }

    /// New connections opened so far (a keep-alive check for tests and benchmarks).
    public var openedConnections: Int {
        lock.lock(); defer { lock.unlock() }
        return connectionsOpened
    }

    /// Stops the transfer thread; transfers still running fail with cancellation.
    public func shutdown() {
        lock.lock()
        stopping = true
        lock.unlock()
        curl_multi_wakeup(multi)
    }

    public func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        let (scheme, host) = try URLPolicy.check(request.url, allowLoopbackHTTP: options.allowLoopbackHTTP)
        let id: UInt64 = {
            lock.lock(); defer { lock.unlock() }
            nextID += 1
            return nextID
        }()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                lock.lock()
                if Task.isCancelled || stopping {
                    lock.unlock()
                    continuation.resume(throwing: CancellationError())
                    return
                }
                incoming.append(Transfer(id: id, request: request, host: host, plainLoopback: scheme == "http", continuation: continuation,
                                         maxBody: options.maxBodyBytes))
                lock.unlock()
                curl_multi_wakeup(multi)
            }
        } onCancel: {
            lock.lock()
            cancelled.append(id)
            lock.unlock()
            curl_multi_wakeup(multi)
        }
    }

    // MARK: - The transfer thread

    private func run() {
        while true {
            lock.lock()
            let adds = incoming
            incoming.removeAll()
            let cancels = Set(cancelled)
            cancelled.removeAll()
            let stop = stopping
            lock.unlock()

            for transfer in adds {
                if cancels.contains(transfer.id) {
                    transfer.finish(.failure(CancellationError()))
                } else if let easy = configure(transfer) {
                    active[UInt(bitPattern: easy)] = transfer
                    curl_multi_add_handle(multi, easy)
                }
            }
            if !cancels.isEmpty {
                for (key, transfer) in active where cancels.contains(transfer.id) {
                    remove(key: key, transfer: transfer, result: .failure(CancellationError()))
                }
            }
            if stop {
                for (key, transfer) in active { remove(key: key, transfer: transfer, result: .failure(CancellationError())) }
                break
            }

            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let key = UInt(bitPattern: easy)
                guard let transfer = active[key] else { continue }
                let result = complete(transfer, easy: easy, code: message.pointee.data.result)
                remove(key: key, transfer: transfer, result: result)
            }
            var descriptors: Int32 = 0
            curl_multi_poll(multi, nil, 0, 1000, &descriptors)
        }
        for easy in idleHandles { curl_easy_cleanup(easy) }
        idleHandles.removeAll()
        curl_multi_cleanup(multi)
    }

    private func remove(key: UInt, transfer: Transfer, result: Result<HTTPResponse, any Error>) {
        if let easy = transfer.easy {
            curl_multi_remove_handle(multi, easy)
            transfer.easy = nil
            // Reset to libcurl's defaults (callbacks, credentials and all); the connection
            // cache belongs to the multi handle, so nothing of this request stays behind.
            if idleHandles.count < Self.maxIdleHandles {
                curl_easy_reset(easy)
                idleHandles.append(easy)
            } else {
                curl_easy_cleanup(easy)
            }
        }
        active[key] = nil
        transfer.finish(result)
    }

    /// Builds the easy handle for a transfer; on failure the transfer is finished and nil returned.
    private func configure(_ transfer: Transfer) -> UnsafeMutableRawPointer? {
        guard let easy = idleHandles.popLast() ?? curl_easy_init() else {
            transfer.finish(.failure(HTTPError.network(.other, host: "", detail: "libcurl could not allocate a transfer")))
            return nil
        }
        transfer.easy = easy
        let request = transfer.request
        let loopbackHTTP = transfer.plainLoopback
        let opaque = Unmanaged.passUnretained(transfer).toOpaque()

        _ = slw_easy_setopt_string(easy, CURLOPT_URL, request.url)
        _ = slw_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, loopbackHTTP ? "http,https" : "https")
        _ = slw_easy_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "https")
        _ = slw_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        // Plain http goes to loopback only, and never through a proxy from `http_proxy`: a
        // proxy would read the request's credential in clear (https proxies only tunnel TLS).
        if loopbackHTTP { _ = slw_easy_setopt_string(easy, CURLOPT_NOPROXY, "*") }
        _ = slw_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = slw_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        _ = slw_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        if let caBundle { _ = slw_easy_setopt_string(easy, CURLOPT_CAINFO, caBundle) }
        if let caDirectory { _ = slw_easy_setopt_string(easy, CURLOPT_CAPATH, caDirectory) }
        _ = slw_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000))
        _ = slw_easy_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedLimit)
        _ = slw_easy_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, max(1, Int(options.lowSpeedTime.rounded(.up))))
        _ = slw_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, "")
        _ = slw_easy_setopt_off(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(options.maxBodyBytes))
        _ = slw_easy_setopt_string(easy, CURLOPT_USERAGENT, options.userAgent)
        _ = slw_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, slw_CURL_HTTP_VERSION_2TLS())
        // Over TLS, wait for ALPN to say whether HTTP/2 can multiplex rather than open another
        // connection; over plain loopback http there is no such answer, and waiting would stall.
        _ = slw_easy_setopt_long(easy, CURLOPT_PIPEWAIT, loopbackHTTP ? 0 : 1)
        _ = slw_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, transfer.errorBuffer)

        switch request.method {
        case .get: _ = slw_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
        case .head: _ = slw_easy_setopt_long(easy, CURLOPT_NOBODY, 1)
        case .post, .put, .patch, .delete:
            if request.method != .post { _ = slw_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method.rawValue) }
            if let body = request.body {
                _ = slw_easy_setopt_long(easy, CURLOPT_POST, 1)
                _ = slw_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                // COPYPOSTFIELDS copies, so the body's lifetime is libcurl's concern.
                body.withUnsafeBytes { raw in
                    _ = slw_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
                }
            } else if request.method == .post {
                _ = slw_easy_setopt_long(easy, CURLOPT_POST, 1)
                _ = slw_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, 0)
            }
        }

        var list: UnsafeMutablePointer<curl_slist>?
        for field in request.headers {
            list = curl_slist_append(list, "\(field.name): \(field.value)")
        }
        // No "Expect: 100-continue" round trip for request bodies.
        list = curl_slist_append(list, "Expect:")
        transfer.headerList = list
        _ = slw_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)

        _ = slw_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, opaque)
        _ = slw_easy_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION) { pointer, size, count, userdata in
            let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
            let bytes = size * count
            if transfer.body.count + bytes > transfer.maxBody {
                transfer.tooLarge = true
                return 0
            }
            if let pointer { transfer.body.append(UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: bytes) }
            return bytes
        }
        _ = slw_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, opaque)
        _ = slw_easy_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION) { pointer, size, count, userdata in
            let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
            let bytes = size * count
            guard let pointer else { return bytes }
            if let (name, value) = HTTPHeaders.parseLine(UnsafeRawBufferPointer(start: pointer, count: bytes)) {
                transfer.headers.add(name, value)
            } else if bytes >= 5, memcmp(pointer, "HTTP/", 5) == 0 {
                // A new response (after 100 Continue, or an informational one): start over.
                transfer.headers = HTTPHeaders()
            }
            return bytes
        }
        return easy
    }

    private func complete(_ transfer: Transfer, easy: UnsafeMutableRawPointer, code: CURLcode) -> Result<HTTPResponse, any Error> {
        var connects = 0
        _ = slw_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
        lock.lock()
        connectionsOpened += connects
        lock.unlock()
        guard code == CURLE_OK else {
            return .failure(Self.error(for: code, transfer: transfer, host: transfer.host))
        }
        var status = 0
        _ = slw_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: transfer.headers, body: transfer.body,
                                     url: transfer.request.url, reusedConnection: connects == 0))
    }

    private static func error(for code: CURLcode, transfer: Transfer, host: String) -> HTTPError {
        let detail: String = {
            let buffer = String(cString: transfer.errorBuffer.assumingMemoryBound(to: CChar.self))
            return buffer.isEmpty ? String(cString: curl_easy_strerror(code)) : buffer
        }()
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .network(.dns, host: host, detail: detail)
        case CURLE_COULDNT_CONNECT:
            return .network(.connect, host: host, detail: detail)
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout(host: host, detail: detail)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            return .network(.tls, host: host, detail: detail)
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
            return .network(.reset, host: host, detail: detail)
        case CURLE_WRITE_ERROR where transfer.tooLarge, CURLE_FILESIZE_EXCEEDED:
            return .bodyTooLarge(url: transfer.request.url, limit: transfer.maxBody)
        case CURLE_UNSUPPORTED_PROTOCOL:
            return .insecureURL(transfer.request.url)
        case CURLE_URL_MALFORMAT:
            return .invalidURL(transfer.request.url)
        case CURLE_BAD_CONTENT_ENCODING, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_WEIRD_SERVER_REPLY:
            return .network(.protocolError, host: host, detail: detail)
        default:
            return .network(.other, host: host, detail: detail)
        }
    }
}

/// One request in flight: its easy handle, what has arrived, and who waits for it.
final class Transfer: @unchecked Sendable {
    // Touched only by the transfer thread after creation.
    let id: UInt64
    let request: HTTPRequest
    /// The URL's host, and whether it is plain http (allowed on loopback only), as the policy
    /// check found them before the transfer was queued.
    let host: String
    let plainLoopback: Bool
    let maxBody: Int
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var body = Data()
    var headers = HTTPHeaders()
    var tooLarge = false
    let errorBuffer: UnsafeMutableRawPointer
    private var continuation: CheckedContinuation<HTTPResponse, any Error>?

    init(id: UInt64, request: HTTPRequest, host: String, plainLoopback: Bool, continuation: CheckedContinuation<HTTPResponse, any Error>,
         maxBody: Int) {
        self.id = id
        self.request = request
        self.host = host
        self.plainLoopback = plainLoopback
        self.continuation = continuation
        self.maxBody = maxBody
        errorBuffer = UnsafeMutableRawPointer.allocate(byteCount: Int(CURL_ERROR_SIZE) + 1, alignment: 1)
        errorBuffer.storeBytes(of: 0, as: UInt8.self)
    }

    /// Resumes the waiter exactly once and frees the handle (unless the transport took it back).
    func finish(_ result: Result<HTTPResponse, any Error>) {
        continuation?.resume(with: result)
        continuation = nil
        if let easy { curl_easy_cleanup(easy) }
        easy = nil
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
    }

    deinit { errorBuffer.deallocate() }
}
