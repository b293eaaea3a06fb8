import Foundation

/// What the sandbox answers, before the wire: a status, headers, a body, and any transport-level
/// misbehaviour a fault asked for.
struct SandboxReply: Sendable {
    enum Transport: Sendable, Equatable {
        case normal
        case reset
        case truncate
    }

    var status: Int
    var headers: [(String, String)] = []
    var body: Data = Data()
    var delay: TimeInterval = 0
    var transport: Transport = .normal
    /// Work that answers outside the world's lock (a GraphQL query, on a snapshot); its reply
    /// takes this one's place.
    var deferred: (@Sendable () async -> SandboxReply)?

    static func json(_ status: Int, _ object: [String: Any], headers: [(String, String)] = []) -> SandboxReply {
        let data = JSONText.data(object)
        return SandboxReply(status: status, headers: [("Content-Type", "application/json; charset=utf-8")] + headers, body: data)
    }

    static func text(_ status: Int, _ text: String, headers: [(String, String)] = []) -> SandboxReply {
        SandboxReply(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")] + headers, body: Data(text.utf8))
    }

    static func notFound(_ message: String) -> SandboxReply { .json(404, WireFormat.error(message)) }
}

/// One parsed request.
struct SandboxRequest: Sendable {
    var method: String
    /// Percent-decoded path segments after the leading "/".
    var segments: [String]
    var rawPath: String
    var query: [String: [String]]
    var headers: [String: String]   // lower-cased names
    var body: Data
    /// The URL as the client asked for it, for building `next` links.
    var url: URLComponents

    init(method: String, uri: String, headers: [String: String], body: Data, origin: String) {
        self.method = method
        self.headers = headers
        self.body = body
        var components = URLComponents(string: origin + uri) ?? URLComponents()
        if components.host == nil { components = URLComponents(string: origin)! }
        url = components
        rawPath = components.percentEncodedPath
        segments = components.percentEncodedPath.split(separator: "/", omittingEmptySubsequences: true)
            .map { $0.removingPercentEncoding ?? String($0) }
        var query: [String: [String]] = [:]
        for item in components.queryItems ?? [] { query[item.name, default: []].append(item.value ?? "") }
        self.query = query
    }

    /// A JSON object body's members, else a form body's fields.
    var bodyFields: [String: Any] {
        if let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] { return object }
        var components = URLComponents()
        components.percentEncodedQuery = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "+", with: "%20")
        var fields: [String: Any] = [:]
        for item in components.queryItems ?? [] { fields[item.name] = item.value ?? "" }
        return fields
    }

    /// The query string's fields, then the body's over them, as text (OAuth endpoints take either).
    var formFields: [String: String] {
        var form: [String: String] = [:]
        for (name, values) in query { form[name] = values.first }
        for (name, value) in bodyFields { form[name] = "\(value)" }
        return form
    }
}
