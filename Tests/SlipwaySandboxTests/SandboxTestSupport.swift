import Foundation
import SlipwayHTTP
@testable import SlipwaySandbox

/// A clock the test moves by hand, for a sandbox built on `now: { clock.now }`.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_800_000_000)
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

/// A sandbox on a free loopback port and a plain libcurl client authenticated as its user.
struct SandboxHarness {
    let server: SandboxServer
    let transport: CurlTransport

    static func start(_ configure: (inout SandboxOptions) -> Void = { _ in }) async throws -> SandboxHarness {
        var options = SandboxOptions()
        options.seed = 7
        options.workspaces = 2
        options.reposPerWorkspace = 4
        options.branchesPerRepo = 5
        configure(&options)
        return SandboxHarness(server: try await SandboxServer.start(options: options), transport: CurlTransport())
    }

    func stop() async {
        transport.shutdown()
        await server.stop()
    }

    /// A raw GET (no retries, no status mapping): what a curl user sees.
    func get(_ pathOrURL: String, auth: String? = "bearer") async throws -> HTTPResponse {
        var headers = HTTPHeaders()
        switch auth {
        case "bearer": headers.add("Authorization", "Bearer \(server.service.bitbucket.accessToken)")
        case "basic":
            let pair = Data("\(server.service.email):\(server.service.bitbucket.apiToken)".utf8).base64EncodedString()
            headers.add("Authorization", "Basic \(pair)")
        case let other?: headers.add("Authorization", other)
        case nil: break
        }
        let url = pathOrURL.hasPrefix("http") ? pathOrURL : server.bitbucket.origin + pathOrURL
        return try await transport.perform(HTTPRequest(url: url, headers: headers))
    }

    func json(_ path: String) async throws -> [String: Any] {
        let response = try await get(path)
        guard response.status == 200, let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any] else {
            throw HarnessError("GET \(path) → \(response.status): \(response.text.prefix(200))")
        }
        return object
    }

    func post(_ path: String, json: [String: Any]) async throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: json)
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        let response = try await transport.perform(HTTPRequest(method: .post, url: server.bitbucket.origin + path, headers: headers, body: body))
        return (try JSONSerialization.jsonObject(with: response.body) as? [String: Any]) ?? [:]
    }

    /// Every page of a listing, following `next` exactly as given.
    func allValues(_ path: String) async throws -> [[String: Any]] {
        var url: String? = server.bitbucket.origin + path
        var values: [[String: Any]] = []
        var pages = 0
        while let next = url {
            let response = try await get(next)
            guard response.status == 200, let page = try JSONSerialization.jsonObject(with: response.body) as? [String: Any] else {
                throw HarnessError("GET \(next) → \(response.status)")
            }
            values += page["values"] as? [[String: Any]] ?? []
            url = page["next"] as? String
            pages += 1
            if pages > 1000 { throw HarnessError("pagination does not end") }
        }
        return values
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The shape of a JSON document: every key path with the kind of value at it ("[]" for array
/// elements). Two documents with the same shape decode with the same expectations.
enum Shape {
    static func paths(_ value: Any, prefix: String = "") -> [String: String] {
        var out: [String: String] = [:]
        switch value {
        case let object as [String: Any]:
            if !prefix.isEmpty { out[prefix] = "object" }
            for (key, child) in object { out.merge(paths(child, prefix: prefix.isEmpty ? key : "\(prefix).\(key)")) { a, _ in a } }
        case let array as [Any]:
            out[prefix] = "array"
            for element in array { out.merge(paths(element, prefix: prefix + "[]")) { a, b in a == "null" ? b : a } }
        case is NSNull:
            out[prefix] = "null"
        case let number as NSNumber:
            out[prefix] = String(cString: number.objCType) == "c" ? "bool" : "number"
        case is String:
            out[prefix] = "string"
        default:
            out[prefix] = "\(type(of: value))"
        }
        return out
    }

    static func fixture(_ name: String) throws -> Any {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    }

    /// Paths of the reference document missing from, or of another kind in, the sandbox's.
    static func differences(reference: Any, sandbox: Any, optional: [String] = []) -> [String] {
        let expected = paths(reference)
        let actual = paths(sandbox)
        var problems: [String] = []
        for (path, kind) in expected.sorted(by: { $0.key < $1.key }) {
            if optional.contains(where: { path == $0 || path.hasPrefix($0 + ".") || path.hasPrefix($0 + "[]") }) { continue }
            guard let found = actual[path] else { problems.append("missing \(path)"); continue }
            if kind != "null" && found != "null" && kind != found { problems.append("\(path): \(found), expected \(kind)") }
        }
        return problems
    }
}
