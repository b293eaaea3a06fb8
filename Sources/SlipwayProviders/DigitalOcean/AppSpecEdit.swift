import Foundation

/// A change to one component of an App Platform app spec, applied to the spec as App Platform
/// returned it, so every field Slipway does not model is sent back untouched (`PUT` takes the
/// whole spec).
public struct AppSpecEdit: Sendable, Equatable {
    public var component: String?
    public var branch: String?
    public var buildCommand: String?
    public var runCommand: String?
    public var environment: [String: String] = [:]
    public var secrets: [String: String] = [:]
    public var unset: [String] = []
    /// `deploy_on_push` of a Bitbucket, GitHub or GitLab source (a `git` source has none).
    public var deployOnPush: Bool?

    public init(component: String? = nil) { self.component = component }

    static let componentKinds = ["services", "workers", "static_sites", "jobs", "functions"]
    static let hostedSources = ["github", "gitlab", "bitbucket"]

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case noComponent(String?, available: [String])
        case ambiguous([String])
        case notASpec
        public var description: String {
            switch self {
            case let .noComponent(name?, available): "the app has no component '\(name)'; its components: \(available.joined(separator: ", "))"
            case let .noComponent(nil, available): "the app has no component to change (\(available.joined(separator: ", ")))"
            case let .ambiguous(names): "the app has several components (\(names.joined(separator: ", "))); name one with --component"
            case .notASpec: "App Platform's spec is not a JSON object"
            }
        }
    }

    /// The spec with this change made.
    public func applied(to json: Data) throws(Problem) -> Data {
        guard var spec = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else { throw .notASpec }
        var names: [String] = []
        var target: (kind: String, index: Int)?
        for kind in Self.componentKinds {
            for (index, item) in ((spec[kind] as? [[String: Any]]) ?? []).enumerated() {
                let name = item["name"] as? String ?? ""
                names.append(name)
                if component == nil || component == name { target = target ?? (kind, index) }
            }
        }
        if component == nil, names.count > 1 { throw .ambiguous(names) }
        guard let target else { throw .noComponent(component, available: names) }
        var items = (spec[target.kind] as? [[String: Any]]) ?? []
        var item = items[target.index]
        for key in Self.hostedSources + ["git"] {
            guard var source = item[key] as? [String: Any] else { continue }
            if let branch { source["branch"] = branch }
            if let deployOnPush, key != "git" { source["deploy_on_push"] = deployOnPush }
            item[key] = source
        }
        if let buildCommand { item["build_command"] = buildCommand.isEmpty ? nil : buildCommand }
        if let runCommand { item["run_command"] = runCommand }
        if !environment.isEmpty || !secrets.isEmpty || !unset.isEmpty {
            var envs = ((item["envs"] as? [[String: Any]]) ?? []).filter { env in
                let key = env["key"] as? String ?? ""
                return !unset.contains(key) && environment[key] == nil && secrets[key] == nil
            }
            for (key, value) in environment.sorted(by: { $0.key < $1.key }) {
                envs.append(["key": key, "value": value, "scope": "RUN_AND_BUILD_TIME", "type": "GENERAL"])
            }
            for (key, value) in secrets.sorted(by: { $0.key < $1.key }) {
                envs.append(["key": key, "value": value, "scope": "RUN_AND_BUILD_TIME", "type": "SECRET"])
            }
            item["envs"] = envs
        }
        items[target.index] = item
        spec[target.kind] = items
        guard let out = try? JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys]) else { throw .notASpec }
        return out
    }
}
