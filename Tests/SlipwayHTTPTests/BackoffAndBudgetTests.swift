import Foundation
import Testing
@testable import SlipwayHTTP

@Suite("Backoff, pauses and budgets")
struct BackoffAndBudgetTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("full jitter stays within min(cap, base·2^n)")
    func fullJitter() {
        let backoff = Backoff(base: 0.5, cap: 30, maxAttempts: 10)
        #expect((0..<8).map(backoff.ceiling(retry:)) == [0.5, 1, 2, 4, 8, 16, 30, 30])
        let random = SeededRandom(seed: 42)
        for retry in 0..<20 {
            let delay = backoff.delay(retry: retry, random: random)
            #expect(delay >= 0 && delay < backoff.ceiling(retry: retry))
        }
        // Reproducible from the seed.
        let a = SeededRandom(seed: 7), b = SeededRandom(seed: 7)
        #expect((0..<5).map { _ in backoff.delay(retry: 3, random: a) } == (0..<5).map { _ in backoff.delay(retry: 3, random: b) })
    }

    @Test("a 429 without Retry-After pauses at least 60 s, doubling with jitter up to 15 min")
    func pauseWithoutRetryAfter() {
        let policy = RateLimitPausePolicy()
        let random = SeededRandom(seed: 1)
        var previousFloor: TimeInterval = 0
        for consecutive in 1...8 {
            let pause = policy.pause(retryAfter: nil, consecutive: consecutive, random: random)
            let floor = min(900, 60 * pow(2, Double(consecutive - 1)))
            #expect(pause >= floor && pause <= min(900, floor * 1.5))
            #expect(floor >= previousFloor)
            previousFloor = floor
        }
        #expect(policy.pause(retryAfter: nil, consecutive: 30, random: random) == 900)
    }

    @Test("Retry-After wins, clamped to an hour")
    func pauseWithRetryAfter() {
        let policy = RateLimitPausePolicy()
        #expect(policy.pause(retryAfter: 5, consecutive: 3, random: SystemRandom()) == 5)
        #expect(policy.pause(retryAfter: 86_400, consecutive: 1, random: SystemRandom()) == 3600)
    }

    @Test("Retry-After in both forms")
    func retryAfterForms() {
        #expect(RetryAfter.parse("120", now: t0) == 120)
        #expect(RetryAfter.parse(" 0 ", now: t0) == 0)
        let date = HTTPDate.format(t0.addingTimeInterval(90))
        #expect(RetryAfter.parse(date, now: t0) == 90)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: t0) == 0)
        #expect(RetryAfter.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: Date(timeIntervalSince1970: 784_111_700)) == 77)
        #expect(RetryAfter.parse("soon", now: t0) == nil)
        #expect(RetryAfter.parse("-5", now: t0) == nil)
    }

    @Test("a bucket starts full at allowance × fraction and refills continuously")
    func bucketRefill() {
        var bucket = TokenBucket(hourlyAllowance: 1000, fraction: 0.8, now: t0)
        #expect(bucket.capacity == 800)
        #expect(bucket.tokens == 800)
        for _ in 0..<800 { #expect(bucket.take(now: t0) == nil) }
        let wait = bucket.take(now: t0)
        #expect(wait != nil && abs(wait! - 4.5) < 0.001)  // 800/h = one per 4.5 s
        #expect(bucket.take(now: t0.addingTimeInterval(4.5)) == nil)
        bucket.refill(now: t0.addingTimeInterval(100_000))
        #expect(bucket.tokens == 800)
    }

    @Test("rate-limit headers narrow the bucket")
    func headersNarrow() {
        var bucket = TokenBucket(hourlyAllowance: 1000, fraction: 0.8, now: t0)
        bucket.apply(RateLimitHeaders(limit: 500, remaining: 450), fraction: 0.8, now: t0)
        #expect(bucket.capacity == 400)
        #expect(bucket.tokens == 350)  // 450 left minus the 100 left to others
        bucket.apply(RateLimitHeaders(nearLimit: true), fraction: 0.8, now: t0)
        #expect(bucket.tokens == 0)
        // GitHub says 0 remaining until reset: the credential pauses until then.
        var github = TokenBucket(hourlyAllowance: 5000, fraction: 0.8, now: t0)
        github.apply(RateLimitHeaders(limit: 5000, remaining: 0, resetAt: t0.addingTimeInterval(600)), fraction: 0.8, now: t0)
        #expect(github.pausedUntil == t0.addingTimeInterval(600))
        #expect(github.take(now: t0.addingTimeInterval(10)) == 590)
    }

    @Test("the common rate-limit headers are read (a provider's own extras are its adapter's)")
    func headerParsing() {
        let bitbucket = RateLimitHeaders.parse(HTTPHeaders([("X-RateLimit-Limit", "1000"), ("X-RateLimit-NearLimit", "true")]))
        #expect(bitbucket == RateLimitHeaders(limit: 1000))
        let github = RateLimitHeaders.parse(HTTPHeaders([("x-ratelimit-limit", "5000"), ("x-ratelimit-remaining", "4999"), ("x-ratelimit-reset", "1800000600")]))
        #expect(github == RateLimitHeaders(limit: 5000, remaining: 4999, resetAt: Date(timeIntervalSince1970: 1_800_000_600)))
        let gitlab = RateLimitHeaders.parse(HTTPHeaders([("RateLimit-Limit", "2000"), ("RateLimit-Remaining", "10")]))
        #expect(gitlab.limit == 2000 && gitlab.remaining == 10)
        #expect(RateLimitHeaders.parse(HTTPHeaders()).isEmpty)
    }

    @Test("a 429 pauses the credential; a success ends the run of 429s")
    func pauseState() {
        var bucket = TokenBucket(hourlyAllowance: 1000, fraction: 0.8, now: t0)
        bucket.rateLimited(pause: 60, now: t0)
        #expect(bucket.isPaused(now: t0.addingTimeInterval(59)))
        #expect(!bucket.isPaused(now: t0.addingTimeInterval(60)))
        #expect(bucket.take(now: t0.addingTimeInterval(30)) == 30)
        #expect(bucket.consecutiveRateLimits == 1)
        bucket.succeeded()
        #expect(bucket.consecutiveRateLimits == 0)
    }

    @Test("the virtual clock wakes sleepers only when advanced past their deadline")
    func virtualClock() async throws {
        let clock = VirtualClock(start: t0)
        let task = Task { try await clock.sleep(for: 10); return clock.now }
        while clock.sleepers == 0 { await Task.yield() }
        clock.advance(by: 5)
        #expect(clock.sleepers == 1)
        clock.advance(by: 5)
        #expect(try await task.value == t0.addingTimeInterval(10))
        let cancelled = Task { try await clock.sleep(for: 100) }
        while clock.sleepers == 0 { await Task.yield() }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(clock.sleepers == 0)
    }
}

@Suite("Pagination, errors and refs")
struct ParsingHelpersTests {
    @Test("Link headers")
    func linkHeader() {
        let value = #"<https://api.github.com/repositories/1/branches?page=2>; rel="next", <https://api.github.com/repositories/1/branches?page=5>; rel="last""#
        let links = LinkHeader.parse(value)
        #expect(links["next"] == "https://api.github.com/repositories/1/branches?page=2")
        #expect(links["last"] == "https://api.github.com/repositories/1/branches?page=5")
        let response = HTTPResponse(status: 200, headers: HTTPHeaders([("Link", value)]), url: "x")
        #expect(NextPage.linkHeader(response) == "https://api.github.com/repositories/1/branches?page=2")
        #expect(LinkHeader.parse("").isEmpty)
    }

    @Test("Bitbucket's next is followed exactly as given")
    func bitbucketNext() {
        let next = "https://api.bitbucket.org/2.0/repositories/acme?page=2&pagelen=100&fields=next,values.slug"
        let page = HTTPResponse(status: 200, body: Data(#"{"pagelen":100,"values":[],"next":"\#(next)"}"#.utf8), url: "x")
        #expect(NextPage.bodyMember("next")(page) == next)
        #expect(NextPage.bodyMember("next")(HTTPResponse(status: 200, body: Data(#"{"values":[]}"#.utf8), url: "x")) == nil)
    }

    @Test("provider messages from JSON envelopes and text bodies, sanitized and cut")
    func providerMessages() {
        let envelope = #"{"type":"error","error":{"message":"Repository not found","detail":"There is no repository here"}}"#
        #expect(HTTPError.providerMessage(Data(envelope.utf8)) == "Repository not found (There is no repository here)")
        #expect(HTTPError.providerMessage(Data("Rate limit for this resource has been exceeded".utf8)) == "Rate limit for this resource has been exceeded")
        #expect(HTTPError.providerMessage(Data(#"{"error":"invalid_grant","error_description":"Invalid refresh_token"}"#.utf8)) == "Invalid refresh_token")
        #expect(HTTPError.providerMessage(Data("evil\u{1B}[2J\r\nline".utf8)) == "evil [2J line")
        #expect(HTTPError.providerMessage(Data(String(repeating: "x", count: 5000).utf8)).count == 200)
    }

    @Test("a captured refs advertisement")
    func refsAdvertisement() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/info-refs-upload-pack.bin")
        let advertisement = try RefsAdvertisement.parse(try Data(contentsOf: url))
        #expect(advertisement.service == "git-upload-pack")
        #expect(advertisement.headBranch == "main")
        #expect(advertisement.branches == [
            "main": "9d135768869710a18c2d4b1605e79e6b3cd861cb",
            "feature/login": "ba070c9e38a02067c43d2e8d16d8e075583c1666",
        ])
        let tag = try #require(advertisement.refs.first { $0.name == "refs/tags/v1.0" })
        #expect(tag.hash == "8290da46c121c0f236ef2dfd7b4b9a7d3b293ddd")
        #expect(tag.peeled == "ba070c9e38a02067c43d2e8d16d8e075583c1666")
        #expect(advertisement.capabilities.contains("object-format=sha1"))
    }

    @Test("an empty repository advertises no refs")
    func emptyRepository() throws {
        let zero = String(repeating: "0", count: 40)
        let line = "\(zero) capabilities^{}\0report-status\n"
        let text = "001e# service=git-upload-pack\n0000" + String(format: "%04x", line.utf8.count + 4) + line + "0000"
        let advertisement = try RefsAdvertisement.parse(Data(text.utf8))
        #expect(advertisement.refs.isEmpty)
        #expect(advertisement.capabilities == ["report-status"])
    }

    @Test("malformed advertisements are refused with a reason", arguments: [
        ("", RefsAdvertisement.ParseError.missingServiceLine),
        ("001e# service=git-upload-pack\n0000003d9d13", .truncated(offset: 34)),
        ("zzzz# service=git-upload-pack\n", .badLength(offset: 0)),
        ("0010hello world\n0000", .missingServiceLine),
        ("000eversion 2\n0000", .unsupportedProtocol("version 2")),
        ("0012ERR no access\n", .serverError("no access")),
        ("001e# service=git-upload-pack\n00000016not-a-hash refs/x\n0000", .badRefLine("not-a-hash refs/x")),
    ])
    func malformed(text: String, expected: RefsAdvertisement.ParseError) {
        #expect(throws: expected) { try RefsAdvertisement.parse(Data(text.utf8)) }
    }
}
