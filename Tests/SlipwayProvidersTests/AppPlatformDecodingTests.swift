import Foundation
import Testing
import SlipwayHTTP
@testable import SlipwayProviders

/// A transport no request should reach.
private struct Unreachable: HTTPTransport {
    func perform(_ request: HTTPRequest) async throws -> HTTPResponse { throw HTTPError.invalidURL(request.url) }
}

/// App Platform's documented payloads (fixtures from the OpenAPI examples) as the client reads them.
@Suite("App Platform decoding")
struct AppPlatformDecodingTests {
    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/digitalocean/\(name)"))
    }

    @Test("the documented apps page: the app, its public git source, its active deployment's phase and commit, no next page")
    func appsPage() throws {
        let page = try JSONDecoder().decode(AppPlatformWire.AppsPage.self, from: Self.fixture("apps_list.json"))
        let app = AppPlatformClient.app(try #require(page.apps?.first))
        #expect(app.name == "sample-php" && app.components.map(\.name) == ["sample-php"])
        #expect(app.components.first?.source == .git(cloneURL: "https://github.com/digitalocean/sample-php.git", branch: "main"))
        #expect(app.active?.phase == "ACTIVE" && app.active?.commits["sample-php"]?.count == 40)
        #expect(app.liveURL?.hasPrefix("https://") == true && page.links?.pages?.next == nil)
    }

    @Test("the documented deployments page: phase, cause, times and each component's commit")
    func deploymentsPage() throws {
        let page = try JSONDecoder().decode(AppPlatformWire.DeploymentsPage.self, from: Self.fixture("deployments_list.json"))
        let deployment = AppPlatformClient.deployment(try #require(page.deployments?.first))
        #expect(!deployment.id.isEmpty && !deployment.phase.isEmpty && deployment.createdAt != nil)
        #expect(deployment.commits.values.allSatisfy { $0.count == 40 })
    }

    @Test("the documented deployment: its progress tree (build → initialize, components → web; deploy → … → deploy, wait; finalize), every status, unset times as none")
    func progressTree() throws {
        let envelope = try JSONDecoder().decode(AppPlatformWire.DeploymentEnvelope.self, from: Self.fixture("deployment_get.json"))
        let deployment = AppPlatformClient.deployment(envelope.deployment)
        #expect(deployment.steps.map(\.name) == ["build", "deploy"])
        let build = try #require(deployment.steps.first)
        #expect(build.steps.map(\.name) == ["initialize", "components"] && build.steps[1].steps.map(\.component) == ["web"])
        let deploy = deployment.steps[1]
        #expect(deploy.steps.map(\.name) == ["initialize", "components", "finalize"])
        #expect(deploy.steps[1].steps.first?.steps.map(\.name) == ["deploy", "wait"])
        #expect(build.status == .pending && build.startedAt == nil && build.endedAt == nil)
        // A step as App Platform writes it once it ran: times, and the year 1 for none.
        let ran = AppPlatformClient.step(.init(name: "build", status: "ERROR", component_name: "web", reason: .init(code: "BuildJobExitNonZero", message: "exit 2"),
                                               started_at: "2026-12-01T10:00:00Z", ended_at: "0001-01-01T00:00:00Z", steps: nil))
        #expect(ran.status == .error && ran.reason == "exit 2" && ran.startedAt != nil && ran.endedAt == nil)
        #expect(AppPlatformClient.step(.init(name: "x", status: "SOMETHING_NEW")).status == .unknown)
    }

    @Test("a spec edit changes one component and sends every other field back untouched; several components need one named")
    func specEdit() throws {
        let spec = Data(#"{"name":"shop","region":"ams","alerts":[{"rule":"DEPLOYMENT_FAILED"}],"services":[{"name":"web","bitbucket":{"repo":"acme/api","branch":"main","deploy_on_push":true},"run_command":"./run.sh","envs":[{"key":"OLD","value":"1"},{"key":"KEEP","value":"k"}],"health_check":{"http_path":"/healthz"}}]}"#.utf8)
        var edit = AppSpecEdit()
        edit.branch = "release"
        edit.runCommand = "./serve.sh"
        edit.environment = ["LEVEL": "2"]
        edit.secrets = ["TOKEN": "s3cret"]
        edit.unset = ["OLD"]
        edit.deployOnPush = false
        let out = try #require(try JSONSerialization.jsonObject(with: try edit.applied(to: spec)) as? [String: Any])
        let web = try #require((out["services"] as? [[String: Any]])?.first)
        #expect((web["bitbucket"] as? [String: Any])?["branch"] as? String == "release" && (web["bitbucket"] as? [String: Any])?["deploy_on_push"] as? Bool == false)
        #expect(web["run_command"] as? String == "./serve.sh" && (web["health_check"] as? [String: Any])?["http_path"] as? String == "/healthz")
        let envs = (web["envs"] as? [[String: Any]] ?? []).map { "\($0["key"] ?? ""):\($0["type"] ?? "-")" }
        #expect(envs == ["KEEP:-", "LEVEL:GENERAL", "TOKEN:SECRET"], "\(envs)")
        #expect((out["alerts"] as? [[String: Any]])?.first?["rule"] as? String == "DEPLOYMENT_FAILED" && out["region"] as? String == "ams")
        let two = Data(#"{"name":"x","services":[{"name":"web"}],"workers":[{"name":"jobs"}]}"#.utf8)
        #expect(throws: AppSpecEdit.Problem.ambiguous(["web", "jobs"])) { try AppSpecEdit().applied(to: two) }
        #expect(throws: AppSpecEdit.Problem.noComponent("api", available: ["web", "jobs"])) { try AppSpecEdit(component: "api").applied(to: two) }
        #expect(try AppSpecEdit(component: "jobs").applied(to: two).count > 0)
    }

    @Test("the descriptor: a deploy target linked by token, both windows, the API at its origin")
    func descriptor() throws {
        let entry = try #require(ProviderRegistry.descriptor(for: .digitalocean))
        #expect(entry.kind.accountKind == .deploy && entry.linkMethods == [.token] && entry.webhookDialect == nil)
        #expect(entry.restRequestsPerHour == 5000 && entry.restRequestsPerMinute == 250)
        #expect(entry.apiURLProblem("https://api.digitalocean.com") == nil && entry.apiURLProblem("https://api.digitalocean.com/v2") != nil)
        let made = entry.make(ProviderConnection(apiURL: "https://api.digitalocean.com", webURL: "https://cloud.digitalocean.com", credential: .bearer("t"),
                                                 http: HTTPClient(transport: Unreachable())))
        #expect(made is AppPlatformClient && entry.makeGitProvider(ProviderConnection(apiURL: "", webURL: "", credential: .none, http: HTTPClient(transport: Unreachable()))) == nil)
    }
}
