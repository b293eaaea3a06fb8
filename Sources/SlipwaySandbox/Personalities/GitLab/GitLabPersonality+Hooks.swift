import Crypto
import Foundation
import SlipwayProviders

/// GitLab's project hooks (`…/hooks`: list, get, create, delete; maintainer or above — others get
/// 403) and the `Push Hook` deliveries a push owes them: `X-Gitlab-Token` carries the hook's
/// token verbatim, `Idempotency-Key` names the event across retries, and a push to more than three
/// refs at once would send none (the sandbox pushes one at a time). From 19.0 a hook may carry a
/// `signing_token` (`whsec_` and a base64 32-byte key, never returned; `signing_token_present`
/// says whether one is set), and its deliveries then carry the Standard Webhooks headers
/// `webhook-id` (the `Idempotency-Key`), `webhook-timestamp` and `webhook-signature`.
extension GitLabPersonality {
    static let pushEvent = "push_events"

    /// Whether the release played takes signing tokens (19.0 and later).
    var signingTokens: Bool { (Int(options.gitlabVersion.split(separator: ".").first ?? "") ?? 0) >= 19 }

    func hooks(_ request: SandboxRequest, repository r: SandboxRepository, owner w: SandboxWorkspace, rest: [String], format: GitLabWireFormat,
               in state: inout WorldState) -> SandboxReply {
        guard GitLabWireFormat.accessLevel(r, in: w) >= 40 else { return .json(403, GitLabWireFormat.error("403 Forbidden")) }
        func notFound() -> SandboxReply { .json(404, GitLabWireFormat.error("404 Not found")) }
        switch (request.method, rest.count) {
        case ("GET", 0):
            return GitLabPaging.offset(r.hooks.map { format.hook($0, projectID: r.number, signingTokens: signingTokens) }, request: request)
        case ("GET", 1):
            guard let hook = r.hooks.first(where: { $0.uuid == rest[0] }) else { return notFound() }
            return .json(200, format.hook(hook, projectID: r.number, signingTokens: signingTokens))
        case ("POST", 0):
            let fields = request.bodyFields
            guard let url = fields["url"] as? String, let scheme = URLComponents(string: url)?.scheme, scheme == "http" || scheme == "https" else {
                return .json(400, ["error": "url is missing"])
            }
            // Only the push hook is modelled: a hook without push events would never deliver here.
            let push = Self.flag(fields["push_events"]) ?? true
            var signingKey: Data?
            if signingTokens, let given = fields["signing_token"] as? String, !given.isEmpty {
                guard given.hasPrefix("whsec_"), let key = Data(base64Encoded: String(given.dropFirst("whsec_".count))), key.count == 32 else {
                    return .json(400, ["message": ["signing_token": ["must be a whsec_ prefixed base64-encoded 32-byte key"]]])
                }
                signingKey = key
            }
            hookNumber += 1
            let token = (fields["token"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            let hook = SandboxHook(uuid: String(hookNumber), url: url, description: fields["name"] as? String ?? fields["description"] as? String ?? "",
                                   events: push ? [Self.pushEvent] : [], active: true, secret: token, createdAt: state.now, signingKey: signingKey)
            state.hosts[name]?.repositories[r.fullName]?.hooks.append(hook)
            return .json(201, format.hook(hook, projectID: r.number, signingTokens: signingTokens))
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
        let timestamp = Int(state.now.timeIntervalSince1970)
        return hooks.map { hook in
            let id = state.random.uuid().trimmingCharacters(in: CharacterSet(charactersIn: "{}")).lowercased()
            var headers: [(String, String)] = [("Content-Type", "application/json"), ("User-Agent", "GitLab/\(options.gitlabVersion)"),
                                               ("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Instance", origin),
                                               ("X-Gitlab-Webhook-UUID", "00000000-0000-4000-8000-\(String(format: "%012d", Int(hook.uuid) ?? 0))"),
                                               ("X-Gitlab-Event-UUID", event), ("Idempotency-Key", id)]
            if let token = hook.secret { headers.append(("X-Gitlab-Token", token)) }
            if let key = hook.signingKey {
                headers += [("webhook-id", id), ("webhook-timestamp", String(timestamp)),
                            ("webhook-signature", StandardWebhookSignature.sign(id: id, timestamp: timestamp, body: body, key: SymmetricKey(data: key)))]
            }
            return OutboundDelivery(url: hook.url, headers: headers, body: body, attempts: 1, attemptHeader: nil)
        }
    }
}
