import Foundation
import Testing
import SlipwayHTTP
import SlipwayProviders
import SlipwaySandbox

/// The App Platform client over real loopback HTTP (libcurl) against the sandbox's DigitalOcean
/// personality: the account, every app over several pages with its components' sources and
/// deployments, and the per-minute window's 429.
@Suite("App Platform client", .timeLimit(.minutes(2)))
struct AppPlatformClientTests {
    static func start(_ configure: (inout SandboxOptions) -> Void = { _ in }) async throws -> SandboxServer {
        var options = SandboxOptions()
        options.personalities = [.digitalocean]
        configure(&options)
        return try await SandboxServer.start(options: options)
    }

    func client(_ server: SandboxServer, http: HTTPClient, token: String? = nil) -> AppPlatformClient {
        AppPlatformClient(apiURL: server.digitalocean.apiURL, webURL: server.digitalocean.webURL,
                          credential: .bearer(token ?? server.service.digitalocean.token), http: http, budgetCredential: "account:9")
    }

    @Test("the account, and 250 apps over two pages of 200, each with its source and its active deployment's commit")
    func accountAndApps() async throws {
        let server = try await Self.start { $0.appPlatformApps = 250; $0.deploymentsPerApp = 2 }
        defer { Task { await server.stop() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let platform = client(server, http: HTTPClient(transport: transport))
        let user = try await platform.currentUser()
        #expect(user.username == "sandbox@example.com" && user.displayName == "Sandbox Team" && !user.id.isEmpty)
        #expect(try await platform.primaryEmail() == "sandbox@example.com")
        let apps = try await platform.apps()
        #expect(apps.count == 250 && Set(apps.map(\.id)).count == 250)
        #expect(apps.allSatisfy { $0.active?.phase == "ACTIVE" && $0.components.count == 1 && $0.region != nil })
        #expect(apps.contains { if case .hosted(.bitbucket, _, _, true) = $0.components[0].source { true } else { false } })
        #expect(apps.contains { if case .git = $0.components[0].source { true } else { false } })
        let deployments = try await platform.deployments(appID: apps[0].id)
        #expect(deployments.count == 2 && deployments.first?.id == apps[0].active?.id && deployments.last?.phase == "SUPERSEDED")
        let stats = server.service.respond(method: "GET", url: server.digitalocean.origin + "/_sandbox/stats", headers: [:], body: Data(), as: .digitalocean)
        let requests = ((try JSONSerialization.jsonObject(with: stats.body) as? [String: Any])?["requests_by_kind"] as? [String: Int])?["rest"]
        #expect(requests == 4, "the account once (the e-mail comes from the same answer), two pages of apps, one page of deployments")
    }

    @Test("a wrong token is rejected; past the minute's window the answer is a JSON 429 with retry-after, which pauses the credential")
    func refusalsAndWindows() async throws {
        // 40 an hour: the minute's window is 2.
        let server = try await Self.start { $0.rateLimits = [.digitalocean: 40] }
        defer { Task { await server.stop() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let rejected = client(server, http: HTTPClient(transport: transport), token: "dop_v1_wrong")
        await #expect(throws: HTTPError.self) { _ = try await rejected.currentUser() }
        var configuration = HTTPClient.Configuration()
        configuration.limits = { _ in BudgetLimits(hourlyAllowance: 100_000, fraction: 1) }
        let platform = client(server, http: HTTPClient(transport: transport, configuration: configuration))
        _ = try await platform.currentUser()
        _ = try await platform.currentUser()
        do {
            _ = try await RequestContext.run(lane: .background, deadline: Date().addingTimeInterval(0.5)) { try await platform.currentUser() }
            Issue.record("the third request of the minute was answered")
        } catch let HTTPError.rateLimited(_, resumeAt) {
            #expect(resumeAt > Date())
        }
    }

    @Test("a running deployment's build log streams over the live_url WebSocket line by line as it is written, closes when the build ends; the archive holds the same lines; neither gets a credential")
    func liveAndArchivedLogs() async throws {
        // The sandbox's App Platform runs on a clock the test moves, so "as written" is exact.
        let clock = MovableNow()
        var options = SandboxOptions()
        options.personalities = [.digitalocean]
        options.appPlatformApps = 1
        options.appPlatformPhaseSeconds = 1.2
        let server = try await SandboxServer.start(options: options, now: { clock.now })
        defer { Task { await server.stop() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let platform = client(server, http: HTTPClient(transport: transport))
        let app = try #require(try await platform.apps().first)
        let started = try await platform.createDeployment(appID: app.id)
        // Half way through the build (it runs from 1.2 s to 2.4 s): some of its lines are written.
        clock.advance(1.8)
        #expect(try await platform.deployment(appID: app.id, id: started.id).phase == "BUILDING")
        let location = try await platform.logs(appID: app.id, deploymentID: started.id, component: nil, type: .build, follow: true)
        let live = try #require(location.liveURL, "no live_url for a build that has not ended")
        #expect(live.hasPrefix("ws://127.0.0.1:") && live.contains("token="))
        var lines: [String] = []
        for try await line in AppPlatformClient.liveLines(live) {
            // The first line came while the build still ran on the sandbox's clock; then it ends.
            if lines.isEmpty { clock.advance(5) }
            lines.append(line)
        }
        #expect(lines.count >= 8 && lines.last?.contains("uploading the built image") == true, "\(lines)")
        #expect(lines.allSatisfy { $0.hasPrefix("web ") && $0.split(separator: " ")[1].hasSuffix("Z") })
        // After the build, the same log from its archive.
        let done = try await platform.logs(appID: app.id, deploymentID: started.id, component: "web", type: .build, follow: true)
        #expect(done.liveURL == nil && done.historicURLs.count == 1)
        let archived = try await platform.archivedLog(try #require(done.historicURLs.first))
        #expect(archived.split(separator: "\n").map(String.init) == lines)
        #expect(server.service.logRequestsWithCredentials == 0)
        // The log host refuses a credential it was sent (so the count above means something).
        var request = HTTPRequest(url: try #require(done.historicURLs.first))
        request.headers.set("Authorization", "Bearer \(server.service.digitalocean.token)")
        #expect(try await transport.perform(request).status == 400 && server.service.logRequestsWithCredentials == 1)
        await #expect(throws: HTTPError.self) {
            _ = try await platform.logs(appID: app.id, deploymentID: "nope", component: nil, type: .build, follow: false)
        }
    }
}

/// A clock for the sandbox that moves only when the test says.
final class MovableNow: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Date(timeIntervalSince1970: 1_800_000_000)
    var now: Date { lock.withLock { value } }
    func advance(_ seconds: TimeInterval) { lock.withLock { value += seconds } }
}
