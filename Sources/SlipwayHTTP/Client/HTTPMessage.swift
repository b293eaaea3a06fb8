import Foundation

/// Response or request headers: ordered, case-insensitive lookup, repeated names kept.
public struct HTTPHeaders: Sendable, Equatable, Sequence {
    public private(set) var fields: [(name: String, value: String)] = []

    public init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Replaces every field of that name.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { Self.sameName($0.name, name) }
    }

    /// The first value of a header.
    public subscript(name: String) -> String? {
        fields.first { Self.sameName($0.name, name) }?.value
    }

    public func values(_ name: String) -> [String] {
        fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    /// Field names are ASCII tokens (RFC 9110), compared without case byte by byte — every
    /// response's rate-limit headers are looked up a dozen times, and Foundation's
    /// `caseInsensitiveCompare` goes through NSString for each.
    static func sameName(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.count == y.count else { return false }
                for index in 0..<x.count where x[index] != y[index] {
                    guard x[index] | 0x20 == y[index] | 0x20, (97...122).contains(x[index] | 0x20) else { return false }
                }
                return true
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }
}

public enum HTTPMethod: String, Sendable {
    case get = "GET", head = "HEAD", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE"

    /// Methods RFC 9110 calls idempotent: safe to retry after a network error or a 5xx.
    public var isIdempotent: Bool {
        switch self {
        case .get, .head, .put, .delete: true
        case .post, .patch: false
        }
    }
}

/// Who is waiting for a request: a person who pressed a key goes before background sync.
public enum RequestLane: Int, Sendable, Comparable {
    case interactive = 0
    case background = 1

    public static func < (lhs: RequestLane, rhs: RequestLane) -> Bool { lhs.rawValue < rhs.rawValue }
}

public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    public var headers: HTTPHeaders
    public var body: Data?
    /// Which budget it spends; nil for requests outside any provider budget (e.g. OAuth tokens).
    public var budget: BudgetKey?
    public var lane: RequestLane
    /// Overrides the method's idempotency (e.g. a POST the server deduplicates).
    public var retryable: Bool?
    /// The origins the request's credential was linked for (an account's API and web URLs).
    /// nil: the origin of `url` alone. A request to another origin is refused; a redirect to
    /// one loses every credential header.
    public var credentialOrigins: Set<Origin>?
    /// The headers that carry a credential (an adapter adds its own, e.g. a token header).
    public var credentialHeaders: [String] = HTTPRequest.standardCredentialHeaders

    public static let standardCredentialHeaders = ["Authorization", "Proxy-Authorization", "Cookie"]

    /// The provider's other shapes of a rate limit besides 429 (GitHub's 403 with
    /// `x-ratelimit-remaining: 0`, a "secondary rate limit" message): the adapter knows them; the
    /// client then pauses the credential as for a 429 instead of reporting "forbidden".
    public var isRateLimit: (@Sendable (HTTPResponse) -> Bool)?
    /// How the provider states its count, where it says more than the common `X-RateLimit-*` /
    /// `RateLimit-*` headers (nil: `RateLimitHeaders.parse`).
    public var rateLimitHeaders: (@Sendable (HTTPHeaders) -> RateLimitHeaders)?
    /// Asked with `If-None-Match` / `If-Modified-Since` from the last answer under this key; a
    /// 304 comes back as the response (status 304: unchanged).
    public var conditional: ConditionalRequest?

    public init(method: HTTPMethod = .get, url: String, headers: HTTPHeaders = HTTPHeaders(), body: Data? = nil,
                budget: BudgetKey? = nil, lane: RequestLane = .background, retryable: Bool? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.budget = budget
        self.lane = lane
        self.retryable = retryable
    }

    public var isRetryable: Bool { retryable ?? method.isIdempotent }

    /// Whether any credential header is set.
    public var carriesCredential: Bool { credentialHeaders.contains { headers[$0] != nil } }

    mutating func removeCredentials() {
        for name in credentialHeaders { headers.remove(name) }
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data
    /// The URL that answered (after redirects).
    public var url: String
    /// Whether libcurl reused a connection for it.
    public var reusedConnection: Bool

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: Data = Data(), url: String, reusedConnection: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        self.reusedConnection = reusedConnection
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Decodes a JSON body; a failure says what was expected and shows the start of the body.
    public func decode<T: Decodable>(_ type: T.Type, using decoder: JSONDecoder = JSONDecoder()) throws(HTTPError) -> T {
        do {
            return try decoder.decode(type, from: body)
        } catch {
            throw .decoding(url: url, expected: String(describing: type), excerpt: HTTPError.excerpt(body))
        }
    }

    /// Reads a JSON body with a `JSONReader` (for listings read by the thousand); a failure says
    /// what was expected and shows the start of the body, as `decode` does.
    public func read<T>(_ expected: String, _ body: (inout JSONReader) throws -> T) throws(HTTPError) -> T {
        do {
            return try JSONReader.read(self.body, body)
        } catch {
            throw .decoding(url: url, expected: expected, excerpt: HTTPError.excerpt(self.body))
        }
    }
}

extension HTTPHeaders {
    /// One `Name: value` line as libcurl hands it over (with its CRLF), trimmed of spaces and
    /// tabs around name and value; nil for a status line, the blank end of the headers, or a
    /// line without a colon.
    static func parseLine(_ line: UnsafeRawBufferPointer) -> (String, String)? {
        func isSpace(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 || byte == 10 || byte == 13 }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
              !(line.count >= 5 && line[0] == 72 && line[1] == 84 && line[2] == 84 && line[3] == 80 && line[4] == 47) else { return nil }
        var nameStart = 0, nameEnd = colon, valueStart = colon + 1, valueEnd = line.count
        while nameStart < nameEnd, isSpace(line[nameStart]) { nameStart += 1 }
        while nameEnd > nameStart, isSpace(line[nameEnd - 1]) { nameEnd -= 1 }
        while valueStart < valueEnd, isSpace(line[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart, isSpace(line[valueEnd - 1]) { valueEnd -= 1 }
        return (String(decoding: UnsafeRawBufferPointer(rebasing: line[nameStart..<nameEnd]), as: UTF8.self),
                String(decoding: UnsafeRawBufferPointer(rebasing: line[valueStart..<valueEnd]), as: UTF8.self))
    }
}
