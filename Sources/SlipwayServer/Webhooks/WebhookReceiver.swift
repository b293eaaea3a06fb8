import Foundation
import Hummingbird
import Logging
import SlipwayProviders

/// What the receiver needs from the rest of Slipway (the CLI wires it to the store and vault):
/// hook secrets, delivery bookkeeping, and where a verified push goes.
public protocol WebhookHandling: Sendable {
    /// The secrets of Slipway's hooks on a repository (by full name, or uuid); empty when unknown.
    /// Read at each delivery, so a hook another process installed a moment ago verifies at once.
    func secrets(repositoryFullName: String, uuid: String?) async -> [String]
    /// Records a delivery id; false when it was seen before.
    func firstDelivery(requestUUID: String, eventKey: String) async -> Bool
    /// A verified `repo:push`: write the new heads now, queue a confirming fetch.
    func apply(_ event: BitbucketPushEvent, requestUUID: String?) async
    /// Why a delivery was refused (for the log; never a secret). `repository` names the repository
    /// when the delivery was for one Slipway knows a hook on, so its health can show the failure.
    func rejected(_ reason: String, status: Int, repository: (fullName: String, uuid: String?)?) async
}

/// Bitbucket's webhook deliveries on `POST /webhooks/bitbucket`: accepted only when
/// `X-Hub-Signature` verifies against a hook secret of that repository; bodies over 1 MiB → 413;
/// a repeated `X-Request-UUID` → 200, ignored; events other than `repo:push` → 202, ignored;
/// malformed JSON → 400. A valid push is handed on at once and answered 200.
public final class WebhookReceiver: Sendable {
    public static let maxBody = 1 << 20

    public let port: Int
    private let serverTask: Task<Void, any Error>

    private init(port: Int, serverTask: Task<Void, any Error>) {
        self.port = port
        self.serverTask = serverTask
    }

    public struct Outcome: Sendable, Equatable {
        public var status: Int
        public var text: String
    }

    /// Listens on `host:port` (0 picks a free port).
    public static func start(host: String, port: Int, handler: any WebhookHandling) async throws -> WebhookReceiver {
        let router = Router()
        router.post(RouterPath(stringLiteral: String(ServerRoutes.bitbucketWebhook.dropFirst()))) { request, _ -> Response in
            var request = request
            let outcome: Outcome
            do {
                let buffer = try await request.collectBody(upTo: maxBody)
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName] = field.value }
                outcome = await handle(headers: headers, body: Data(buffer: buffer), handler: handler)
            } catch {
                await handler.rejected("body over \(maxBody) bytes", status: 413, repository: nil)
                outcome = Outcome(status: 413, text: "payload too large")
            }
            return Response(status: .init(code: outcome.status), headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: outcome.text + "\n")))
        }
        let started = PortSignal()
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
                              onServerRunning: { started.set($0.localAddress?.port ?? port) },
                              logger: Logger(label: "slipway.webhooks") { _ in SwiftLogNoOpLogHandler() })
        let task = Task { try await app.run() }
        let bound = try await started.wait(orFailureOf: task)
        return WebhookReceiver(port: bound, serverTask: task)
    }

    public func stop() async {
        serverTask.cancel()
        _ = await serverTask.result
    }

    /// Just enough of any delivery to find its repository's secrets.
    private struct Named: Decodable {
        struct Repository: Decodable {
            var full_name: String
            var uuid: String?
        }
        var repository: Repository
    }

    /// The rules, without a socket (headers lowercased).
    public static func handle(headers: [String: String], body: Data, handler: any WebhookHandling) async -> Outcome {
        func refuse(_ status: Int, _ reason: String, repository: (fullName: String, uuid: String?)? = nil) async -> Outcome {
            await handler.rejected(reason, status: status, repository: repository)
            return Outcome(status: status, text: reason)
        }
        guard body.count <= maxBody else { return await refuse(413, "payload too large") }
        guard let named = try? JSONDecoder().decode(Named.self, from: body) else {
            return await refuse(400, "malformed JSON: no repository.full_name")
        }
        let fullName = named.repository.full_name
        let uuid = named.repository.uuid
        let secrets = await handler.secrets(repositoryFullName: fullName, uuid: uuid)
        // Only a repository with a hook of ours has health to mark.
        let known = secrets.isEmpty ? nil : (fullName: fullName, uuid: uuid)
        let signature = headers["x-hub-signature"]
        guard signature != nil else { return await refuse(401, "unsigned delivery for \(fullName)", repository: known) }
        guard secrets.contains(where: { WebhookSignature.isValid(body: body, header: signature, secret: $0) }) else {
            return await refuse(401, secrets.isEmpty ? "no Slipway hook on \(fullName)" : "bad signature for \(fullName)", repository: known)
        }
        let eventKey = headers["x-event-key"] ?? ""
        if let requestUUID = headers["x-request-uuid"], !(await handler.firstDelivery(requestUUID: requestUUID, eventKey: eventKey)) {
            return Outcome(status: 200, text: "already received")
        }
        guard eventKey == "repo:push" else { return Outcome(status: 202, text: "ignored: \(eventKey.isEmpty ? "no event key" : eventKey)") }
        let event: BitbucketPushEvent
        do {
            event = try BitbucketPushEvent.decode(body)
        } catch {
            return await refuse(400, error.description, repository: known)
        }
        await handler.apply(event, requestUUID: headers["x-request-uuid"])
        return Outcome(status: 200, text: "applied \(event.changes.count) change\(event.changes.count == 1 ? "" : "s")")
    }
}
