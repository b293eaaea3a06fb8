import Foundation

/// One ref from a refs advertisement.
public struct GitRef: Sendable, Equatable {
    public var name: String
    public var hash: String
    /// For annotated tags: the commit the tag points to (`^{}` line).
    public var peeled: String?

    public init(name: String, hash: String, peeled: String? = nil) {
        self.name = name
        self.hash = hash
        self.peeled = peeled
    }
}

/// git's smart-HTTP refs advertisement (`GET …/info/refs?service=git-upload-pack`, protocol v0):
/// every branch head in one response, no git process needed.
public struct RefsAdvertisement: Sendable, Equatable {
    public var service: String
    public var capabilities: [String]
    public var refs: [GitRef]

    /// The branch HEAD points to, from the `symref=HEAD:refs/heads/…` capability.
    public var headBranch: String? {
        for capability in capabilities where capability.hasPrefix("symref=HEAD:refs/heads/") {
            return String(capability.dropFirst("symref=HEAD:refs/heads/".count))
        }
        return nil
    }

    /// Branch name → head hash.
    public var branches: [String: String] {
        var result: [String: String] = [:]
        for ref in refs where ref.name.hasPrefix("refs/heads/") {
            result[String(ref.name.dropFirst("refs/heads/".count))] = ref.hash
        }
        return result
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case truncated(offset: Int)
        case badLength(offset: Int)
        case missingServiceLine
        case serverError(String)
        case badRefLine(String)
        case unsupportedProtocol(String)

        public var description: String {
            switch self {
            case let .truncated(offset): "refs advertisement ends mid-packet at byte \(offset)"
            case let .badLength(offset): "refs advertisement has a malformed packet length at byte \(offset)"
            case .missingServiceLine: "not a smart-HTTP refs advertisement (no '# service=' line)"
            case let .serverError(message): "git server error: \(message)"
            case let .badRefLine(line): "malformed ref line in refs advertisement: \(line.prefix(80))"
            case let .unsupportedProtocol(version): "the git server answered with protocol \(version), not v0/v1"
            }
        }
    }

    public static func parse(_ data: Data) throws(ParseError) -> RefsAdvertisement {
        let bytes = [UInt8](data)
        var offset = 0
        // Reads one pkt-line: nil for a flush packet (0000).
        func packet() throws(ParseError) -> [UInt8]?? {
            guard offset < bytes.count else { return .none }
            guard offset + 4 <= bytes.count else { throw .truncated(offset: offset) }
            guard let length = Int(String(decoding: bytes[offset..<offset + 4], as: UTF8.self), radix: 16) else {
                throw .badLength(offset: offset)
            }
            if length == 0 { offset += 4; return .some(nil) }
            guard length >= 4 else { throw .badLength(offset: offset) }
            guard offset + length <= bytes.count else { throw .truncated(offset: offset) }
            let payload = Array(bytes[offset + 4..<offset + length])
            offset += length
            return .some(payload)
        }
        func text(_ payload: [UInt8]) -> String {
            var p = payload
            if p.last == 0x0A { p.removeLast() }
            return String(decoding: p, as: UTF8.self)
        }

        // "# service=git-upload-pack", then a flush.
        guard case let .some(.some(servicePacket)) = try packet() else { throw .missingServiceLine }
        let firstLine = text(servicePacket)
        if firstLine.hasPrefix("ERR ") { throw .serverError(String(firstLine.dropFirst(4))) }
        if firstLine.hasPrefix("version ") { throw .unsupportedProtocol(firstLine) }
        guard firstLine.hasPrefix("# service=") else { throw .missingServiceLine }
        let service = String(firstLine.dropFirst("# service=".count))
        guard case .some(nil) = try packet() else { throw .missingServiceLine }

        var result = RefsAdvertisement(service: service, capabilities: [], refs: [])
        var first = true
        while case let .some(.some(payload)) = try packet() {
            var line = payload
            if line.last == 0x0A { line.removeLast() }
            if first, line.starts(with: Array("version ".utf8)) {
                // "version 1" precedes v1 advertisements, which are otherwise v0.
                if text(line) != "version 1" { throw .unsupportedProtocol(text(line)) }
                continue
            }
            if line.starts(with: Array("ERR ".utf8)) { throw .serverError(String(text(line).dropFirst(4))) }
            var refPart = line
            if first, let nul = line.firstIndex(of: 0) {
                refPart = Array(line[..<nul])
                result.capabilities = String(decoding: line[(nul + 1)...], as: UTF8.self).split(separator: " ").map(String.init)
            }
            first = false
            let refLine = String(decoding: refPart, as: UTF8.self)
            guard let space = refLine.firstIndex(of: " ") else { throw .badRefLine(refLine) }
            let hash = String(refLine[..<space])
            let name = String(refLine[refLine.index(after: space)...])
            guard hash.count == 40 || hash.count == 64, hash.allSatisfy(\.isHexDigit), !name.isEmpty else { throw .badRefLine(refLine) }
            // An empty repository advertises only "capabilities^{}" with a zero id.
            if name == "capabilities^{}" { continue }
            if name.hasSuffix("^{}") {
                let base = String(name.dropLast(3))
                if let index = result.refs.lastIndex(where: { $0.name == base }) { result.refs[index].peeled = hash }
                continue
            }
            result.refs.append(GitRef(name: name, hash: hash))
        }
        return result
    }
}
