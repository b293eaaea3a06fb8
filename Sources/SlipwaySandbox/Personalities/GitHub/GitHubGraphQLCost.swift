import Foundation
import GraphQL

/// A query's price by GitHub's published formula: every connection costs one request per parent
/// it is fetched for, assuming each `first`/`last` is reached; the requests divided by 100 and
/// rounded are the points (at least 1). Nodes are the products of the `first`s down to each
/// connection; a query asking for more than 500,000 is refused before it runs.
struct GitHubGraphQLCost: Equatable {
    static let connections: Set<String> = ["repositories", "organizations", "refs", "history"]
    static let nodeLimit = 500_000

    var requests = 0
    var nodes = 0

    var points: Int { max(1, Int((Double(requests) / 100).rounded())) }

    init(document: Document, operationName: String?, variables: [String: Map]) {
        var fragments: [String: SelectionSet] = [:]
        var operation: OperationDefinition?
        for definition in document.definitions {
            if let fragment = definition as? FragmentDefinition { fragments[fragment.name.value] = fragment.selectionSet }
            if let candidate = definition as? OperationDefinition, operation == nil || candidate.name?.value == operationName {
                operation = candidate
            }
        }
        guard let operation else { return }
        walk(operation.selectionSet, multiplier: 1, fragments: fragments, variables: variables, seen: [])
    }

    private mutating func walk(_ set: SelectionSet, multiplier: Int, fragments: [String: SelectionSet], variables: [String: Map], seen: Set<String>) {
        for selection in set.selections {
            switch selection {
            case let field as Field:
                var inner = multiplier
                if Self.connections.contains(field.name.value) {
                    let size = Self.size(field, variables: variables)
                    requests += multiplier
                    inner = multiplier * max(1, size)
                    nodes += inner
                }
                if let child = field.selectionSet { walk(child, multiplier: inner, fragments: fragments, variables: variables, seen: seen) }
            case let fragment as InlineFragment:
                walk(fragment.selectionSet, multiplier: multiplier, fragments: fragments, variables: variables, seen: seen)
            case let spread as FragmentSpread:
                let name = spread.name.value
                guard !seen.contains(name), let body = fragments[name] else { continue }
                walk(body, multiplier: multiplier, fragments: fragments, variables: variables, seen: seen.union([name]))
            default:
                continue
            }
        }
    }

    /// The `first` or `last` a connection asks for (a literal or a variable).
    private static func size(_ field: Field, variables: [String: Map]) -> Int {
        for argument in field.arguments where argument.name.value == "first" || argument.name.value == "last" {
            if let literal = argument.value as? IntValue, let value = Int(literal.value) { return value }
            if let variable = argument.value as? Variable, let value = variables[variable.name.value]?.int { return value }
        }
        return 0
    }
}
