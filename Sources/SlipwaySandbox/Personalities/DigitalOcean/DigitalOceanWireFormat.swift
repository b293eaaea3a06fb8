import Foundation

/// App Platform's JSON shapes (digitalocean/openapi `models/app.yml`, `apps_deployment.yml`).
struct DigitalOceanWireFormat {
    let origin: String

    static func time(_ date: Date) -> String { GitLabWireFormat.time(date) }

    /// App Platform's log-line time: RFC 3339 with nanoseconds.
    static func nanoTime(_ date: Date) -> String {
        let whole = floor(date.timeIntervalSince1970)
        let nanos = Int((date.timeIntervalSince1970 - whole) * 1_000_000_000)
        let base = time(Date(timeIntervalSince1970: whole))
        let stem = base.hasSuffix("Z") ? String(base.dropLast()) : base
        let seconds = stem.firstIndex(of: ".").map { String(stem[..<$0]) } ?? stem
        return seconds + String(format: ".%09dZ", nanos)
    }

    func account() -> [String: Any] {
        ["email": "sandbox@example.com", "name": "Sandbox User", "uuid": "00000000-0000-4000-8000-00000000d0d0", "email_verified": true,
         "status": "active", "status_message": "", "droplet_limit": 25, "floating_ip_limit": 3,
         "team": ["uuid": "00000000-0000-4000-8000-00000000d0d1", "name": "Sandbox Team"]]
    }

    func component(_ c: SandboxApp.Component) -> [String: Any] {
        var out: [String: Any] = ["name": c.name, "run_command": c.runCommand, "http_port": 8080, "instance_size_slug": "apps-s-1vcpu-0.5gb",
                                  "instance_count": 1]
        if let build = c.buildCommand { out["build_command"] = build }
        if !c.envs.isEmpty { out["envs"] = c.envs }
        out[c.sourceKey] = c.sourceKey == "git" ? ["repo_clone_url": c.repo, "branch": c.branch]
            : ["repo": c.repo, "branch": c.branch, "deploy_on_push": c.deployOnPush]
        return out
    }

    func spec(_ app: SandboxApp) -> [String: Any] {
        ["name": app.name, "region": app.region, "services": app.components.map(component)]
    }

    func app(_ app: SandboxApp) -> [String: Any] {
        let live = "https://\(app.name)-\(app.id.prefix(5)).ondigitalocean.app"
        var out: [String: Any] = ["id": app.id, "owner_uuid": "00000000-0000-4000-8000-00000000d0d0", "spec": spec(app),
                                  "default_ingress": live, "live_url": live, "live_url_base": live, "live_domain": String(live.dropFirst(8)),
                                  "created_at": Self.time(app.createdAt), "updated_at": Self.time(app.deployments.first?.updatedAt ?? app.createdAt),
                                  "region": ["slug": app.region, "label": app.region.uppercased(), "data_centers": [app.region + "1"], "default": false],
                                  "tier_slug": "basic"]
        if let active = app.deployments.first(where: { $0.phase == "ACTIVE" }) { out["active_deployment"] = deployment(active, of: app) }
        if let running = app.deployments.first(where: { !["ACTIVE", "SUPERSEDED", "ERROR", "CANCELED"].contains($0.phase) }) {
            out["in_progress_deployment"] = deployment(running, of: app)
        }
        if let latest = app.deployments.first { out["last_deployment_created_at"] = Self.time(latest.createdAt) }
        return out
    }

    func deployment(_ d: SandboxApp.Deployment, of app: SandboxApp) -> [String: Any] {
        let steps = progress(d, of: app)
        func leaves(_ steps: [[String: Any]]) -> [[String: Any]] {
            steps.flatMap { step in (step["steps"] as? [[String: Any]]).map(leaves) ?? [step] }
        }
        let counted = leaves(steps)
        func count(_ status: String) -> Int { counted.filter { $0["status"] as? String == status }.count }
        return ["id": d.id, "spec": spec(app), "services": app.components.map { ["name": $0.name, "source_commit_hash": d.commit] },
                "phase": d.phase, "phase_last_updated_at": Self.time(d.updatedAt), "created_at": Self.time(d.createdAt),
                "updated_at": Self.time(d.updatedAt), "cause": d.cause,
                "progress": ["pending_steps": count("PENDING"), "running_steps": count("RUNNING"), "success_steps": count("SUCCESS"),
                             "error_steps": count("ERROR"), "total_steps": counted.count, "steps": steps]]
    }

    /// App Platform's progress tree (`build` → `initialize`, `components` → each component;
    /// `deploy` → `initialize`, `components` → each → `deploy`, `wait`; `finalize`), its statuses
    /// from the phase: a failed build fails its components' step with a reason, a cancel stops
    /// the running ones; unset times are the year 1, as App Platform writes them.
    func progress(_ d: SandboxApp.Deployment, of app: SandboxApp) -> [[String: Any]] {
        // How far it got: 0 nothing, 1 building, 2 deploying, 3 done.
        let reached: Int = switch d.phase {
        case "BUILDING": 1
        case "DEPLOYING", "PENDING_DEPLOY": 2
        case "ACTIVE", "SUPERSEDED": 3
        case "ERROR": 1
        case "CANCELED": d.canceledIn
        default: 0
        }
        let stopped = d.phase == "ERROR" || d.phase == "CANCELED"
        func status(_ stage: Int) -> String {
            if stage < reached { return "SUCCESS" }
            if stage == reached { return stopped ? "ERROR" : "RUNNING" }
            return "PENDING"
        }
        let unset = "0001-01-01T00:00:00Z"
        func step(_ name: String, _ status: String, component: String? = nil, message: String? = nil, _ children: [[String: Any]] = []) -> [String: Any] {
            var out: [String: Any] = ["name": name, "status": status,
                                      "started_at": status == "PENDING" ? unset : Self.time(d.createdAt),
                                      "ended_at": status == "SUCCESS" || status == "ERROR" ? Self.time(d.updatedAt) : unset]
            if let component { out["component_name"] = component }
            if let message { out["message_base"] = message }
            if !children.isEmpty { out["steps"] = children }
            if status == "ERROR", children.isEmpty {
                out["reason"] = d.phase == "CANCELED" ? ["code": "Canceled", "message": "the deployment was canceled"]
                    : ["code": "BuildJobExitNonZero", "message": "your build job failed: the build command exited with status 2"]
            }
            return out
        }
        let names = app.components.map(\.name)
        let building = status(1), deploying = status(2)
        let build = step("build", building, [
            step("initialize", reached >= 1 ? "SUCCESS" : "PENDING"),
            step("components", building, names.map { step($0, building, component: $0, message: "Building service") }),
        ])
        let deploy = step("deploy", deploying, [
            step("initialize", reached >= 2 ? "SUCCESS" : "PENDING"),
            step("components", deploying, names.map { name in
                step(name, deploying, component: name, [
                    step("deploy", reached >= 2 && deploying != "ERROR" ? "SUCCESS" : deploying, component: name, message: "Deploying service"),
                    step("wait", deploying, component: name, message: "Waiting for service"),
                ])
            }),
            step("finalize", reached >= 3 ? "SUCCESS" : "PENDING"),
        ])
        return [build, deploy]
    }

    /// `page`/`per_page` (default 20, at most 200), `links.pages` with absolute URLs, `meta.total`.
    func page(_ items: [[String: Any]], key: String, request: SandboxRequest) -> SandboxReply {
        let perPage = min(200, max(1, Int(request.query["per_page"]?.first ?? "") ?? 20))
        let number = max(1, Int(request.query["page"]?.first ?? "") ?? 1)
        let last = max(1, (items.count + perPage - 1) / perPage)
        let slice = Array(items.dropFirst((number - 1) * perPage).prefix(perPage))
        let base = origin + "/" + request.segments.joined(separator: "/")
        func link(_ page: Int) -> String { "\(base)?page=\(page)&per_page=\(perPage)" }
        var pages: [String: Any] = [:]
        if number > 1 { pages["first"] = link(1); pages["prev"] = link(number - 1) }
        if number < last { pages["next"] = link(number + 1); pages["last"] = link(last) }
        return .json(200, [key: slice, "links": ["pages": pages], "meta": ["total": items.count]])
    }
}
