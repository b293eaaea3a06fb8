import Foundation
import Testing
import SlipwayTestSupport
@testable import SlipwayHTTP

@Suite("Rate limits and concurrency")
struct RateLimitTests {
    let key = BudgetKey(host: "127.0.0.1", credential: "account:1", kind: .rest)

    func client(_ transport: any HTTPTransport, clock: any SlipwayClock, ledger: InMemoryBudgetLedger = InMemoryBudgetLedger(),
                maxInFlight: Int = 4, hourly: Int = 1000) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.limits = { _ in BudgetLimits(hourlyAllowance: hourly, fraction: 0.8, maxInFlight: maxInFlight) }
        return HTTPClient(transport: transport, ledger: ledger, clock: clock, random: SeededRandom(seed: 9), configuration: configuration)
    }

    @Test("429 with Retry-After in seconds pauses the whole credential; nothing is sent during the pause")
    func retryAfterSeconds() async throws {
        let server = try LoopbackServer { _, connection in
            connection.respond(429, headers: ["Retry-After": "120", "Content-Type": "text/plain"], text: "Rate limit for this resource has been exceeded")
        }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let clock = VirtualClock()
        let ledger = InMemoryBudgetLedger()
        let http = client(transport, clock: clock, ledger: ledger)
        let start = clock.now
        // A deadline shorter than the pause: the client stops and says when it may resume.
        await #expect(throws: HTTPError.rateLimited(host: "127.0.0.1", resumeAt: start.addingTimeInterval(120))) {
            _ = try await http.send(HTTPRequest(url: server.baseURL + "/a", budget: key), deadline: start.addingTimeInterval(30))
        }
        #expect(server.receivedRequests.count == 1)
        #expect(ledger.bucket(key)?.pausedUntil == start.addingTimeInterval(120))
        // Another request on the same credential (another path) sends nothing while paused.
        await #expect(throws: HTTPError.self) {
            _ = try await http.send(HTTPRequest(url: server.baseURL + "/b", budget: key), deadline: start.addingTimeInterval(60))
        }
        #expect(server.receivedRequests.count == 1)
        // A different credential is not paused.
        let other = BudgetKey(host: "127.0.0.1", credential: "account:2", kind: .rest)
        await #expect(throws: HTTPError.self) {
            _ = try await http.send(HTTPRequest(url: server.baseURL + "/c", budget: other), deadline: start)
        }
        #expect(server.receivedRequests.count == 2)
    }

    @Test("429 with Retry-After as an HTTP date")
    func retryAfterDate() async throws {
        let clock = VirtualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        let resume = clock.now.addingTimeInterval(300)
        let transport = ScriptedTransport([.respond(429, headers: [("Retry-After", HTTPDate.format(resume))])])
        let ledger = InMemoryBudgetLedger()
        await #expect(throws: HTTPError.rateLimited(host: "api.example.com", resumeAt: resume)) {
            _ = try await client(transport, clock: clock, ledger: ledger)
                .send(HTTPRequest(url: "https://api.example.com/x", budget: key), deadline: clock.now.addingTimeInterval(10))
        }
        #expect(ledger.bucket(key)?.pausedUntil == resume)
    }

    @Test("without a deadline the request waits out the pause on the clock, then succeeds")
    func waitsOutPause() async throws {
        let clock = VirtualClock()
        let transport = ScriptedTransport([.respond(429, headers: []), .respond(200, headers: [])])
        let http = client(transport, clock: clock)
        let start = clock.now
        let task = Task { try await http.send(HTTPRequest(url: "https://api.example.com/x", budget: key)) }
        while clock.sleepers == 0 { await Task.yield() }
        let wake = try #require(clock.nextDeadline)
        let pause = wake.timeIntervalSince(start)
        #expect(pause >= 60 && pause <= 90)
        #expect(transport.sent == 1)
        clock.advance(by: pause - 1)
        #expect(transport.sent == 1)
        clock.advance(by: 1)
        #expect(try await task.value.status == 200)
        #expect(transport.sent == 2)
    }

    @Test("Retry-After: 4 means four seconds: the stated wait is honoured and the bucket is not drained")
    func statedWaitHonoured() async throws {
        let clock = VirtualClock()
        let transport = ScriptedTransport([.respond(429, headers: [("Retry-After", "4")]), .respond(200, headers: [])])
        let http = client(transport, clock: clock)
        let start = clock.now
        let task = Task { try await http.send(HTTPRequest(url: "https://api.example.com/x", budget: key)) }
        while clock.sleepers == 0 { await Task.yield() }
        #expect(clock.nextDeadline == start.addingTimeInterval(4))
        clock.advance(by: 4)
        // No further wait for a refill: the second attempt goes at once.
        for _ in 0..<1000 where transport.sent < 2 { await Task.yield() }
        #expect(transport.sent == 2, "a wait beyond the provider's 4 s: next wake \(String(describing: clock.nextDeadline))")
        #expect(try await task.value.status == 200)
        #expect(clock.now.timeIntervalSince(start) == 4)
    }

    @Test("a storm of 429s doubles the pause each time, up to 15 minutes")
    func storm() async throws {
        let clock = VirtualClock()
        let transport = ScriptedTransport(Array(repeating: .respond(429, headers: []), count: 6))
        let ledger = InMemoryBudgetLedger()
        let http = client(transport, clock: clock, ledger: ledger)
        let task = Task { try await http.send(HTTPRequest(url: "https://api.example.com/x", budget: key)) }
        var pauses: [TimeInterval] = []
        for _ in 0..<5 {
            while clock.sleepers == 0 { await Task.yield() }
            let before = clock.now
            pauses.append(clock.nextDeadline!.timeIntervalSince(before))
            clock.advanceToNextDeadline()
        }
        await #expect(throws: HTTPError.self) { _ = try await task.value }
        #expect(transport.sent == 6)
        for (i, pause) in pauses.enumerated() {
            let floor = min(900, 60 * pow(2, Double(i)))
            #expect(pause >= floor && pause <= min(900, floor * 1.5), "pause \(i) was \(pause)")
        }
        #expect(ledger.bucket(key)?.consecutiveRateLimits == 6)
    }

    @Test("503s are retried with full-jitter backoff on the virtual clock; attempts are bounded")
    func backoffOnVirtualClock() async throws {
        let clock = VirtualClock()
        let transport = ScriptedTransport([.respond(503, headers: []), .respond(502, headers: []), .respond(200, headers: [])])
        let http = client(transport, clock: clock)
        let task = Task { try await http.send(HTTPRequest(url: "https://api.example.com/x", budget: key)) }
        let backoff = Backoff()
        for retry in 0..<2 {
            while clock.sleepers == 0 { await Task.yield() }
            let delay = clock.nextDeadline!.timeIntervalSince(clock.now)
            #expect(delay >= 0 && delay < backoff.ceiling(retry: retry))
            clock.advanceToNextDeadline()
        }
        #expect(try await task.value.status == 200)
        #expect(transport.sent == 3)
    }

    @Test("the bucket refuses to overspend: at the budget, requests wait for refill")
    func budgetWait() async throws {
        let clock = VirtualClock()
        let transport = ScriptedTransport(Array(repeating: .respond(200, headers: []), count: 20))
        // 10 an hour × 0.8 = 8 tokens; background keeps min(5, 5 %) = 0.4 in reserve.
        let http = client(transport, clock: clock, hourly: 10)
        for _ in 0..<7 { _ = try await http.send(HTTPRequest(url: "https://api.example.com/x", budget: key)) }
        let task = Task { try await http.send(HTTPRequest(url: "https://api.example.com/x", budget: key)) }
        while clock.sleepers == 0 { await Task.yield() }
        #expect(transport.sent == 7)
        // An interactive request may use the reserve at once.
        _ = try await http.send(HTTPRequest(url: "https://api.example.com/y", budget: key, lane: .interactive))
        #expect(transport.sent == 8)
        clock.advanceToNextDeadline()
        while transport.sent < 9 { clock.advanceToNextDeadline(); await Task.yield() }
        #expect(try await task.value.status == 200)
    }

    @Test("at most max_in_flight requests per credential reach the server at once")
    func inFlightCapAndLanes() async throws {
        let gate = Gate()
        let server = try LoopbackServer { request, connection in
            gate.enter()
            gate.waitUntilOpen(request.path)
            connection.respond(200, text: request.path)
            gate.leave()
        }
        defer { server.stop() }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let http = client(transport, clock: SystemClock(), maxInFlight: 2)
        let order = OrderLog()
        var tasks: [Task<Void, any Error>] = []
        for i in 0..<6 {
            tasks.append(Task {
                let r = try await http.send(HTTPRequest(url: server.baseURL + "/bg\(i)", budget: key))
                order.append(r.text)
            })
            // Let the first two take the slots before the rest queue.
            if i == 1 { #expect(await eventually { gate.peak >= 2 }) }
        }
        #expect(await eventually { http.inFlightWaiting(credential: key.credential) >= 4 })
        tasks.append(Task {
            let r = try await http.send(HTTPRequest(url: server.baseURL + "/interactive", budget: key, lane: .interactive))
            order.append(r.text)
        })
        #expect(await eventually { http.inFlightWaiting(credential: key.credential) >= 5 })
        gate.open()
        for task in tasks { try await task.value }
        #expect(gate.peak == 2)
        // Which queued request reaches the server first depends on connection timing; the
        // order in which slots are granted is pinned down by InFlightLimiterTests.
        #expect(order.items.count == 7)
    }
}

@Suite("In-flight limiter")
struct InFlightLimiterTests {
    @Test("waiters are woken interactive first, then in arrival order")
    func laneOrder() async throws {
        let limiter = InFlightLimiter()
        try await limiter.acquire("c", limit: 1, lane: .background)
        let log = OrderLog()
        var tasks: [Task<Void, any Error>] = []
        for (name, lane) in [("bg-a", RequestLane.background), ("bg-b", .background), ("int-c", .interactive), ("int-d", .interactive)] {
            tasks.append(Task {
                try await limiter.acquire("c", limit: 1, lane: lane)
                log.append(name)
                limiter.release("c", limit: 1)
            })
            while limiter.waiting("c") < tasks.count { await Task.yield() }
        }
        limiter.release("c", limit: 1)
        for task in tasks { try await task.value }
        #expect(log.items == ["int-c", "int-d", "bg-a", "bg-b"])
        #expect(limiter.inFlight("c") == 0)
    }

    @Test("a cancelled waiter leaves the queue")
    func cancelledWaiter() async throws {
        let limiter = InFlightLimiter()
        try await limiter.acquire("c", limit: 1, lane: .background)
        let waiter = Task { try await limiter.acquire("c", limit: 1, lane: .background) }
        while limiter.waiting("c") == 0 { await Task.yield() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(limiter.waiting("c") == 0)
        limiter.release("c", limit: 1)
        #expect(limiter.inFlight("c") == 0)
    }
}

/// A transport that answers from a script and counts what was sent.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    enum Step {
        case respond(Int, headers: [(String, String)])
        case fail(HTTPError)
    }

    private let lock = NSLock()
    private var steps: [Step]
    private var count = 0

    init(_ steps: [Step]) { self.steps = steps }

    var sent: Int { lock.withLock { count } }

    func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        let step: Step = try lock.withLock {
            count += 1
            guard !steps.isEmpty else { throw HTTPError.network(.other, host: "script", detail: "script exhausted") }
            return steps.removeFirst()
        }
        switch step {
        case let .respond(status, headers):
            return HTTPResponse(status: status, headers: HTTPHeaders(headers), body: Data(), url: request.url)
        case let .fail(error):
            throw error
        }
    }
}

/// Holds server handlers until opened; remembers how many were inside at once.
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false
    private var inside = 0
    private var maxInside = 0

    var peak: Int { condition.withLock { maxInside } }

    func enter() { condition.withLock { inside += 1; maxInside = max(maxInside, inside) } }
    func leave() { condition.withLock { inside -= 1 } }

    func waitUntilOpen(_ path: String) {
        condition.lock()
        while !isOpen { condition.wait() }
        condition.unlock()
    }

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }
}

final class OrderLog: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String] = []

    var items: [String] { lock.withLock { values } }
    func append(_ value: String) { lock.withLock { values.append(value) } }
}

/// Budgets with two windows (an hour and a minute), on the virtual clock.
@Suite("Two-window budgets", .timeLimit(.minutes(1)))
struct TwoWindowBudgetTests {
    @Test("a bucket with a minute window gives its minute's worth at once, then one per refill; the hour still bounds the total")
    func bucket() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var bucket = TokenBucket(hourlyAllowance: 100, perMinute: 10, fraction: 1, now: start)
        for _ in 0..<10 { #expect(bucket.take(now: start) == nil) }
        // The eleventh waits for the minute window: 6 s for one token at 10 a minute.
        let wait = bucket.take(now: start)
        #expect(wait.map { abs($0 - 6) < 0.001 } == true, "\(String(describing: wait))")
        #expect(bucket.take(now: start.addingTimeInterval(6)) == nil)
        // Far later the minute is full again, but the hour has 100 − 11 + its refill left; drain it.
        var now = start.addingTimeInterval(60)
        var taken = 11
        while bucket.take(now: now) == nil { taken += 1; if taken % 10 == 0 { now = now.addingTimeInterval(60) } }
        #expect(taken < 130, "the hour did not bound the total: \(taken)")
        // Now the hour is what makes it wait (longer than a minute's refill).
        let hourWait = bucket.take(now: now)
        #expect((hourWait ?? 0) > 6)
    }

    /// Answers 200 at once and counts what it was sent (no sockets: the test is about budgets).
    final class OKTransport: HTTPTransport, @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        var sent: Int { lock.withLock { count } }
        func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
            lock.withLock { count += 1 }
            return HTTPResponse(status: 200, body: Data("ok".utf8), url: request.url)
        }
    }

    @Test("the client spends from both windows: of 25 requests at 10 a minute, ten go at once, then one every 6 s")
    func client() async throws {
        let transport = OKTransport()
        // Every wait moves this clock forward at once and is recorded: the waits are the budget's.
        let clock = ImmediateClock()
        var configuration = HTTPClient.Configuration()
        configuration.limits = { _ in BudgetLimits(hourlyAllowance: 1000, perMinute: 10, fraction: 1, maxInFlight: 1) }
        let http = HTTPClient(transport: transport, ledger: InMemoryBudgetLedger(), clock: clock, configuration: configuration)
        let key = BudgetKey(host: "api.example.com", credential: "account:1", kind: .rest)
        let start = clock.now
        for index in 0..<25 {
            _ = try await http.send(HTTPRequest(url: "https://api.example.com/r\(index)", budget: key, lane: .interactive))
            if index == 9 { #expect(clock.now == start, "the minute's ten did not go at once") }
        }
        #expect(transport.sent == 25)
        let waits = clock.sleeps.filter { $0 > 0 }
        #expect(waits.count == 15 && waits.allSatisfy { abs($0 - 6) < 0.001 }, "\(waits)")
        #expect(abs(clock.now.timeIntervalSince(start) - 90) < 0.01, "\(clock.now.timeIntervalSince(start))")
    }
}
