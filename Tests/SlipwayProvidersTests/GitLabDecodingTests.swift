import Foundation
import Testing
import SlipwayHTTP
import SlipwayProviders

/// GitLab's wire vocabulary in the adapter: the documented `Push Hook` payload, its token proof
/// and optional delivery id, and `RateLimit-*` read as a per-minute window.
@Suite("GitLab decoding")
struct GitLabDecodingTests {
    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/gitlab/\(name)"))
    }

    let dialect = GitLabWebhookDialect()

    @Test("the documented push: project by path and id, the head from the last commit listed, truncated past the 20 shown")
    func documentedPush() throws {
        let body = try Self.fixture("push.json")
        #expect(dialect.repository(in: body) == DeliveryRepository(fullName: "mike/diaspora", id: "15"))
        let event = try dialect.decodePush(body)
        let change = try #require(event.changes.first)
        #expect(event.repositoryFullName == "mike/diaspora" && change.branch == "master")
        #expect(change.newHead?.hash == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7" && change.oldHash == "95790bf891e76fee5e1747ab589903a6a1f80f22")
        #expect(change.newHead?.author == "GitLab dev user <gitlabdev@dv6700.(none)>" && change.newHead?.date != nil)
        // Four commits pushed, two listed: the confirming fetch fills in the rest.
        #expect(change.truncated && !change.created && !change.closed)
    }

    @Test("created and deleted branches by their zero hashes; tags move nothing; other events are not pushes")
    func createdDeletedTags() throws {
        func payload(ref: String, before: String, after: String, commits: String = "[]") -> Data {
            Data(#"{"object_kind":"push","ref":"\#(ref)","before":"\#(before)","after":"\#(after)","project_id":3,"project":{"id":3,"path_with_namespace":"acme/platform/api"},"commits":\#(commits),"total_commits_count":0}"#.utf8)
        }
        let zero = String(repeating: "0", count: 40), hash = String(repeating: "a", count: 40)
        let created = try dialect.decodePush(payload(ref: "refs/heads/feature/x", before: zero, after: hash)).changes.first
        #expect(created?.created == true && created?.branch == "feature/x" && created?.newHead?.hash == hash && created?.newHead?.date == nil)
        let deleted = try dialect.decodePush(payload(ref: "refs/heads/old", before: hash, after: zero)).changes.first
        #expect(deleted?.closed == true && deleted?.newHead == nil)
        #expect(try dialect.decodePush(payload(ref: "refs/tags/v1", before: zero, after: hash)).changes.isEmpty)
        #expect(dialect.isPush("Push Hook") && !dialect.isPush("Tag Push Hook") && !dialect.isPush("push"))
        #expect(throws: PushEvent.DecodingError.self) { try dialect.decodePush(Data("{\"ref\": 3}".utf8)) }
    }

    @Test("X-Gitlab-Token is the proof, compared whole; Idempotency-Key names the delivery but may be missing")
    func proofAndIdentity() {
        let headers = ["x-gitlab-token": "s3cret", "x-gitlab-event": "Push Hook"]
        #expect(dialect.hasProof(headers) && dialect.verifies(body: Data(), headers: headers, secret: "s3cret"))
        #expect(!dialect.verifies(body: Data(), headers: headers, secret: "s3cret2") && !dialect.verifies(body: Data(), headers: headers, secret: "s3cre"))
        #expect(!dialect.hasProof(["x-gitlab-event": "Push Hook"]) && !dialect.verifies(body: Data(), headers: [:], secret: "s3cret"))
        #expect(!dialect.deliveryIDRequired && dialect.deliveryID(headers) == nil)
        #expect(dialect.deliveryID(["idempotency-key": "3A427872-00DF-429C-9BC9-A9475DE2EFE4"]) == "3a427872-00df-429c-9bc9-a9475de2efe4")
        #expect(dialect.route == "/webhooks/gitlab" && dialect.eventName(headers) == "Push Hook")
    }

    @Test("the Standard Webhooks signature reproduces the specification's published vector, key with or without whsec_")
    func standardWebhooksVector() throws {
        let body = Data(#"{"test": 2432232314}"#.utf8)
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek", expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        let key = try #require(StandardWebhookSignature.key(fromSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        #expect(StandardWebhookSignature.sign(id: id, timestamp: 1_614_265_330, body: body, key: key) == expected)
        let bare = try #require(StandardWebhookSignature.key(fromSecret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let at = Date(timeIntervalSince1970: 1_614_265_330)
        #expect(StandardWebhookSignature.verify(id: id, timestamp: "1614265330", signatures: expected, body: body, key: bare, now: at) == .valid)
        #expect(StandardWebhookSignature.verify(id: id, timestamp: "1614265330", signatures: expected, body: body, key: key, now: at.addingTimeInterval(400)) == .stale)
        #expect(StandardWebhookSignature.verify(id: id, timestamp: "1614265331", signatures: expected, body: body, key: key, now: at) == .mismatch)
        #expect(StandardWebhookSignature.verify(id: id, timestamp: "soon", signatures: expected, body: body, key: key, now: at) == .malformed)
        #expect(StandardWebhookSignature.verify(id: id, timestamp: "1614265330", signatures: "v2,abc", body: body, key: key, now: at) == .malformed)
        #expect(StandardWebhookSignature.key(fromSecret: "whsec_***") == nil)
    }

    @Test("a hook GitLab confirmed as signed is proved by its signature alone; an unsigned one by its token")
    func signedOrTokenProof() throws {
        let body = Data("{}".utf8), secret = "s3cret", now = Date(timeIntervalSince1970: 1_800_000_000)
        let key = try #require(StandardWebhookSignature.key(fromSecret: GitLabWebhookDialect.signingToken(for: secret)))
        let signature = ["webhook-id": "d1", "webhook-timestamp": "1800000000",
                         "webhook-signature": StandardWebhookSignature.sign(id: "d1", timestamp: 1_800_000_000, body: body, key: key)]
        #expect(dialect.hasProof(signature))
        #expect(dialect.verifies(body: body, headers: signature, secret: secret, signed: true, now: now))
        #expect(!dialect.verifies(body: body, headers: signature, secret: secret, signed: false, now: now))
        #expect(!dialect.verifies(body: body, headers: ["x-gitlab-token": secret], secret: secret, signed: true, now: now))
        #expect(dialect.verifies(body: body, headers: ["x-gitlab-token": secret], secret: secret, signed: false, now: now))
        // Bitbucket's and GitHub's one proof does not change with the record.
        let hub = ["x-hub-signature": WebhookSignature.header(body: body, secret: secret)]
        #expect(BitbucketWebhookDialect().verifies(body: body, headers: hub, secret: secret, signed: true, now: now))
    }

    @Test("RateLimit-* narrow the minute window, not the hour; an exhausted minute pauses until its reset")
    func minuteHeaders() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var bucket = TokenBucket(hourlyAllowance: 18_000, perMinute: 300, fraction: 0.8, now: now)
        let headers = GitLabProvider.rateLimitHeaders(HTTPHeaders([("RateLimit-Limit", "100"), ("RateLimit-Remaining", "50"),
                                                                   ("RateLimit-Reset", "1800000060")]))
        #expect(headers.window == .minute)
        bucket.apply(headers, fraction: 0.8, now: now)
        #expect(bucket.capacity == 14_400 && bucket.minute?.capacity == 80 && abs((bucket.minute?.tokens ?? 0) - 30) < 1e-9)
        bucket.apply(GitLabProvider.rateLimitHeaders(HTTPHeaders([("RateLimit-Limit", "100"), ("RateLimit-Remaining", "0"), ("RateLimit-Reset", "1800000060")])),
                     fraction: 0.8, now: now)
        #expect(bucket.pausedUntil == Date(timeIntervalSince1970: 1_800_000_060) && bucket.capacity == 14_400)
    }

    @Test("GitLab's registry entry: defaults, the per-minute window, git's user name, web pages, the API URL rule")
    func descriptor() throws {
        let entry = try #require(ProviderRegistry.descriptor(for: .gitlab))
        #expect(entry.defaultAPIURL == "https://gitlab.com/api/v4" && entry.restRequestsPerMinute == 300 && entry.restRequestsPerHour == 18_000 && entry.gitRequestsPerHour == 60_000)
        #expect(entry.gitUsername(.bearer("t")) == "oauth2" && entry.minimumScopes == ["read_api", "read_repository", "read_user"])
        #expect(entry.apiURLProblem("https://gitlab.example.com/api/v4") == nil && entry.apiURLProblem("https://gitlab.com") != nil)
        #expect(entry.webLinks.workspace("https://gitlab.com", "acme/platform") == "https://gitlab.com/acme/platform")
        #expect(entry.webLinks.branch("https://gitlab.com/acme/api", "feature/x") == "https://gitlab.com/acme/api/-/tree/feature/x")
    }
}
