import Foundation
import SlipwayProviders

/// Bitbucket's webhook subscriptions and the deliveries a push owes them.
extension BitbucketPersonality {
    /// The webhook events the sandbox delivers.
    static let pushEvent = "repo:push"

    /// `2.0/repositories/WORKSPACE/REPO/hooks[/UUID]`: the workspace and repository as given, and what follows `hooks`.
    static func hooksPath(_ s: [String]) -> (workspace: String, repository: String, rest: [String])? {
        guard s.count >= 5, s[0] == "2.0", s[1] == "repositories", s[4] == "hooks" else { return nil }
        return (s[2], s[3], Array(s.dropFirst(5)))
    }

    /// `…/hooks`: list, create (201 with Location), delete (204). Admin only, as on Bitbucket.
    func hooks(_ request: SandboxRequest, path: (workspace: String, repository: String, rest: [String]), in state: inout WorldState) -> SandboxReply {
        let lookup = BitbucketREST(world: world(state), origin: origin)
        guard let w = lookup.workspace(path.workspace) else { return .notFound("No workspace with identifier '\(path.workspace)'.") }
        guard let r = lookup.repository(w, path.repository) else { return .notFound("Repository \(w.slug)/\(path.repository) not found") }
        let format = WireFormat(origin: request.headers["host"].map { "http://" + $0 } ?? origin)
        let fields = request.query["fields"]?.first
        let rest = path.rest
        guard r.role == "admin" else {
            return .json(403, WireFormat.error("You must be an administrator of this repository to manage its webhooks."))
        }
        let base = "\(format.api)/repositories/\(r.fullName)/hooks"
        func render(_ hook: SandboxHook) -> [String: Any] {
            ["type": "webhook_subscription", "uuid": hook.uuid, "url": hook.url, "description": hook.description,
             "subject_type": "repository", "subject": ["type": "repository", "full_name": r.fullName, "uuid": r.uuid],
             "active": hook.active, "events": hook.events, "created_at": WireFormat.microseconds(hook.createdAt),
             "secret_set": hook.secret != nil, "skip_cert_verification": false, "source": NSNull(), "read_only": NSNull(),
             "history_enabled": true, "links": ["self": WireFormat.link("\(base)/\(WireFormat.escape(hook.uuid))")]]
        }
        switch (request.method, rest.count) {
        case ("GET", 0):
            let object = Paging.listPage(items: r.hooks.map(render), query: request.query, requestURL: request.url, defaultPagelen: 10)
            return .json(200, FieldFilter.apply(fields, to: object))
        case ("GET", 1):
            guard let hook = r.hooks.first(where: { $0.uuid == rest[0] }) else { return .notFound("Webhook \(rest[0]) not found") }
            return .json(200, render(hook))
        case ("POST", 0):
            guard let body = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any],
                  let url = body["url"] as? String, let events = body["events"] as? [String], !events.isEmpty else {
                return .json(400, WireFormat.error("Bad request", detail: "url and at least one event are required"))
            }
            guard URLComponents(string: url)?.scheme?.hasPrefix("http") == true else {
                return .json(400, WireFormat.error("Invalid URL", detail: "\(url) is not an http(s) URL"))
            }
            let secret = (body["secret"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            if let secret, secret.count > 128 { return .json(400, WireFormat.error("The secret is longer than 128 characters")) }
            let hook = SandboxHook(uuid: state.random.uuid(), url: url, description: body["description"] as? String ?? "",
                                   events: events, active: body["active"] as? Bool ?? true, secret: secret, createdAt: state.now)
            state.hosts[name]?.repositories[r.fullName]?.hooks.append(hook)
            return .json(201, render(hook), headers: [("Location", "\(base)/\(WireFormat.escape(hook.uuid))")])
        case ("DELETE", 1):
            guard let index = r.hooks.firstIndex(where: { $0.uuid == rest[0] }) else { return .notFound("Webhook \(rest[0]) not found") }
            state.hosts[name]?.repositories[r.fullName]?.hooks.remove(at: index)
            return SandboxReply(status: 204)
        default:
            return .json(405, WireFormat.error("Method \(request.method) is not allowed here"))
        }
    }

    /// One signed `repo:push` delivery per active hook on the pushed repository.
    func deliveries(for push: SandboxPush, in state: inout WorldState) -> [OutboundDelivery] {
        let world = world(state)
        guard let repository = world.repositories[push.repository], let workspace = world.workspaces[repository.workspace] else { return [] }
        let hooks = repository.hooks.filter { $0.active && $0.events.contains(Self.pushEvent) }
        guard !hooks.isEmpty else { return [] }
        let object = WireFormat(origin: origin).pushPayload(push, repository: repository, workspace: workspace, actor: world.user)
        let body = JSONText.data(object)
        return hooks.map { hook in
            // The request id stays the same across attempts (receivers deduplicate on it).
            let requestUUID = state.random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}"))
            var headers = [("Content-Type", "application/json"), ("User-Agent", "Bitbucket-Webhooks/2.0"), ("X-Event-Key", Self.pushEvent),
                           ("X-Hook-UUID", hook.uuid), ("X-Request-UUID", requestUUID)]
            if let secret = hook.secret { headers.append(("X-Hub-Signature", WebhookSignature.header(body: body, secret: secret))) }
            // Bitbucket tries a delivery up to three times, numbering the attempts.
            return OutboundDelivery(url: hook.url, headers: headers, body: body, attempts: 3, attemptHeader: "X-Attempt-Number")
        }
    }
}
