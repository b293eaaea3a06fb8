import Foundation
import Testing
import SlipwayTestSupport
@testable import SlipwayHTTP

/// Conditional requests: the client keeps each answer's validators and asks again with them; a
/// 304 is "unchanged", and costs a token only where the provider charges it.
@Suite("Conditional requests")
struct ConditionalRequestTests {
    /// Answers with an ETag and a Last-Modified; 304 when the request carries the current ETag.
    func server() throws -> LoopbackServer {
        try LoopbackServer { request, connection in
            if request.headers["if-none-match"] == "\"v1\"" {
                connection.respond(304, headers: ["ETag": "\"v1\""], body: Data(), reason: "Not Modified")
            } else {
                connection.respond(200, headers: ["ETag": "\"v1\"", "Last-Modified": "Tue, 01 Dec 2026 10:00:00 GMT",
                                                  "Content-Type": "application/json"], text: "[1,2,3]")
            }
        }
    }

    func tokens(_ ledger: InMemoryBudgetLedger, _ key: BudgetKey) -> Double { ledger.bucket(key)?.tokens ?? -1 }

    @Test("the second ask carries If-None-Match and If-Modified-Since; a free 304 gives its token back")
    func freeUnchanged() async throws {
        let server = try server()
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let ledger = InMemoryBudgetLedger()
        let clock = VirtualClock()
        var configuration = HTTPClient.Configuration()
        configuration.limits = { _ in BudgetLimits(hourlyAllowance: 1000, fraction: 1, maxInFlight: 4) }
        let http = HTTPClient(transport: transport, ledger: ledger, clock: clock, configuration: configuration)
        let key = BudgetKey(host: "127.0.0.1:\(server.port)", credential: "account:1", kind: .rest)
        var request = HTTPRequest(url: server.baseURL + "/repos?sort=pushed", budget: key)
        request.conditional = ConditionalRequest(key: "account:1 repos acme", unchangedIsFree: true)

        let first = try await http.send(request)
        #expect(first.status == 200 && first.text == "[1,2,3]")
        let afterFirst = tokens(ledger, key)
        #expect(afterFirst == 999)
        let second = try await http.send(request)
        #expect(second.status == 304, "unchanged comes back as a 304")
        #expect(tokens(ledger, key) == afterFirst, "a free 304 was charged")
        let sent = server.receivedRequests
        #expect(sent.count == 2)
        #expect(sent[0].headers["if-none-match"] == nil)
        #expect(sent[1].headers["if-none-match"] == "\"v1\"" && sent[1].headers["if-modified-since"] == "Tue, 01 Dec 2026 10:00:00 GMT")
    }

    @Test("where the provider charges a 304 it is charged; requests without a key are never conditional")
    func chargedUnchanged() async throws {
        let server = try server()
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let ledger = InMemoryBudgetLedger()
        var configuration = HTTPClient.Configuration()
        configuration.limits = { _ in BudgetLimits(hourlyAllowance: 1000, fraction: 1, maxInFlight: 4) }
        let http = HTTPClient(transport: transport, ledger: ledger, clock: VirtualClock(), configuration: configuration)
        let key = BudgetKey(host: "127.0.0.1:\(server.port)", credential: "account:2", kind: .rest)
        var request = HTTPRequest(url: server.baseURL + "/x", budget: key)
        request.conditional = ConditionalRequest(key: "x", unchangedIsFree: false)
        _ = try await http.send(request)
        #expect(try await http.send(request).status == 304)
        #expect(tokens(ledger, key) == 998)
        let plain = HTTPRequest(url: server.baseURL + "/x", budget: key)
        #expect(try await http.send(plain).status == 200)
        #expect(server.receivedRequests.last?.headers["if-none-match"] == nil)
    }
}
