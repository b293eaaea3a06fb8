import Foundation

/// GitLab's project hooks (`…/hooks`: list, get, create, delete; maintainer or above — others get
/// 403) and the `Push Hook` deliveries a push owes them: `X-Gitlab-Token` carries the hook's
/// token verbatim, `Idempotency-Key` names the event across retries, and a push to more than three
/// refs at once would send none (the sandbox pushes one at a time).
extension GitLabPersonality {
    static let pushEvent = "push_events"

    func hooks(_ request: SandboxRequest, repository r: SandboxRepository, owner w: SandboxWorkspace, rest: [String], format: GitLabWireFormat,
               in state: inout WorldState) -> SandboxReply {
        guard GitLabWireFormat.accessLevel(r, in: w) >= 40 else { return .json(403, GitLabWireFormat.error("403 Forbidden")) }
        func notFound() -> SandboxReply { .json(404, GitLabWireFormat.error("404 Not found")) }
        switch (request.method, rest.count) {
        case ("GET", 0):
            return GitLabPaging.offset(r.hooks.map { format.hook($0, projectID: r.number) }, request: request)
        case ("GET", 1):
            guard let hook = r.hooks.first(where: { $0.uuid == rest[0] }) else { return notFound() }
            return .json(200, format.hook(hook, projectID: r.number))
        case ("POST", 0):
            let fields = request.bodyFields
            guard let url = fields["url"] as? String, let scheme = URLComponents(string: url)?.scheme, scheme == "http" || scheme == "https" else {
                return .json(400, ["error": "url is missing"])
            }
            // Only the push hook is modelled: a hook without push events would never deliver here.
            let push = Self.flag(fields["push_events"]) ?? true
            hookNumber += 1
            let token = (fields["token"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            let hook = SandboxHook(uuid: String(hookNumber), url: url, description: fields["name"] as? String ?? fields["description"] as? String ?? "",
                                   events: push ? [Self.pushEvent] : [], active: true, secret: token, createdAt: state.now)
            state.hosts[name]?.repositories[r.fullName]?.hooks.append(hook)
            return .json(201, format.hook(hook, projectID: r.number))
        case ("DELETE", 1):
            guard let index = r.hooks.firstIndex(where: { $0.uuid == rest[0] }) else { return notFound() }
            state.hosts[name]?.repositories[r.fullName]?.hooks.remove(at: index)
            return SandboxReply(status: 204)
        default:
            return notFound()
        }
    }

    static func flag(_ value: Any?) -> Bool? {
        switch value {
        case let b as Bool: b
        case let s as String: s == "true" || s == "1"
        case let n as NSNumber: n.boolValue
        default: nil
        }
    }

    /// One `Push Hook` delivery per hook with push events on the pushed project.
    func deliveries(for push: SandboxPush, in state: inout WorldState) -> [OutboundDelivery] {
        // GitLab touches `last_activity_at` only when the stored one is an hour old.
        if options.bumpUpdatedOn, var pushed = state.hosts[name]?.repositories[push.repository],
           state.now.timeIntervalSince(pushed.activityAt ?? pushed.createdOn) >= 3600 {
            pushed.activityAt = state.now
            state.hosts[name]?.repositories[push.repository] = pushed
        }
        let world = world(state)
        guard let repository = world.repositories[push.repository], let owner = world.workspaces[repository.workspace] else { return [] }
        let hooks = repository.hooks.filter { $0.active && $0.events.contains(Self.pushEvent) }
        guard !hooks.isEmpty else { return [] }
        let body = JSONText.data(GitLabWireFormat(origin: origin).pushPayload(push, repository: repository, owner: owner, actor: world.user))
        let event = state.random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased()
        return hooks.map { hook in
            var headers: [(String, String)] = [("Content-Type", "application/json"), ("User-Agent", "GitLab/17.9.0"),
                                               ("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Instance", origin),
                                               ("X-Gitlab-Webhook-UUID", "00000000-0000-4000-8000-\(String(format: "%012d", Int(hook.uuid) ?? 0))"),
                                               ("X-Gitlab-Event-UUID", event),
                                               ("Idempotency-Key", state.random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased())]
            if let token = hook.secret { headers.append(("X-Gitlab-Token", token)) }
            return OutboundDelivery(url: hook.url, headers: headers, body: body, attempts: 1, attemptHeader: nil)
        }
    }
}
