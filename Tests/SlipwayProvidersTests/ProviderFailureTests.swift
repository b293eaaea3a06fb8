import Foundation
import Testing
import SlipwayHTTP
@testable import SlipwayProviders

/// The adapter decides what an error means before the engine acts on it.
@Suite("Provider failures")
struct ProviderFailureTests {
    func response(_ status: Int, headers: [(String, String)] = [], body: String = "") -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders(headers), body: Data(body.utf8), url: "https://api.bitbucket.org/2.0/x")
    }

    @Test("a Bitbucket 403 with a rate limit's marks is a rate limit; a plain 403 is not")
    func bitbucketShapes() {
        #expect(BitbucketProvider.isRateLimit(response(403, headers: [("Retry-After", "30")])))
        #expect(BitbucketProvider.isRateLimit(response(403, headers: [("X-RateLimit-Remaining", "0")])))
        #expect(BitbucketProvider.isRateLimit(response(403, body: #"{"type":"error","error":{"message":"API rate limit exceeded"}}"#)))
        #expect(!BitbucketProvider.isRateLimit(response(403, body: #"{"type":"error","error":{"message":"Access denied"}}"#)))
        #expect(!BitbucketProvider.isRateLimit(response(403, headers: [("X-RateLimit-Remaining", "12")])))
        #expect(!BitbucketProvider.isRateLimit(response(404)))
    }

    @Test("only 404 and 410 are gone; 403 is lost access to confirm; 5xx and the network are transient")
    func classification() {
        let now = Date()
        #expect(ProviderFailure.of(HTTPError.rateLimited(host: "h", resumeAt: now)) == .rateLimited(until: now))
        #expect(ProviderFailure.of(HTTPError.forbidden(host: "h", message: "")) == .lostAccess)
        #expect(ProviderFailure.of(HTTPError.notFound(url: "u", message: "")) == .gone)
        #expect(ProviderFailure.of(HTTPError.status(410, url: "u", message: "")) == .gone)
        #expect(ProviderFailure.of(HTTPError.status(503, url: "u", message: "")) == .transient)
        #expect(ProviderFailure.of(HTTPError.timeout(host: "h", detail: "")) == .transient)
        #expect(ProviderFailure.of(HTTPError.unauthorized(host: "h", message: "")) == .rejected)
        #expect(ProviderFailure.of(HTTPError.decoding(url: "u", expected: "x", excerpt: "")) == .other)
        #expect(ProviderFailure.of(CancellationError()) == .other)
    }
}
