import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import NIOCore

/// The sandbox on loopback: a Hummingbird server in front of a `SandboxService`, plus the push
/// timer. Tests and `slipway demo` start it in-process; `slipway sandbox` runs it in the foreground.
public final class SandboxServer: Sendable {
    public let service: SandboxService
    public let port: Int
    public let host: String
    private let serverTask: Task<Void, any Error>
    /// Served until a graceful shutdown: cancelling the serving task instead can trap in NIO when
    /// a connection was accepted but not yet served (apple/swift-nio#2637).
    private let group: ServiceGroup
    private let pushTask: Task<Void, Never>?

    /// `http://127.0.0.1:PORT` — the web URL; the API is under `/2.0`.
    public var origin: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
    public var apiURL: String { origin + "/2.0" }
    public var webURL: String { origin }

    private init(service: SandboxService, port: Int, host: String, group: ServiceGroup, serverTask: Task<Void, any Error>, pushTask: Task<Void, Never>?) {
        self.group = group
        self.service = service
        self.port = port
        self.host = host
        self.serverTask = serverTask
        self.pushTask = pushTask
    }

    public static func start(options: SandboxOptions, now: @escaping @Sendable () -> Date = { Date() }) async throws -> SandboxServer {
        let service = try SandboxService(options: options, now: now)
        if options.demoRepositories {
            // git runs on threads of their own, not on the pool the server needs.
            try await Self.offThePool { try service.attachDemo(try DemoRepositories()) }
        }
        let started = StartSignal()
        let app = Application(
            responder: SandboxResponder(service: service),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { channel in started.succeed(channel.localAddress?.port ?? options.port) },
            logger: Logger(label: "slipway.sandbox") { _ in SwiftLogNoOpLogHandler() }
        )
        let group = ServiceGroup(services: [app], logger: Logger(label: "slipway.sandbox") { _ in SwiftLogNoOpLogHandler() })
        let serverTask = Task {
            do {
                try await group.run()
            } catch {
                started.fail(error)
                throw error
            }
        }
        let port: Int
        do {
            port = try await started.wait()
        } catch {
            throw SandboxStartError(host: options.host, port: options.port, reason: "\(error)")
        }
        service.setOrigin("http://\(options.host.contains(":") ? "[\(options.host)]" : options.host):\(port)", host: options.host, port: port)
        var pushTask: Task<Void, Never>?
        if let every = options.pushEverySeconds {
            pushTask = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: UInt64(every * 1_000_000_000))
                    if Task.isCancelled { break }
                    // With the demo workspace, every other push is a real commit there.
                    if service.hasDemo, Int.random(in: 0..<2) == 0 {
                        _ = await service.pushDemo()
                    } else {
                        service.push()
                    }
                }
            }
        }
        return SandboxServer(service: service, port: port, host: options.host, group: group, serverTask: serverTask, pushTask: pushTask)
    }

    /// Runs blocking work (git) on a thread of its own, not on the concurrency pool.
    static func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    static func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    /// Stops pushing and serving; waits until the port is released.
    public func stop() async {
        pushTask?.cancel()
        await group.triggerGracefulShutdown()
        _ = await serverTask.result
        service.shutdown()
    }

    /// Runs until `stop` (Ctrl-C in the CLI).
    public func wait() async {
        _ = await serverTask.result
    }

    /// The line a user types to link Slipway to this sandbox.
    public var linkCommand: String {
        "slipway link bitbucket --api-url \(apiURL) --web-url \(webURL) --token-file -"
    }
}

public struct SandboxStartError: Error, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var reason: String

    public var description: String {
        port == 0 ? "cannot start the sandbox on \(host): \(reason)"
            : "cannot listen on \(host):\(port) (\(reason)); choose another --port or 0 for any free one"
    }
}

/// A one-shot rendezvous between the server's start callback and `start`.
private final class StartSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Int, any Error>?
    private var waiter: CheckedContinuation<Int, any Error>?

    func succeed(_ port: Int) { complete(.success(port)) }
    func fail(_ error: any Error) { complete(.failure(error)) }

    private func complete(_ value: Result<Int, any Error>) {
        lock.lock()
        guard result == nil else { lock.unlock(); return }
        result = value
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        waiter?.resume(with: value)
    }

    func wait() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            if let result {
                lock.unlock()
                continuation.resume(with: result)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }
}

/// The request context keeps the connection, so a fault can cut it.
struct SandboxContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

struct TruncatedOnPurpose: Error {}

struct SandboxResponder: HTTPResponder {
    typealias Context = SandboxContext
    let service: SandboxService

    /// `POST /git/demo/REPO.git/git-upload-pack`: git's own upload-pack answers (stateless RPC,
    /// as smart HTTP runs it), after the same credential and limit checks as the refs.
    func uploadPack(_ request: SandboxRequest) async throws -> Response? {
        let s = request.segments
        guard s.count == 4, s[0] == "git", s[3] == "git-upload-pack", s[2].hasSuffix(".git"),
              let bare = service.demoRepositoryPath(workspace: s[1], slug: String(s[2].dropLast(4))) else { return nil }
        if let refusal = service.admitGit(authorization: request.headers["authorization"]) {
            var fields = HTTPFields()
            for (name, value) in refusal.headers { if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) } }
            return Response(status: .init(code: refusal.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: refusal.body)))
        }
        let gzip = request.headers["content-encoding"]?.lowercased() == "gzip"
        let body = request.body
        let pack = try await SandboxServer.offThePool {
            try DemoRepositories.run(["/bin/sh", "-c", gzip ? "gzip -dc | git upload-pack --stateless-rpc \"$0\"" : "git upload-pack --stateless-rpc \"$0\"", bare],
                                     in: bare, input: body)
        }
        var fields = HTTPFields()
        fields[.contentType] = "application/x-git-upload-pack-result"
        fields[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: pack)))
    }

    func respond(to request: Request, context: SandboxContext) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        // HTTP/1's Host header arrives as the :authority pseudo-header; links point back at it.
        let authority = request.head.authority ?? "\(service.host):\(service.port)"
        headers["host"] = authority
        let parsed = SandboxRequest(method: request.method.rawValue, uri: request.uri.description, headers: headers,
                                    body: Data(buffer: body), origin: "http://\(authority)")
        if request.method == .post, let pack = try await uploadPack(parsed) { return pack }
        let reply = service.handle(parsed)
        if reply.delay > 0 { try await Task.sleep(nanoseconds: UInt64(reply.delay * 1_000_000_000)) }

        switch reply.transport {
        case .reset:
            // The connection is cut before any answer, as a dying proxy would.
            try? await context.channel.close().get()
            throw TruncatedOnPurpose()
        case .truncate:
            var fields = HTTPFields()
            for (name, value) in reply.headers { if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) } }
            let full = reply.body
            let half = full.prefix(full.count / 2)
            return Response(status: .init(code: reply.status), headers: fields, body: ResponseBody(contentLength: full.count) { writer in
                try await writer.write(ByteBuffer(bytes: half))
                // Stop short of the promised length: the client sees a truncated body.
                throw TruncatedOnPurpose()
            })
        case .normal:
            var fields = HTTPFields()
            for (name, value) in reply.headers { if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) } }
            let payload = request.method == .head ? ByteBuffer() : ByteBuffer(bytes: reply.body)
            if request.method == .head { fields[.contentLength] = String(reply.body.count) }
            return Response(status: .init(code: reply.status), headers: fields, body: .init(byteBuffer: payload))
        }
    }
}
