import CCurl

/// What the linked libcurl can do, for `slipway doctor` and for choosing transfer options.
public struct CurlVersionInfo: Sendable, Equatable {
    public var version: String
    public var tlsBackend: String?
    public var supportsHTTP2: Bool
    public var supportsTLS: Bool
    public var supportsGzip: Bool
    public var supportsBrotli: Bool
    public var asynchronousDNS: Bool
    public var threadSafeInit: Bool
    public var protocols: [String]

    public var supportsHTTPS: Bool { supportsTLS && protocols.contains("https") }
}

/// Process-wide libcurl set-up. `curl_global_init` must run once before any handle exists and
/// before threads use libcurl (it is only thread-safe when libcurl says so), so it is done here,
/// lazily and exactly once.
public enum CurlRuntime {
    private static let initialized: Bool = {
        curl_global_init(slw_CURL_GLOBAL_ALL()) == CURLE_OK
    }()

    /// Initializes libcurl if it has not been yet; returns false when libcurl refused.
    @discardableResult
    public static func ensureInitialized() -> Bool { initialized }

    public static func versionInfo() -> CurlVersionInfo {
        guard let raw = slw_curl_version_info() else {
            return CurlVersionInfo(version: "unknown", tlsBackend: nil, supportsHTTP2: false, supportsTLS: false,
                                   supportsGzip: false, supportsBrotli: false, asynchronousDNS: false,
                                   threadSafeInit: false, protocols: [])
        }
        let info = raw.pointee
        let features = info.features
        func has(_ bit: Int32) -> Bool { bit != 0 && (features & bit) != 0 }
        var protocols: [String] = []
        if var cursor = info.protocols {
            while let name = cursor.pointee {
                protocols.append(String(cString: name))
                cursor = cursor.advanced(by: 1)
            }
        }
        return CurlVersionInfo(
            version: info.version.map { String(cString: $0) } ?? "unknown",
            tlsBackend: info.ssl_version.map { String(cString: $0) },
            supportsHTTP2: has(slw_CURL_VERSION_HTTP2()),
            supportsTLS: has(slw_CURL_VERSION_SSL()),
            supportsGzip: has(slw_CURL_VERSION_LIBZ()),
            supportsBrotli: has(slw_CURL_VERSION_BROTLI()),
            asynchronousDNS: has(slw_CURL_VERSION_ASYNCHDNS()),
            threadSafeInit: has(slw_CURL_VERSION_THREADSAFE()),
            protocols: protocols
        )
    }
}
