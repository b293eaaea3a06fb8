import Foundation
import Testing
@testable import SlipwaySandbox

/// The DigitalOcean personality's shapes against App Platform's documented examples (the
/// project's fixtures): nothing invented at the top of an app or a deployment, nothing essential
/// left out; pages with absolute links; DO's error envelope.
@Suite("Sandbox DigitalOcean personality")
struct DigitalOceanPersonalityTests {
    static func fixture(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/digitalocean/\(name)"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func service() throws -> SandboxService {
        var options = SandboxOptions()
        options.personalities = [.digitalocean]
        options.appPlatformApps = 5
        return try SandboxService(options: options)
    }

    func get(_ service: SandboxService, _ path: String, token: String? = nil) throws -> (status: Int, json: [String: Any]) {
        let reply = service.respond(method: "GET", url: "http://127.0.0.1:7100\(path)",
                                    headers: ["Authorization": "Bearer \(token ?? service.digitalocean.token)"], body: Data(), as: .digitalocean)
        return (reply.status, try JSONSerialization.jsonObject(with: reply.body) as? [String: Any] ?? [:])
    }

    @Test("apps and deployments carry the documented keys and no others; pages link absolutely and count the total")
    func shapes() throws {
        let service = try service()
        let documentedApp = try #require((try Self.fixture("apps_list.json")["apps"] as? [[String: Any]])?.first)
        let documentedDeployment = try #require((try Self.fixture("deployments_list.json")["deployments"] as? [[String: Any]])?.first)
        let page = try get(service, "/v2/apps?per_page=2")
        #expect(page.status == 200 && (page.json["meta"] as? [String: Any])?["total"] as? Int == 5)
        let next = try #require(((page.json["links"] as? [String: Any])?["pages"] as? [String: Any])?["next"] as? String)
        #expect(next == "http://127.0.0.1:7100/v2/apps?page=2&per_page=2")
        let app = try #require((page.json["apps"] as? [[String: Any]])?.first)
        let extraApp = Set(app.keys).subtracting(documentedApp.keys).subtracting(["in_progress_deployment"])
        #expect(extraApp.isEmpty, "keys App Platform does not document: \(extraApp)")
        for key in ["id", "spec", "active_deployment", "live_url", "region", "created_at", "updated_at", "last_deployment_created_at"] {
            #expect(app[key] != nil, "\(key)")
        }
        let id = try #require(app["id"] as? String)
        let deployments = try get(service, "/v2/apps/\(id)/deployments")
        let deployment = try #require((deployments.json["deployments"] as? [[String: Any]])?.first)
        let extraDeployment = Set(deployment.keys).subtracting(documentedDeployment.keys)
        #expect(extraDeployment.isEmpty, "keys App Platform does not document: \(extraDeployment)")
        #expect(deployment["phase"] as? String == "ACTIVE" && (deployment["services"] as? [[String: Any]])?.first?["source_commit_hash"] is String)
        #expect(try get(service, "/v2/apps/\(id)/deployments/\(deployment["id"] as! String)").status == 200)
    }

    @Test("a wrong token and an unknown app answer in DO's error envelope")
    func errors() throws {
        let service = try service()
        let documented = try Self.fixture("error_429.json")
        let unauthorized = try get(service, "/v2/account", token: "dop_v1_nope")
        #expect(unauthorized.status == 401 && unauthorized.json["id"] as? String == "unauthorized" && unauthorized.json["request_id"] is String)
        let missing = try get(service, "/v2/apps/00000000-0000-0000-0000-000000000000")
        #expect(missing.status == 404 && missing.json["id"] as? String == "not_found")
        #expect(Set(documented.keys).isSubset(of: Set(missing.json.keys)))
    }

    @Test("a new deployment builds the head and steps through the phases on the sandbox's clock; the earlier ACTIVE one is superseded; cancel stops one")
    func deploymentsProgress() throws {
        let clock = ManualClock()
        var options = SandboxOptions()
        options.personalities = [.digitalocean]
        options.appPlatformApps = 1
        options.appPlatformPhaseSeconds = 2
        let service = try SandboxService(options: options, now: { clock.now })
        func call(_ method: String, _ path: String) throws -> (status: Int, json: [String: Any]) {
            let reply = service.respond(method: method, url: "http://127.0.0.1:7100\(path)", headers: ["Authorization": "Bearer \(service.digitalocean.token)"],
                                        body: Data("{}".utf8), as: .digitalocean)
            return (reply.status, try JSONSerialization.jsonObject(with: reply.body) as? [String: Any] ?? [:])
        }
        let app = try #require((try call("GET", "/v2/apps").json["apps"] as? [[String: Any]])?.first)
        let id = try #require(app["id"] as? String)
        let previous = try #require((app["active_deployment"] as? [String: Any])?["id"] as? String)
        let created = try #require(try call("POST", "/v2/apps/\(id)/deployments").json["deployment"] as? [String: Any])
        let deployment = try #require(created["id"] as? String)
        func phase(_ id: String) throws -> String? { (try call("GET", "/v2/apps/\(app["id"] as! String)/deployments/\(id)").json["deployment"] as? [String: Any])?["phase"] as? String }
        #expect(created["phase"] as? String == "PENDING_BUILD")
        clock.advance(2.5)
        #expect(try phase(deployment) == "BUILDING")
        let inProgress = try #require(try call("GET", "/v2/apps/\(id)").json["app"] as? [String: Any])
        #expect((inProgress["in_progress_deployment"] as? [String: Any])?["id"] as? String == deployment)
        clock.advance(2)
        #expect(try phase(deployment) == "DEPLOYING")
        clock.advance(2)
        #expect(try phase(deployment) == "ACTIVE" && (try phase(previous)) == "SUPERSEDED")
        let second = try #require((try call("POST", "/v2/apps/\(id)/deployments").json["deployment"] as? [String: Any])?["id"] as? String)
        #expect(try call("POST", "/v2/apps/\(id)/deployments/\(second)/cancel").status == 200)
        #expect(try phase(second) == "CANCELED")
        #expect(try call("POST", "/v2/apps/\(id)/deployments/\(second)/cancel").status == 400)
    }
}
