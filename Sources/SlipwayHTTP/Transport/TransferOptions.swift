import Foundation

/// How every transfer behaves. The defaults are the safe ones; tests shorten the timeouts.
public struct TransferOptions: Sendable, Equatable {
    /// DNS + TCP + TLS must finish within this.
    public var connectTimeout: TimeInterval = 10
    /// A transfer slower than `lowSpeedLimit` bytes/s for `lowSpeedTime` seconds is aborted —
    /// instead of one total timeout, which would also kill large, healthy downloads.
    public var lowSpeedLimit: Int = 1
    public var lowSpeedTime: TimeInterval = 30
    /// Response bodies larger than this are refused (also guards against decompression bombs).
    public var maxBodyBytes: Int = 32 * 1024 * 1024
    public var userAgent: String = SlipwayVersion.userAgent
    /// Plain http is allowed only to loopback addresses (the sandbox, tests).
    public var allowLoopbackHTTP: Bool = true
    /// Connections per host at once; more transfers queue (0 = unlimited).
    public var maxHostConnections: Int = 16
    /// CA bundle; nil reads `SSL_CERT_FILE` / `CURL_CA_BUNDLE` from the environment, else libcurl's default.
    public var caBundle: String?
    public var caDirectory: String?

    public init() {}

    /// The CA settings from the environment variables OpenSSL and curl honour.
    public static func caFromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> (file: String?, directory: String?) {
        let file = [environment["SSL_CERT_FILE"], environment["CURL_CA_BUNDLE"]].compactMap { $0 }.first { !$0.isEmpty }
        let dir = environment["SSL_CERT_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        return (file, dir)
    }
}
