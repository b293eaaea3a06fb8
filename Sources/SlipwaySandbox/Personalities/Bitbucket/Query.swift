import Foundation

/// A basic BBQL (`q=`) subset: `field OP value` clauses joined by `AND` or `OR` (no parentheses).
/// Fields: `name`, `slug`, `full_name`, `updated_on`, `created_on`, `is_private` (repositories) and
/// `name` (branches). Operators: `= != ~ !~ > >= < <=`. Values: "quoted strings", unquoted ISO 8601
/// datetimes, `true`/`false`.
struct Query {
    struct Clause {
        var field: String
        var op: String
        var value: String
        var isQuoted: Bool
    }

    struct ParseError: Error { var text: String }

    var clauses: [Clause]
    /// Between clause i and i+1: "AND" or "OR". AND binds tighter, as in BBQL.
    var joins: [String]

    static func parse(_ text: String) -> Result<Query, ParseError> {
        var tokens: [String] = []
        var current = ""
        var inQuotes = false
        for ch in text {
            if ch == "\"" { inQuotes.toggle(); current.append(ch); continue }
            if ch == " " && !inQuotes {
                if !current.isEmpty { tokens.append(current); current = "" }
            } else {
                current.append(ch)
            }
        }
        if inQuotes { return .failure(ParseError(text: "Invalid query: unterminated string")) }
        if !current.isEmpty { tokens.append(current) }
        // Allow "name~\"x\"" without spaces by splitting operators out.
        var expanded: [String] = []
        let ops = ["!~", "!=", ">=", "<=", "=", "~", ">", "<"]
        for token in tokens {
            if token.hasPrefix("\"") || ["AND", "OR", "and", "or"].contains(token) || ops.contains(token) { expanded.append(token); continue }
            if let op = ops.first(where: { token.contains($0) }), let range = token.range(of: op) {
                let lhs = String(token[..<range.lowerBound]), rhs = String(token[range.upperBound...])
                expanded += [lhs, op, rhs].filter { !$0.isEmpty }
            } else {
                expanded.append(token)
            }
        }
        var clauses: [Clause] = []
        var joins: [String] = []
        var i = 0
        while i < expanded.count {
            guard i + 2 < expanded.count else {
                return .failure(ParseError(text: "Invalid query: expected FIELD OPERATOR VALUE in '\(text)'"))
            }
            let field = expanded[i], op = expanded[i + 1], raw = expanded[i + 2]
            guard ops.contains(op) else { return .failure(ParseError(text: "Invalid query: unknown operator '\(op)'")) }
            guard ["name", "slug", "full_name", "updated_on", "created_on", "is_private", "description"].contains(field) else {
                return .failure(ParseError(text: "Invalid field name: \(field)"))
            }
            let quoted = raw.hasPrefix("\"") && raw.hasSuffix("\"") && raw.count >= 2
            clauses.append(Clause(field: field, op: op, value: quoted ? String(raw.dropFirst().dropLast()) : raw, isQuoted: quoted))
            i += 3
            if i < expanded.count {
                let join = expanded[i].uppercased()
                guard join == "AND" || join == "OR" else { return .failure(ParseError(text: "Invalid query: expected AND or OR, found '\(expanded[i])'")) }
                joins.append(join)
                i += 1
                if i >= expanded.count { return .failure(ParseError(text: "Invalid query: nothing after \(join)")) }
            }
        }
        if clauses.isEmpty { return .failure(ParseError(text: "Invalid query: empty")) }
        return .success(Query(clauses: clauses, joins: joins))
    }

    func matches(repository r: SandboxRepository) -> Bool {
        evaluate { clause in
            switch clause.field {
            case "name": compare(r.name, clause)
            case "slug": compare(r.slug, clause)
            case "full_name": compare(r.fullName, clause)
            case "description": compare(r.description, clause)
            case "is_private": compare(r.isPrivate ? "true" : "false", clause)
            case "updated_on": compare(r.updatedOn, clause)
            case "created_on": compare(r.createdOn, clause)
            default: false
            }
        }
    }

    func matches(branch name: String) -> Bool {
        evaluate { $0.field == "name" ? compare(name, $0) : false }
    }

    /// OR of AND-groups.
    private func evaluate(_ test: (Clause) -> Bool) -> Bool {
        var groupResult = test(clauses[0])
        for (index, join) in joins.enumerated() {
            let next = test(clauses[index + 1])
            if join == "AND" {
                groupResult = groupResult && next
            } else {
                if groupResult { return true }
                groupResult = next
            }
        }
        return groupResult
    }

    private func compare(_ value: String, _ clause: Clause) -> Bool {
        let v = clause.value
        switch clause.op {
        case "=": return value == v
        case "!=": return value != v
        case "~": return value.range(of: v, options: .caseInsensitive) != nil
        case "!~": return value.range(of: v, options: .caseInsensitive) == nil
        case ">": return value > v
        case ">=": return value >= v
        case "<": return value < v
        case "<=": return value <= v
        default: return false
        }
    }

    private func compare(_ date: Date, _ clause: Clause) -> Bool {
        guard let other = Self.date(clause.value) else { return false }
        switch clause.op {
        case "=": return date == other
        case "!=": return date != other
        case ">": return date > other
        case ">=": return date >= other
        case "<": return date < other
        case "<=": return date <= other
        default: return false
        }
    }

    /// ISO 8601, with or without zone (UTC when absent), with or without fractions, or a bare date.
    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            formatter.formatOptions = options
            if let d = formatter.date(from: text) { return d }
            if let d = formatter.date(from: text + "Z") { return d }
        }
        formatter.formatOptions = [.withFullDate]
        return formatter.date(from: text)
    }
}
