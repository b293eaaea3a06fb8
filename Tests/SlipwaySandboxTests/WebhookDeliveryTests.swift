import Foundation
import Testing
import SlipwayHTTP
import SlipwayProviders
@testable import SlipwaySandbox

/// A receiver that answers from a script and keeps every request it got.
final class ScriptedReceiver: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var script: [Int]
    private(set) var requests: [HTTPRequest] = []

    init(answers: [Int]) { script = answers }

    var received: [HTTPRequest] { lock.withLock { requests } }

    func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        let status = lock.withLock { () -> Int in
            requests.append(request)
            return script.isEmpty ? 200 : script.removeFirst()
        }
        return HTTPResponse(status: status, url: request.url)
    }
}

@Suite("Sandbox webhook deliveries", .timeLimit(.minutes(3)))
struct WebhookDeliveryTests {
    static let secret = "s3cret-for-tests"

    /// A sandbox whose deliveries go to `receiver`, with one hook on an administered repository.
    static func sandbox(receiver: ScriptedReceiver, secret: String? = secret) throws -> (SandboxService, String) {
        var options = SandboxOptions()
        options.seed = 11
        options.workspaces = 1
        options.reposPerWorkspace = 3
        options.branchesPerRepo = 3
        let service = try SandboxService(options: options, webhookTransport: { receiver })
        let workspace = service.workspaceSlugs()[0]
        let repository = "\(workspace)/\(service.repositorySlugs(workspace: workspace)[0])"
        var body: [String: Any] = ["url": "http://127.0.0.1:9/webhooks/bitbucket", "events": ["repo:push"], "active": true, "description": "tests"]
        if let secret { body["secret"] = secret }
        let created = service.respond(method: "POST", url: "http://127.0.0.1:1/2.0/repositories/\(repository)/hooks",
                                      headers: ["Authorization": "Bearer \(service.bitbucket.accessToken)", "Content-Type": "application/json"],
                                      body: try JSONSerialization.data(withJSONObject: body))
        #expect(created.status == 201)
        return (service, repository)
    }

    @Test("each push sends a signed repo:push delivery with Bitbucket's headers, and the payload decodes as the push")
    func signedDelivery() async throws {
        let receiver = ScriptedReceiver(answers: [])
        let (service, repository) = try Self.sandbox(receiver: receiver)
        let push = try #require(service.push(repository: repository))
        await service.webhooks.drain()

        let request = try #require(receiver.received.first)
        #expect(receiver.received.count == 1)
        #expect(request.method == .post)
        #expect(request.url == "http://127.0.0.1:9/webhooks/bitbucket")
        #expect(request.headers["X-Event-Key"] == "repo:push")
        #expect(request.headers["X-Attempt-Number"] == "1")
        #expect(request.headers["X-Hook-UUID"]?.hasPrefix("{") == true)
        #expect(request.headers["X-Request-UUID"]?.count == 36)
        let body = try #require(request.body)
        #expect(WebhookSignature.isValid(body: body, header: request.headers["X-Hub-Signature"], secret: Self.secret))
        #expect(!WebhookSignature.isValid(body: body, header: request.headers["X-Hub-Signature"], secret: "another"))

        let event = try BitbucketWebhookDialect().decodePush(body)
        #expect(event.repositoryFullName == repository)
        let change = try #require(event.changes.first)
        #expect(change.branch == push.branch)
        #expect(change.newHead?.hash == push.new)
        #expect(change.oldHash == push.old)
        #expect(change.created == (push.kind == .branchCreated))
        #expect(change.closed == (push.kind == .branchDeleted))
        #expect(service.webhooks.statistics == .init(delivered: 1, failed: 0, attempts: 1, retries: 0))
    }

    @Test("a burst of deliveries goes out in order, at most the sender's workers at once, every one delivered")
    func boundedWorkers() async throws {
        final class SlowReceiver: HTTPTransport, @unchecked Sendable {
            let lock = NSLock()
            var now = 0, most = 0
            var order: [String] = []
            func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
                lock.withLock {
                    now += 1
                    most = max(most, now)
                    order.append(request.url)
                }
                try await Task.sleep(nanoseconds: 200_000)
                lock.withLock { now -= 1 }
                return HTTPResponse(status: 200, url: request.url)
            }
        }
        let receiver = SlowReceiver()
        let sender = WebhookSender(makeTransport: { receiver })
        let urls = (0..<500).map { "http://127.0.0.1:9/\($0)" }
        for chunk in stride(from: 0, to: urls.count, by: 50) {
            sender.send(urls[chunk..<chunk + 50].map { OutboundDelivery(url: $0, headers: [], body: Data(), attempts: 1, attemptHeader: nil) })
        }
        await sender.drain()
        #expect(sender.statistics.delivered == 500 && sender.statistics.failed == 0)
        #expect(receiver.most <= WebhookSender.maxParallel && receiver.most > 1)
        // Taken in order: each starts no later than the workers' width after its turn.
        let position = Dictionary(uniqueKeysWithValues: receiver.order.enumerated().map { ($1, $0) })
        #expect(urls.enumerated().allSatisfy { abs(position[$1]! - $0) <= WebhookSender.maxParallel })
    }

    @Test("a 5xx is retried at most twice more with the same request id; a 4xx is not retried")
    func retries() async throws {
        let receiver = ScriptedReceiver(answers: [500, 503, 200, 500, 500, 500, 401])
        let (service, repository) = try Self.sandbox(receiver: receiver)
        service.push(repository: repository)
        await service.webhooks.drain()
        var requests = receiver.received
        #expect(requests.map { $0.headers["X-Attempt-Number"] } == ["1", "2", "3"])
        #expect(Set(requests.compactMap { $0.headers["X-Request-UUID"] }).count == 1)
        #expect(service.webhooks.statistics == .init(delivered: 1, failed: 0, attempts: 3, retries: 2))

        service.push(repository: repository)   // three 500s: given up
        await service.webhooks.drain()
        service.push(repository: repository)   // 401: refused, not retried
        await service.webhooks.drain()
        requests = receiver.received
        #expect(requests.count == 7)
        #expect(service.webhooks.statistics == .init(delivered: 1, failed: 2, attempts: 7, retries: 4))
    }

    @Test("a hook without a secret sends unsigned deliveries; other repositories' pushes send none")
    func unsignedAndScoped() async throws {
        let receiver = ScriptedReceiver(answers: [])
        let (service, repository) = try Self.sandbox(receiver: receiver, secret: nil)
        let other = service.repositoryNames().first { $0 != repository }!
        service.push(repository: other)
        await service.webhooks.drain()
        #expect(receiver.received.isEmpty)
        service.push(repository: repository)
        await service.webhooks.drain()
        #expect(receiver.received.count == 1)
        #expect(receiver.received.first?.headers["X-Hub-Signature"] == nil)
    }

    @Test("the control API's pushes deliver too")
    func controlPushes() async throws {
        let receiver = ScriptedReceiver(answers: [])
        let (service, repository) = try Self.sandbox(receiver: receiver)
        var pushed = 0
        while receiver.received.isEmpty && pushed < 200 {
            _ = service.respond(method: "POST", url: "http://127.0.0.1:1/_sandbox/control", headers: [:], body: Data(#"{"push": 5}"#.utf8))
            pushed += 5
            await service.webhooks.drain()
        }
        let body = try #require(receiver.received.first?.body)
        #expect(try BitbucketWebhookDialect().decodePush(body).repositoryFullName == repository)
    }
}
