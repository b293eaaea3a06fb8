import Foundation
import Testing
import SlipwayProviders

/// `repos add URL`: which URLs are public clone URLs, and what workspace and repository they make.
@Suite("Public Git URLs")
struct PublicGitURLTests {
    @Test("the host (with a port only when not the default) is the workspace, the path without .git the repository", arguments: [
        ("https://github.com/apple/swift.git", "https://github.com/apple/swift.git", "github.com", "apple/swift"),
        ("https://GitLab.com/group/sub/project.git/", "https://gitlab.com/group/sub/project.git", "gitlab.com", "group/sub/project"),
        ("https://example.com:443/x/y", "https://example.com/x/y", "example.com", "x/y"),
        ("https://example.com:8443/x.git", "https://example.com:8443/x.git", "example.com:8443", "x"),
        ("http://127.0.0.1:7000/demo/hello-web.git", "http://127.0.0.1:7000/demo/hello-web.git", "127.0.0.1:7000", "demo/hello-web"),
        ("  https://example.com/a%20b/c.git\n", "https://example.com/a%20b/c.git", "example.com", "a b/c"),
    ])
    func parses(text: String, clone: String, host: String, path: String) throws {
        let url = try PublicGitURL.parse(text)
        #expect(url.cloneURL == clone && url.host == host && url.path == path)
        #expect(url.fullName == "\(host)/\(path)")
    }

    @Test("anything else is refused with a line that says what to give instead", arguments: [
        ("http://example.com/x.git", "only on loopback"), ("git@github.com:apple/swift.git", "not a clone URL"),
        ("ssh://git@example.com/x.git", "not supported"), ("https://user:secret@example.com/x.git", "carries credentials"),
        ("https://example.com/x.git?token=1", "no query"), ("https://example.com/", "names no repository"),
        ("https://example.com/a/../b.git", "names no repository"), ("https://example.com/.git", "names no repository"),
        ("file:///srv/x.git", "not a clone URL"),
    ])
    func refuses(text: String, words: String) {
        #expect(throws: PublicGitURL.Problem.self) { try PublicGitURL.parse(text) }
        do { _ = try PublicGitURL.parse(text) } catch { #expect(error.description.contains(words), "\(text): \(error.description)") }
    }
}
