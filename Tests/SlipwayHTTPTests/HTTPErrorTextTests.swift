import Foundation
import Testing
@testable import SlipwayHTTP

/// A URL's query may carry a token of its own (App Platform's log URLs): no error message shows it.
@Suite("HTTP error text")
struct HTTPErrorTextTests {
    @Test("every error that names a URL names it without its query or fragment")
    func noQueryInMessages() {
        let url = "https://logs.example.com/live?token=s3cret-token#frag"
        let errors: [HTTPError] = [.insecureURL(url), .invalidURL(url), .notFound(url: url, message: ""), .status(502, url: url, message: "bad"),
                                   .bodyTooLarge(url: url, limit: 1 << 20), .decoding(url: url, expected: "JSON", excerpt: "x"),
                                   .redirectRefused(from: url, to: url), .tooManyRedirects(url: url), .credentialOriginRefused(url: "not a url?token=s3cret-token")]
        for error in errors {
            #expect(!error.description.contains("s3cret") && !error.description.contains("frag"), "\(error.description)")
        }
        #expect(HTTPError.status(502, url: url, message: "bad").description == "HTTP 502 from https://logs.example.com/live?…: bad")
        #expect(HTTPError.notFound(url: "https://api.example.com/v2/apps", message: "").description == "not found (404): https://api.example.com/v2/apps")
    }
}
