import Foundation

/// A fault to inject, parsed from `--fault SPEC`:
///
///     [PERSONALITY:]KIND[~PROBABILITY | /EVERY_NTH][xCOUNT][@PATTERN]
///
/// PERSONALITY (`bitbucket:`, `github:` …) limits the fault to that personality's requests; without
/// it the fault applies to every personality the sandbox serves.
/// KIND is an HTTP status (`503`, `429`, `500` …), `403-rate-limit` (a 403 carrying a rate
/// limit's marks — `Retry-After` and "API rate limit exceeded" — as GitHub answers, to prove such a 403 is a pause and not lost access), `reset` (the connection is cut before any
/// answer), `delay:SECONDS`, `truncate` (the body stops halfway, Content-Length still promises all
/// of it) or `malformed` (a 200 whose JSON is broken). PATTERN is a path glob (`*` any run of
/// characters; default every path). `~0.2` fires on 20 % of matching requests; `/5` on every
/// fifth; neither means every one. `x3` stops after three firings (a burst).
///
/// Examples: `503x3` (a burst of three 503s), `reset~0.1@/2.0/repositories/*`, `delay:2@/git/*`,
/// `truncate/4`, `malformed@*/refs/branches*`, `429x1`, `bitbucket:503~0.2`.
public struct FaultSpec: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case status(Int)
        case rateLimitForbidden
        case reset
        case delay(TimeInterval)
        case truncate
        case malformed
    }

    public var kind: Kind
    /// The personality it applies to; nil for all of them.
    public var personality: SandboxPersonalityName?
    public var pattern: String
    public var probability: Double?
    public var everyNth: Int?
    public var count: Int?
    public let text: String

    public var description: String { text }

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var spec: String
        public var reason: String
        public var description: String { "--fault '\(spec)': \(reason)" }
    }

    public init(parsing spec: String) throws(ParseError) {
        text = spec
        var rest = Substring(spec)
        func fail(_ reason: String) -> ParseError { ParseError(spec: spec, reason: reason) }

        // A leading personality name (`delay:2` is a kind: only known names are prefixes).
        personality = nil
        if let colon = rest.firstIndex(of: ":"), let name = SandboxPersonalityName(rawValue: String(rest[..<colon]).lowercased()) {
            guard SandboxPersonalityName.available.contains(name) else { throw fail("the sandbox does not serve \(name) yet") }
            personality = name
            rest = rest[rest.index(after: colon)...]
        }

        // The path pattern comes last and may contain anything, so it is split off first.
        var pattern = "*"
        if let at = rest.firstIndex(of: "@") {
            pattern = String(rest[rest.index(after: at)...])
            rest = rest[..<at]
            guard !pattern.isEmpty else { throw fail("empty path pattern after @") }
        }
        var count: Int?
        if let x = rest.lastIndex(of: "x"), let n = Int(rest[rest.index(after: x)...]), !rest[..<x].isEmpty {
            guard n > 0 else { throw fail("xCOUNT must be positive") }
            count = n
            rest = rest[..<x]
        }
        var probability: Double?
        var everyNth: Int?
        if let tilde = rest.firstIndex(of: "~") {
            guard let p = Double(rest[rest.index(after: tilde)...]), (0...1).contains(p) else { throw fail("~PROBABILITY must be between 0 and 1") }
            probability = p
            rest = rest[..<tilde]
        } else if let slash = rest.firstIndex(of: "/") {
            guard let n = Int(rest[rest.index(after: slash)...]), n > 0 else { throw fail("/N must be a positive whole number") }
            everyNth = n
            rest = rest[..<slash]
        }
        let kindText = String(rest)
        let kind: Kind
        if let code = Int(kindText) {
            guard (400...599).contains(code) else { throw fail("status must be 400–599") }
            kind = .status(code)
        } else if kindText == "403-rate-limit" {
            kind = .rateLimitForbidden
        } else if kindText == "reset" {
            kind = .reset
        } else if kindText == "truncate" {
            kind = .truncate
        } else if kindText == "malformed" {
            kind = .malformed
        } else if kindText.hasPrefix("delay:"), let seconds = Double(kindText.dropFirst(6)), seconds >= 0 {
            kind = .delay(seconds)
        } else {
            throw fail("unknown fault '\(kindText)'; use a status (503), 403-rate-limit, reset, delay:SECONDS, truncate or malformed")
        }
        self.kind = kind
        self.pattern = pattern
        self.probability = probability
        self.everyNth = everyNth
        self.count = count
    }

    /// Whether a path matches the glob.
    func matches(path: String) -> Bool {
        Self.glob(Array(pattern.utf8)[...], Array(path.utf8)[...])
    }

    private static func glob(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        guard let p = pattern.first else { return text.isEmpty }
        if p == UInt8(ascii: "*") {
            let rest = pattern.dropFirst()
            var t = text
            while true {
                if glob(rest, t) { return true }
                guard !t.isEmpty else { return false }
                t = t.dropFirst()
            }
        }
        guard let c = text.first, c == p else { return false }
        return glob(pattern.dropFirst(), text.dropFirst())
    }
}

/// The faults in force and how often each has matched and fired.
struct FaultTable: Sendable {
    private(set) var specs: [FaultSpec] = []
    private var matched: [Int] = []
    private var fired: [Int] = []

    init(_ specs: [FaultSpec] = []) {
        replace(with: specs)
    }

    mutating func replace(with specs: [FaultSpec]) {
        self.specs = specs
        matched = Array(repeating: 0, count: specs.count)
        fired = Array(repeating: 0, count: specs.count)
    }

    /// The first fault that fires for this request to `personality`, if any.
    mutating func fire(path: String, personality: SandboxPersonalityName, random: inout SandboxRandom) -> FaultSpec.Kind? {
        for (i, spec) in specs.enumerated() where spec.matches(path: path) && (spec.personality ?? personality) == personality {
            if let count = spec.count, fired[i] >= count { continue }
            matched[i] += 1
            let fires: Bool
            if let p = spec.probability { fires = random.chance(p) }
            else if let n = spec.everyNth { fires = matched[i] % n == 0 }
            else { fires = true }
            if fires {
                fired[i] += 1
                return spec.kind
            }
        }
        return nil
    }

    var firedCounts: [String: Int] {
        Dictionary(zip(specs.map(\.text), fired), uniquingKeysWith: +)
    }
}
