import Foundation
import Logging
import Testing
@testable import SlipwayCore

@Suite("Logging")
struct LoggingTests {
    let tmp = TemporaryDirectory()

    @Test("lines go to a 0600 file, one event per line, control characters escaped")
    func oneLinePerEvent() throws {
        let file = try LogFile(path: tmp.file("logs/slipway.log"))
        let logger = Logger(label: "test") { FileLogHandler(label: $0, file: file) }
        logger.info("branch \u{1B}[31mevil\r\nFORGED line", metadata: ["repo": "acme/api"])
        let text = try String(contentsOfFile: file.path, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 1)
        #expect(text.contains("INFO test branch \\u{1b}[31mevil\\r\\nFORGED line repo=acme/api"))
        #expect(mode(of: file.path) == 0o600)
        #expect(mode(of: tmp.file("logs")) == 0o700)
    }

    @Test("the file never grows past its cap; the previous one is kept as .1")
    func rotation() throws {
        let file = try LogFile(path: tmp.file("slipway.log"), maxBytes: 1000)
        for i in 0..<100 { file.write("line \(i) " + String(repeating: "x", count: 40)) }
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! UInt64
        let old = try FileManager.default.attributesOfItem(atPath: file.path + ".1")[.size] as! UInt64
        #expect(size <= 1000)
        #expect(old <= 1000)
        #expect(try String(contentsOfFile: file.path, encoding: .utf8).contains("line 99"))
    }

    @Test("levels below the handler's are dropped")
    func levels() throws {
        let file = try LogFile(path: tmp.file("slipway.log"))
        let logger = Logger(label: "test") { FileLogHandler(label: $0, file: file, level: .warning) }
        logger.info("quiet")
        logger.error("loud")
        let text = try String(contentsOfFile: file.path, encoding: .utf8)
        #expect(!text.contains("quiet"))
        #expect(text.contains("ERROR test loud"))
    }
}
