import Foundation
import Hummingbird
import Logging
import NIOCore
import SlipwayProviders

/// Webhook deliveries, one route per provider dialect (`POST /webhooks/bitbucket` …). The
/// payload's repository (name and id together) must resolve to exactly one mirrored repository of
/// the route's provider, and the dialect's proof must verify against a secret of Slipway's hooks
/// on *that* repository; the push is applied to that same row. Bodies over 1 MiB → 413 (a
/// `Content-Length` over it at once); a repeated delivery id → 200, ignored; events that are not
/// pushes → 202; malformed JSON, a missing mandatory delivery id, or a name and id that disagree
/// → 400; unverified → 401 and nothing changes; a push that could not be stored → 503, so the
/// provider retries.
public final class WebhookReceiver: Sendable {
    public static let maxBody = 1 << 20

    /// How long a client may take over a request, and how many may be connected at once.
    public struct Limits: Sendable {
        /// From the connection (or the previous answer) to the end of the request's headers.
        public var headerTimeout: TimeInterval = 5
        /// From the headers to the end of the body.
        public var bodyTimeout: TimeInterval = 20
        /// A kept-alive connection with no request in flight.
        public var idleTimeout: TimeInterval = 30
        /// Connections at once (one accept burst may overshoot it by a few); more wait in the
        /// listen backlog, so a flood of idle connections cannot take the descriptors the engine needs.
        public var maxConnections: Int = Limits.defaultMaxConnections

        public init() {}

        /// A quarter of the descriptors this process may open, at most 256.
        public static var defaultMaxConnections: Int {
            var limit = rlimit()
            guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < 1 << 20 else { return 256 }
            return max(8, min(256, Int(limit.rlim_cur) / 4))
        }
    }

    public let port: Int
    /// Connections open right now and the most seen at once (for `status` and tests).
    public let connections: ConnectionCount
    private let serving: GracefulServing

    private init(port: Int, connections: ConnectionCount, serving: GracefulServing) {
        self.port = port
        self.connections = connections
        self.serving = serving
    }

    public struct Outcome: Sendable, Equatable {
        public var status: Int
        public var text: String
    }

    /// Listens on `host:port` (0 picks a free port).
    public static func start(host: String, port: Int, dialects: [any WebhookDialect], handler: any WebhookHandling, health: (any HealthReporting)? = nil, limits: Limits = Limits(),
                             now: @escaping @Sendable () -> Date = Date.init, logger: Logger = Logger(label: "slipway.webhooks") { _ in SwiftLogNoOpLogHandler() }) async throws -> WebhookReceiver {
        let router = Router()
        if let health {
            router.get(RouterPath(stringLiteral: String(ServerRoutes.health.dropFirst()))) { _, _ -> Response in
                let report = await health.health()
                return Response(status: report.healthy ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: report.json + "\n")))
            }
        }
        for dialect in dialects {
            router.post(RouterPath(stringLiteral: String(dialect.route.dropFirst()))) { request, _ -> Response in
                var request = request
                let outcome: Outcome
                if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maxBody {
                    // Refused before a byte of the body is read.
                    outcome = await refuse(413, "payload too large", handler: handler)
                } else {
                    do {
                        let buffer = try await request.collectBody(upTo: maxBody)
                        var headers: [String: String] = [:]
                        for field in request.headers { headers[field.name.canonicalName] = field.value }
                        outcome = await handle(dialect: dialect, headers: headers, body: Data(buffer.readableBytesView), handler: handler, now: now())
                    } catch {
                        outcome = await refuse(413, "payload too large", handler: handler)
                    }
                }
                var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8"]
                if outcome.status == 413 { headers[.connection] = "close" }
                return Response(status: .init(code: outcome.status), headers: headers,
                                body: .init(byteBuffer: ByteBuffer(string: outcome.text + "\n")))
            }
        }
        let connections = ConnectionCount()
        let started = PortSignal()
        let deadlines = limits
        let app = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [RequestDeadlineHandler(headerTimeout: deadlines.headerTimeout,
                                                                                                   bodyTimeout: deadlines.bodyTimeout)],
                                                idleTimeout: .milliseconds(Int64(limits.idleTimeout * 1000)))),
            configuration: .init(address: .hostname(host, port: port), serverName: nil,
                                 availableConnectionsDelegate: ConnectionCap(limit: limits.maxConnections, count: connections)),
            onServerRunning: { started.set($0.localAddress?.port ?? port) },
            logger: logger)
        let serving = GracefulServing(app)
        let bound = try await started.wait(orFailureOf: serving.task)
        return WebhookReceiver(port: bound, connections: connections, serving: serving)
    }

    public func stop() async {
        await serving.stop()
    }

    private static func refuse(_ status: Int, _ reason: String, handler: any WebhookHandling) async -> Outcome {
        await handler.rejected(reason, status: status)
        return Outcome(status: status, text: reason)
    }

    /// The rules, without a socket (headers lowercased); `now` judges a signature's freshness.
    public static func handle(dialect: any WebhookDialect, headers: [String: String], body: Data, handler: any WebhookHandling,
                              now: Date = Date()) async -> Outcome {
        func refuse(_ status: Int, _ reason: String) async -> Outcome { await Self.refuse(status, reason, handler: handler) }
        guard body.count <= maxBody else { return await refuse(413, "payload too large") }
        guard let named = dialect.repository(in: body) else {
            return await refuse(400, "malformed JSON: no repository named")
        }
        let fullName = named.fullName
        let provider = dialect.provider
        let lookup: WebhookRepositoryLookup
        do {
            lookup = try await handler.repository(provider: provider, named)
        } catch {
            return await refuse(503, "cannot read the mirror now; retry")
        }
        let repositoryID: Int64
        let hooks: [HookSecret]
        switch lookup {
        case .unknown:
            return await refuse(401, "no Slipway hook on \(fullName)")
        case let .conflicting(why):
            return await refuse(400, why)
        case let .found(id, secrets):
            repositoryID = id
            hooks = secrets
        }
        guard !hooks.isEmpty else { return await refuse(401, "no Slipway hook on \(fullName)") }
        guard dialect.hasProof(headers) else { return await refuse(401, "unsigned delivery for \(fullName)") }
        guard let proof = hooks.first(where: { dialect.verifies(body: body, headers: headers, secret: $0.secret, signed: $0.signed, now: now) }) else {
            return await refuse(401, "bad signature for \(fullName)")
        }
        // Verified from here on. Where the provider always sends a delivery id, one without it
        // is not the provider's: a retry could not be told from a new push.
        let deliveryID = dialect.deliveryID(headers)
        if deliveryID == nil, dialect.deliveryIDRequired {
            return await refuse(400, "no \(dialect.deliveryIDHeader) header")
        }
        let event = dialect.eventName(headers) ?? ""
        guard dialect.isPush(event) else {
            do {
                if let deliveryID {
                    if try await handler.isDuplicate(provider: provider, deliveryID: deliveryID) { return Outcome(status: 200, text: "already received") }
                    try await handler.ignored(provider: provider, deliveryID: deliveryID, event: event, repositoryID: repositoryID, hookID: proof.hookID)
                }
            } catch {
                return await refuse(503, "cannot store the delivery now; retry")
            }
            return Outcome(status: 202, text: "ignored: \(event.isEmpty ? "no event name" : event)")
        }
        // A push's delivery id is checked where it is stored, in the same transaction as its
        // change (`apply` answers `.duplicate`): one read fewer for every delivery.
        let push: PushEvent
        do {
            push = try dialect.decodePush(body)
        } catch {
            return await refuse(400, error.description)
        }
        do {
            switch try await handler.apply(push, name: event, repositoryID: repositoryID, hookID: proof.hookID, deliveryID: deliveryID) {
            case .duplicate: return Outcome(status: 200, text: "already received")
            case let .applied(count): return Outcome(status: 200, text: "applied \(count) change\(count == 1 ? "" : "s")")
            }
        } catch {
            return await refuse(503, "the push could not be stored; retry")
        }
    }
}
