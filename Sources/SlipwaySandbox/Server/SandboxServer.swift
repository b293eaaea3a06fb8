import Foundation
import Synchronization
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import NIOCore

/// Where one personality is served, and how a user links Slipway to it.
public struct SandboxEndpoint: Sendable, Equatable {
    public var personality: SandboxPersonalityName
    public var host: String
    public var port: Int
    /// `http://127.0.0.1:PORT`
    public var origin: String
    public var apiURL: String
    public var webURL: String
    /// The line a user types to link Slipway to this personality.
    public var linkCommand: String
    /// The banner's lines for it.
    public var banner: [BannerLine]
}

/// The sandbox on loopback: one Hummingbird server per personality in front of one
/// `SandboxService` (the world), plus the push timer. Tests and `slipway demo` start it
/// in-process; `slipway sandbox` runs it in the foreground.
public final class SandboxServer: Sendable {
    public let service: SandboxService
    /// One per served personality, in `SandboxPersonalityName` order.
    public let endpoints: [SandboxEndpoint]
    private let serverTask: Task<Void, any Error>
    /// Served until a graceful shutdown: cancelling the serving task instead can trap in NIO when
    /// a connection was accepted but not yet served (apple/swift-nio#2637).
    private let group: ServiceGroup
    private let pushTask: Task<Void, Never>?
    /// App Platform's log host (live WebSockets and archived logs), when App Platform is served.
    private let logServer: AppPlatformLogServer?
    private let stopping = Mutex<Task<Void, Never>?>(nil)

    /// The GitHub personality's endpoint. Traps if not served.
    public var github: SandboxEndpoint {
        guard let endpoint = endpoint(.github) else { preconditionFailure("this sandbox does not serve github") }
        return endpoint
    }

    public var digitalocean: SandboxEndpoint {
        guard let endpoint = endpoint(.digitalocean) else { preconditionFailure("this sandbox does not serve digitalocean") }
        return endpoint
    }

    public var git: SandboxEndpoint {
        guard let endpoint = endpoint(.git) else { preconditionFailure("this sandbox does not serve git") }
        return endpoint
    }

    public var gitlab: SandboxEndpoint {
        guard let endpoint = endpoint(.gitlab) else { preconditionFailure("this sandbox does not serve gitlab") }
        return endpoint
    }

    /// Where a personality is served; nil when `--only` left it out.
    public func endpoint(_ name: SandboxPersonalityName) -> SandboxEndpoint? {
        endpoints.first { $0.personality == name }
    }

    /// The Bitbucket personality's endpoint (most tests link with it). Traps if not served.
    public var bitbucket: SandboxEndpoint {
        guard let endpoint = endpoint(.bitbucket) else { preconditionFailure("this sandbox does not serve bitbucket") }
        return endpoint
    }

    private init(service: SandboxService, endpoints: [SandboxEndpoint], group: ServiceGroup, serverTask: Task<Void, any Error>, pushTask: Task<Void, Never>?,
                 logServer: AppPlatformLogServer?) {
        self.logServer = logServer
        self.group = group
        self.service = service
        self.endpoints = endpoints
        self.serverTask = serverTask
        self.pushTask = pushTask
    }

    public static func start(options: SandboxOptions, now: @escaping @Sendable () -> Date = { Date() }) async throws -> SandboxServer {
        let service = try SandboxService(options: options, now: now)
        // git runs on threads of their own, not on the pool the server needs. A public git
        // host's repositories are always real ones.
        for host in service.served where host == .git || (options.demoRepositories && [.bitbucket, .github, .gitlab].contains(host)) {
            try await Self.offThePool { try service.attachDemo(try DemoRepositories(), on: host) }
        }
        let quiet = Logger(label: "slipway.sandbox") { _ in SwiftLogNoOpLogHandler() }
        var applications: [any Service] = []
        var signals: [(SandboxPersonalityName, Int, StartSignal)] = []
        for (index, name) in service.served.enumerated() {
            let started = StartSignal()
            let port = options.port == 0 ? 0 : options.port + index
            applications.append(Application(
                responder: SandboxResponder(service: service, personality: name),
                configuration: .init(address: .hostname(options.host, port: port), serverName: nil),
                onServerRunning: { channel in started.succeed(channel.localAddress?.port ?? port) },
                logger: quiet
            ))
            signals.append((name, port, started))
        }
        let group = ServiceGroup(services: applications, logger: quiet)
        let serverTask = Task {
            do {
                try await group.run()
            } catch {
                for (_, _, started) in signals { started.fail(error) }
                throw error
            }
        }
        var endpoints: [SandboxEndpoint] = []
        for (name, asked, started) in signals {
            let port: Int
            do {
                port = try await started.wait()
            } catch {
                await group.triggerGracefulShutdown()
                _ = await serverTask.result
                service.shutdown()
                throw SandboxStartError(host: options.host, port: asked, reason: "\(error)")
            }
            let origin = "http://\(options.host.contains(":") ? "[\(options.host)]" : options.host):\(port)"
            service.setOrigin(origin, for: name)
            let personality = service.personality(name)
            let (api, web) = personality.urls(origin: origin)
            endpoints.append(SandboxEndpoint(personality: name, host: options.host, port: port, origin: origin, apiURL: api, webURL: web,
                                             linkCommand: personality.linkCommand(api: api, web: web),
                                             banner: personality.banner(api: api, web: web, options: options)))
        }
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
        var logServer: AppPlatformLogServer?
        if service.served.contains(.digitalocean) {
            let logs = try await AppPlatformLogServer.start(host: options.host, service: service)
            service.setAppPlatformLogOrigin(logs.origin)
            logServer = logs
        }
        return SandboxServer(service: service, endpoints: endpoints, group: group, serverTask: serverTask, pushTask: pushTask, logServer: logServer)
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
    /// Idempotent: a signal's stop and the CLI's final one share the first call's work (NIO's
    /// group shutdown, asked twice, never answers the second time).
    public func stop() async {
        let work = stopping.withLock { task -> Task<Void, Never> in
            if let task { return task }
            let started = Task { [pushTask, logServer, group, serverTask, service] in
                pushTask?.cancel()
                await logServer?.stop()
                await group.triggerGracefulShutdown()
                _ = await serverTask.result
                service.shutdown()
            }
            task = started
            return started
        }
        await work.value
    }

    /// Runs until `stop` (Ctrl-C in the CLI).
    public func wait() async {
        _ = await serverTask.result
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
    let personality: SandboxPersonalityName

    /// git's upload-pack POST for a real repository: git's own answer (stateless RPC, as smart
    /// HTTP runs it), after the personality's credential and limit checks.
    func uploadPack(_ request: SandboxRequest) async throws -> Response? {
        let bare: String
        switch service.uploadPack(request, for: personality) {
        case .notHere:
            return nil
        case let .refuse(refusal):
            var fields = HTTPFields()
            for (name, value) in refusal.headers { if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) } }
            return Response(status: .init(code: refusal.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: refusal.body)))
        case let .serve(path):
            bare = path
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
        let authority = request.head.authority ?? service.authority(of: personality)
        headers["host"] = authority
        let parsed = SandboxRequest(method: request.method.rawValue, uri: request.uri.description, headers: headers,
                                    body: Data(body.readableBytesView), origin: "http://\(authority)")
        if request.method == .post, let pack = try await uploadPack(parsed) { return pack }
        var reply = service.handle(parsed, for: personality)
        if let work = reply.deferred {
            var answered = await work()
            (answered.delay, answered.transport) = (reply.delay, reply.transport)
            reply = answered
        }
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
