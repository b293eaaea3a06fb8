import Foundation
import SlipwayHTTP

/// A public Git repository as `slipway repos add` takes it: an HTTPS clone URL (`http://` only on
/// loopback), with no credentials in it. Its workspace is the host (with `:port` when not the
/// scheme's default), its repository the URL path without `.git` — which may contain `/`.
public struct PublicGitURL: Sendable, Equatable, Hashable {
    /// The URL git clones, as given (a trailing `/` dropped, the host lowercased).
    public var cloneURL: String
    /// `host` or `host:port`: the workspace, and the authority the host's git budget is kept for.
    public var host: String
    /// The path without its leading `/` and trailing `.git` (`group/sub/project`).
    public var path: String

    /// Why a URL cannot be added, in one line.
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public static func parse(_ text: String) throws(Problem) -> PublicGitURL {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
              let rawHost = components.host, !rawHost.isEmpty else {
            throw Problem(description: "'\(text)' is not a clone URL; give one like https://example.com/group/project.git")
        }
        guard scheme == "https" || scheme == "http" else {
            throw Problem(description: "\(scheme):// is not supported; give the repository's HTTPS clone URL")
        }
        do { try URLPolicy.check(trimmed) } catch {
            throw Problem(description: "\(trimmed) uses http://, which is allowed only on loopback; give the HTTPS clone URL")
        }
        guard components.user == nil, components.password == nil else {
            throw Problem(description: "the URL carries credentials; Slipway adds only public repositories and sends no credentials")
        }
        guard components.query == nil, components.fragment == nil else {
            throw Problem(description: "a clone URL has no query or fragment; give the repository's clone URL")
        }
        var segments = components.percentEncodedPath.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard !segments.isEmpty, !segments.contains(where: { $0 == "." || $0 == ".." }) else {
            throw Problem(description: "\(trimmed) names no repository; give its clone URL, like https://example.com/group/project.git")
        }
        if let last = segments.last, last.hasSuffix(".git") {
            segments[segments.count - 1] = String(last.dropLast(4))
            guard !segments[segments.count - 1].isEmpty else { throw Problem(description: "\(trimmed) names no repository") }
        }
        let host = rawHost.lowercased()
        let defaultPort = scheme == "https" ? 443 : 80
        let authority = components.port.flatMap { $0 == defaultPort ? nil : "\(host):\($0)" } ?? host
        let literal = host.contains(":") ? "[\(host)]" : host
        let port = components.port.flatMap { $0 == defaultPort ? nil : ":\($0)" } ?? ""
        var clonePath = components.percentEncodedPath
        while clonePath.hasSuffix("/") { clonePath.removeLast() }
        let path = segments.map { $0.removingPercentEncoding ?? $0 }.joined(separator: "/")
        return PublicGitURL(cloneURL: "\(scheme)://\(literal)\(port)\(clonePath)", host: authority, path: path)
    }

    /// `git/HOST/PATH`'s last two parts joined: the repository's full name.
    public var fullName: String { "\(host)/\(path)" }
}
