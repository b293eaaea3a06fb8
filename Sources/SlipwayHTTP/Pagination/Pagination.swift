import Foundation

/// Where the next page is, as the provider says it: followed exactly as given, never rebuilt.
public enum NextPage {
    /// The URL a top-level JSON member of the page names (`next` in Bitbucket's pages; absent on
    /// the last page). The adapter says which member.
    public static func bodyMember(_ name: String) -> @Sendable (HTTPResponse) -> String? {
        { response in
            guard let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
                  let next = object[name] as? String, !next.isEmpty else { return nil }
            return next
        }
    }

    /// The `rel="next"` target of the `Link` header (RFC 8288; GitHub and GitLab page this way).
    public static func linkHeader(_ response: HTTPResponse) -> String? {
        response.headers.values("Link").lazy.compactMap { LinkHeader.parse($0)["next"] }.first
    }
}

/// RFC 8288 `Link` header values: `<url>; rel="next", <url>; rel="last"`.
public enum LinkHeader {
    public static func parse(_ value: String) -> [String: String] {
        var links: [String: String] = [:]
        var rest = Substring(value)
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            let url = String(rest[rest.index(after: open)..<close])
            let afterURL = rest[rest.index(after: close)...]
            // Parameters run to the next "<" that starts another link.
            let end = afterURL.firstIndex(of: "<") ?? afterURL.endIndex
            for param in afterURL[..<end].split(separator: ";") {
                let parts = param.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, parts[0].lowercased() == "rel" else { continue }
                let rels = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\", ")).split(separator: " ")
                for rel in rels where links[String(rel).lowercased()] == nil { links[String(rel).lowercased()] = url }
            }
            rest = afterURL[end...]
        }
        return links
    }
}

extension HTTPClient {
    /// Every page of a listing, fetching the next only when the consumer asks for it.
    public func pages(_ first: HTTPRequest, next: @escaping @Sendable (HTTPResponse) -> String?,
                      maxPages: Int = 10_000) -> AsyncThrowingStream<HTTPResponse, any Error> {
        var iteratorState: (request: HTTPRequest?, count: Int) = (first, 0)
        return AsyncThrowingStream(unfolding: { [self] in
            guard let request = iteratorState.request, iteratorState.count < maxPages else { return nil }
            let response = try await self.send(request)
            iteratorState.count += 1
            if let url = next(response) {
                var following = request
                following.url = url
                iteratorState.request = following
            } else {
                iteratorState.request = nil
            }
            return response
        })
    }
}
