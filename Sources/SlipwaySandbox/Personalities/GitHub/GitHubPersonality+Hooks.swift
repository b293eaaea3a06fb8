import Foundation
import SlipwayProviders

/// GitHub's repository hooks (`…/hooks`: list, get, create with a `ping`, delete; admin only —
/// others get 404, as GitHub hides what they may not see) and the signed `push` deliveries a
/// push owes them. GitHub tries a delivery once; redeliveries are a person's decision.
extension GitHubPersonality {
    static let pushEvent = "push"

    func hooks(_ request: SandboxRequest, repository r: SandboxRepository, rest: [String], format: GitHubWireFormat,
               in state: inout WorldState) -> SandboxReply {
        func notFound() -> SandboxReply { .json(404, GitHubWireFormat.error("Not Found", status: 404)) }
        guard r.role == "admin" else { return notFound() }
        switch (request.method, rest.count) {
        case ("GET", 0):
            let (body, link) = GitHubPaging.page(r.hooks.map { format.hook($0, in: r) }, request: request)
            var reply = SandboxReply.json(200, [:])
            reply.body = JSONText.data(body)
            if let link { reply.headers.append(("Link", link)) }
            return reply
        case ("GET", 1):
            guard let hook = r.hooks.first(where: { $0.uuid == rest[0] }) else { return notFound() }
            return .json(200, format.hook(hook, in: r))
        case ("POST", 0):
            guard let body = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any] else {
                return .json(400, GitHubWireFormat.error("Problems parsing JSON", status: 400))
            }
            let config = body["config"] as? [String: Any] ?? [:]
            guard let url = config["url"] as? String, URLComponents(string: url)?.scheme?.hasPrefix("http") == true else {
                return .json(422, ["message": "Validation Failed", "errors": [["resource": "Hook", "code": "custom", "message": "Config must include a valid URL"]],
                                   "documentation_url": "https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook", "status": "422"])
            }
            if let name = body["name"] as? String, name != "web" {
                return .json(422, ["message": "Validation Failed", "errors": [["resource": "Hook", "code": "custom", "message": "Name must be 'web'"]], "status": "422"])
            }
            let events = body["events"] as? [String] ?? [Self.pushEvent]
            // One config per set of events: a second hook to the same URL overlapping these is refused.
            if r.hooks.contains(where: { $0.url == url && !Set($0.events).isDisjoint(with: events) }) {
                return .json(422, ["message": "Validation Failed", "errors": [["resource": "Hook", "code": "custom", "message": "Hook already exists on this repository"]],
                                   "status": "422"])
            }
            hookNumber += 1
            let secret = (config["secret"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            let hook = SandboxHook(uuid: String(hookNumber), url: url, description: "", events: events,
                                   active: body["active"] as? Bool ?? true, secret: secret, createdAt: state.now)
            state.hosts[name]?.repositories[r.fullName]?.hooks.append(hook)
            if let w = world(state).workspaces[r.workspace] {
                let id = state.random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased()
                state.outbox.append(ping(hook, repository: r, owner: w, format: format, user: world(state).user, id: id))
            }
            let location = "\(format.api)/repos/\(r.fullName)/hooks/\(hook.uuid)"
            return .json(201, format.hook(hook, in: r), headers: [("Location", location)])
        case ("DELETE", 1):
            guard let index = r.hooks.firstIndex(where: { $0.uuid == rest[0] }) else { return notFound() }
            state.hosts[name]?.repositories[r.fullName]?.hooks.remove(at: index)
            return SandboxReply(status: 204)
        default:
            return notFound()
        }
    }

    /// `ping`, sent when a hook is made.
    private func ping(_ hook: SandboxHook, repository r: SandboxRepository, owner w: SandboxWorkspace, format: GitHubWireFormat,
                      user: SandboxUser, id: String) -> OutboundDelivery {
        var repository = format.repository(r, owner: w)
        repository.removeValue(forKey: "permissions")
        let body = JSONText.data(["zen": "Keep it logically awesome.", "hook_id": Int(hook.uuid) ?? 0, "hook": format.hook(hook, in: r),
                                  "repository": repository, "sender": ["login": user.nickname, "id": Int(user.accountID) ?? 0, "type": "User"]] as [String: Any])
        return delivery(hook, event: "ping", body: body, id: id)
    }

    private func delivery(_ hook: SandboxHook, event: String, body: Data, id: String) -> OutboundDelivery {
        var headers = [("Content-Type", "application/json"), ("User-Agent", "GitHub-Hookshot/sandbox"), ("X-GitHub-Event", event),
                       ("X-GitHub-Delivery", id), ("X-GitHub-Hook-ID", hook.uuid),
                       ("X-GitHub-Hook-Installation-Target-Type", "repository")]
        if let secret = hook.secret { headers.append(("X-Hub-Signature-256", WebhookSignature.header(body: body, secret: secret))) }
        return OutboundDelivery(url: hook.url, headers: headers, body: body, attempts: 1, attemptHeader: nil)
    }

    /// One signed `push` delivery per active hook on the pushed repository.
    func deliveries(for push: SandboxPush, in state: inout WorldState) -> [OutboundDelivery] {
        let world = world(state)
        guard let repository = world.repositories[push.repository], let owner = world.workspaces[repository.workspace] else { return [] }
        let hooks = repository.hooks.filter { $0.active && $0.events.contains(Self.pushEvent) }
        guard !hooks.isEmpty else { return [] }
        let body = JSONText.data(GitHubWireFormat(origin: origin).pushPayload(push, repository: repository, owner: owner, actor: world.user))
        return hooks.map { delivery($0, event: Self.pushEvent, body: body, id: state.random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased()) }
    }
}
