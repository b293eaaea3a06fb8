import Foundation
import Testing
import SlipwayHTTP
import SlipwayProviders
import SlipwaySandbox

/// GitLab's adapter over real loopback HTTP (libcurl) against the sandbox's GitLab personality.
@Suite("GitLab adapter", .timeLimit(.minutes(2)))
struct GitLabAdapterTests {
    @Test("a hook is created with a signing token: GitLab 19 confirms it (signed), an older GitLab ignores it (token only)",
          arguments: ["19.1.0", "17.9.0"])
    func hookSigning(version: String) async throws {
        var options = SandboxOptions()
        options.seed = 12
        options.workspaces = 1
        options.reposPerWorkspace = 1
        options.branchesPerRepo = 1
        options.personalities = [.gitlab]
        options.gitlabVersion = version
        let server = try await SandboxServer.start(options: options)
        defer { Task { await server.stop() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let gitlab = GitLabProvider(apiURL: server.gitlab.apiURL, webURL: server.gitlab.webURL, credential: .bearer(server.service.gitlab.token),
                                    http: HTTPClient(transport: transport))
        let name = try #require(server.service.repositoryNames(on: .gitlab).first { $0.hasPrefix("sandbox-user/") })
        let slug = String(name.split(separator: "/").last!)
        let created = try await gitlab.createHook(workspace: "sandbox-user", repository: slug, url: "http://127.0.0.1:9/webhooks/gitlab",
                                                  secret: "s3cret", events: GitLabWebhookDialect().pushEvents, description: "Slipway")
        let modern = version.hasPrefix("19")
        #expect(created.signed == modern && created.hasSecret)
        let listed = try await gitlab.hooks(workspace: "sandbox-user", repository: slug)
        #expect(listed.map(\.signed) == [modern] && listed.first?.id == created.id)
    }
}
