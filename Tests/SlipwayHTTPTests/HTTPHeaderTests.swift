import Foundation
import Testing
@testable import SlipwayHTTP

@Suite("HTTP headers")
struct HTTPHeaderTests {
    static func parse(_ line: String) -> (String, String)? {
        var line = line
        return line.withUTF8 { HTTPHeaders.parseLine(UnsafeRawBufferPointer($0)) }
    }

    @Test("a header line as libcurl hands it over: trimmed name and value, CRLF dropped; status and blank lines are not fields")
    func lines() {
        #expect(Self.parse("X-RateLimit-Remaining: 42\r\n")! == ("X-RateLimit-Remaining", "42"))
        #expect(Self.parse("ETag:\t\"abc\"  \r\n")! == ("ETag", "\"abc\""))
        #expect(Self.parse("Location: http://h:8080/a?b=c:d\r\n")! == ("Location", "http://h:8080/a?b=c:d"))
        #expect(Self.parse("Empty:\r\n")! == ("Empty", ""))
        #expect(Self.parse("HTTP/1.1 200 OK\r\n") == nil)
        #expect(Self.parse("HTTP/1.1 200 Note: odd reason\r\n") == nil)
        #expect(Self.parse("\r\n") == nil)
        #expect(Self.parse("no colon here\r\n") == nil)
    }

    @Test("names compare without ASCII case, and only ASCII letters fold")
    func names() {
        var headers = HTTPHeaders([("Retry-After", "30"), ("x-ratelimit-reset", "99"), ("X-RATELIMIT-RESET", "100")])
        #expect(headers["retry-after"] == "30")
        #expect(headers["RETRY-AFTER"] == "30")
        #expect(headers.values("X-RateLimit-Reset") == ["99", "100"])
        #expect(headers["Retry-Afte"] == nil)
        #expect(headers["Retry_After"] == nil)
        // '@' (0x40) and '`' (0x60) differ only in the case bit but are not letters.
        #expect(HTTPHeaders.sameName("a@b", "a`b") == false)
        #expect(HTTPHeaders.sameName("[", "{") == false)
        headers.remove("x-RateLimit-reset")
        #expect(headers.fields.map(\.name) == ["Retry-After"])
    }
}
