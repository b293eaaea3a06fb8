import Testing
@testable import SlipwayHTTP

@Suite("libcurl runtime")
struct CurlRuntimeTests {
    @Test("libcurl initializes and can speak HTTPS")
    func versionInfo() {
        #expect(CurlRuntime.ensureInitialized())
        let info = CurlRuntime.versionInfo()
        #expect(!info.version.isEmpty && info.version != "unknown")
        #expect(info.supportsHTTPS)
        #expect(info.protocols.contains("http"))
        #expect(info.tlsBackend != nil)
    }
}
