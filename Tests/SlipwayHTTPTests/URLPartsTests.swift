import Foundation
import Testing
@testable import SlipwayHTTP

/// The byte-level reading of plain URLs must give exactly what Foundation gives, or nothing.
@Suite("URL parts")
struct URLPartsTests {
    static func foundation(_ url: String) -> URLParts? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return nil }
        return URLParts(scheme: scheme, host: host, port: components.port)
    }

    static let corpus = [
        "https://api.bitbucket.org/2.0/repositories/acme/api/refs/branches?pagelen=100&fields=values.name,values.target.hash,next",
        "http://127.0.0.1:8080/2.0/user", "http://localhost/x", "https://h", "https://h/", "https://h?q", "https://h#f", "https://h:443",
        "https://h:0080/", "https://h:65535/", "https://h:65536/", "https://h:123456/", "https://h:/", "https://h:x/", "http://a..b/",
        "http://.a/", "http://a./", "http://-a-/", "http://a_b/", "http://A.example/", "HTTPS://a.example/", "https://user:pw@a.example/",
        "https://a.example@evil.example/", "http://[::1]:8080/x", "https://a.example/x y", "https://a.example/%2F%zz", "https://a.example/%2f",
        "https://a.example/%", "https://a.example/a#b#c", "https://a.example/{x}", "https://a.example/\\x", "https://a.example/é",
        "https://a.example/a|b", "https://a.example/?a=[1]", "https://a.example/\"", "https://a.example/<>", "https://a.example/^`",
        "https://a.example/~user/(x)!$&'*+,;=:@/?", "ftp://a.example/", "https:a.example", "https:/a.example", "https:///x", "",
        "https://a.example\t/", "https://a.example/\r\n", "https://xn--bcher-kva.example/", "https://1.2.3.4:5/", "https://999/",
        "https://a.example%2eevil/", "https://a.example:80@b/", "http://127.0.0.1.nip.io/", "https://a.example/?next=https://b.example/#x",
    ]

    @Test("every URL of the corpus reads as Foundation reads it")
    func agreesWithFoundation() {
        for url in Self.corpus {
            #expect(URLParts.parse(url) == Self.foundation(url), "\(url)")
            if let plain = URLParts.plain(url) { #expect(plain == Self.foundation(url), "the fast path disagrees on \(url)") }
        }
    }

    @Test("random URLs built from every printable byte read as Foundation reads them")
    func randomAgreement() {
        var generator = SystemRandomNumberGenerator()
        let prefixes = ["https://", "http://", "https://a.example", "http://127.0.0.1:", "https://x.y/"]
        let alphabet = (32...126).map { Character(Unicode.Scalar(UInt8($0))) } + ["é", "\u{202E}"]
        for _ in 0..<5000 {
            let tail = String((0..<Int.random(in: 0...16, using: &generator)).map { _ in
                Bool.random(using: &generator) ? "abc.9/:?#%".randomElement(using: &generator)! : alphabet.randomElement(using: &generator)!
            })
            let url = prefixes.randomElement(using: &generator)! + tail
            #expect(URLParts.parse(url) == Self.foundation(url), "\(url)")
        }
    }

    @Test("the common API shapes take the fast path")
    func fastPath() {
        #expect(URLParts.plain("https://api.bitbucket.org/2.0/repositories/acme?pagelen=100") == URLParts(scheme: "https", host: "api.bitbucket.org", port: nil))
        #expect(URLParts.plain("http://127.0.0.1:49152/2.0/user") == URLParts(scheme: "http", host: "127.0.0.1", port: 49152))
        #expect(URLParts.plain("https://user@a.example/") == nil)
        #expect(URLParts.plain("http://[::1]/") == nil)
    }
}
