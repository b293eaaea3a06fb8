import Foundation
import GraphQL

/// `POST /api/graphql`: the query is parsed and priced under the world's lock (points by GitHub's
/// formula, charged to the user's GraphQL window, the node limit enforced), then runs on a
/// snapshot of the world outside it. Answers are 200 with `data` and/or `errors`, as GitHub's
/// are; an exhausted window answers 200 with a rate-limit error — `RATE_LIMITED` and, every other
/// time, the newer `RATE_LIMIT` shape — and `x-ratelimit-remaining: 0`.
extension GitHubPersonality {
    func graphQL(_ request: SandboxRequest, credential: Credential, in state: inout WorldState) -> SandboxReply {
        func errors(_ list: [[String: Any]], headers: [(String, String)] = []) -> SandboxReply {
            .json(200, ["errors": list], headers: headers)
        }
        guard request.method == "POST" else {
            return .json(404, GitHubWireFormat.error("Not Found", status: 404))
        }
        guard let body = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any], let text = body["query"] as? String else {
            return .json(400, ["message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/graphql"])
        }
        let variables: [String: Map]
        do {
            let raw = body["variables"].flatMap { $0 is NSNull ? nil : $0 } ?? [String: Any]()
            variables = try JSONDecoder().decode([String: Map].self, from: JSONSerialization.data(withJSONObject: raw))
        } catch {
            return errors([["message": "Variables are invalid JSON."]])
        }
        let operationName = body["operationName"] as? String
        let document: Document
        do {
            document = try parse(source: Source(body: text, name: "GraphQL request"))
        } catch {
            return errors([["message": "Parse error: \(error)", "locations": []]])
        }
        let cost = GitHubGraphQLCost(document: document, operationName: operationName, variables: variables)
        guard cost.nodes <= GitHubGraphQLCost.nodeLimit else {
            return errors([["type": "MAX_NODE_LIMIT_EXCEEDED",
                            "message": "This query requests up to \(cost.nodes) possible nodes which exceeds the maximum limit of \(GitHubGraphQLCost.nodeLimit)."]])
        }
        let admitted = state.admit(credential.window, kind: .graphql, on: name, weight: cost.points)
        let resetsAt = state.resetsAt(credential.window, kind: .graphql, on: name)
        let used = state.used(credential.window, kind: .graphql, on: name)
        let remaining = admitted.allowed ? max(0, admitted.limit - used) : 0
        var headers: [(String, String)] = [("X-GitHub-Media-Type", "github.v4; format=json")]
        if admitted.limit > 0 {
            headers += [("x-ratelimit-limit", String(admitted.limit)), ("x-ratelimit-remaining", String(remaining)),
                        ("x-ratelimit-used", String(min(used, admitted.limit))),
                        ("x-ratelimit-reset", String(Int(resetsAt.timeIntervalSince1970.rounded(.up)))), ("x-ratelimit-resource", "graphql")]
        }
        if let scopes = credential.scopes { headers.append(("X-OAuth-Scopes", scopes.joined(separator: ", "))) }
        guard admitted.allowed else {
            graphQLLimited += 1
            let user = world(state).user
            let error: [String: Any] = graphQLLimited % 2 == 1
                ? ["type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID \(user.accountID)."]
                : ["type": "RATE_LIMIT", "code": "graphql_rate_limit", "message": "API rate limit already exceeded for user ID \(user.accountID)."]
            return errors([error], headers: headers)
        }
        let context = GitHubGraphQLContext(world: world(state, for: credential), format: GitHubWireFormat(origin: request.headers["host"].map { "http://" + $0 } ?? origin),
                                           rateLimit: ["cost": cost.points, "limit": admitted.limit, "nodeCount": cost.nodes, "remaining": remaining,
                                                       "resetAt": GitHubWireFormat.time(resetsAt), "used": used])
        var reply = SandboxReply(status: 200, headers: headers)
        let answerHeaders = headers
        reply.deferred = {
            do {
                let result = try await SerialTaskExecutor.run(label: "sandbox.github.graphql") {
                    try await GraphQL.graphql(schema: GitHubGraphQLSchema.shared, request: text, context: context,
                                              variableValues: variables, operationName: operationName)
                }
                let encoded = GraphQLResultText.data(result) ?? (try? JSONEncoder().encode(result)) ?? Data(#"{"errors":[{"message":"unencodable"}]}"#.utf8)
                return SandboxReply(status: 200, headers: [("Content-Type", "application/json; charset=utf-8")] + answerHeaders,
                                    body: result.errors.isEmpty ? encoded : Self.typedErrors(encoded))
            } catch {
                return SandboxReply.json(200, ["errors": [["message": "\(error)"]]], headers: answerHeaders)
            }
        }
        return reply
    }

    /// GitHub names an error's kind in `type` beside its message (`NOT_FOUND` for what does not resolve).
    static func typedErrors(_ body: Data) -> Data {
        guard var object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any], let errors = object["errors"] as? [[String: Any]] else {
            return body
        }
        object["errors"] = errors.map { error -> [String: Any] in
            var typed = error
            if (error["message"] as? String)?.hasPrefix(Resolvers.notFoundPrefix) == true { typed["type"] = "NOT_FOUND" }
            return typed
        }
        return JSONText.data(object)
    }
}
