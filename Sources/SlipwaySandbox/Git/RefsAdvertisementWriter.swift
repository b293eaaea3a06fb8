import Foundation

/// git's smart-HTTP refs advertisement (protocol v0), as `git upload-pack --advertise-refs`
/// writes it behind `info/refs?service=git-upload-pack`.
enum RefsAdvertisementWriter {
    static func advertisement(for repository: SandboxRepository) -> Data {
        var out = Data()
        out.append(pktLine("# service=git-upload-pack\n"))
        out.append(Data("0000".utf8))
        let capabilities = "multi_ack thin-pack side-band side-band-64k ofs-delta shallow no-progress include-tag "
            + "multi_ack_detailed no-done symref=HEAD:refs/heads/\(repository.mainBranch) object-format=sha1 agent=git/slipway-sandbox"
        var lines: [(String, String)] = []
        if let head = repository.branches[repository.mainBranch] { lines.append((head, "HEAD")) }
        for name in repository.branches.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            lines.append((repository.branches[name]!, "refs/heads/\(name)"))
        }
        if lines.isEmpty {
            out.append(pktLine(String(repeating: "0", count: 40) + " capabilities^{}\0" + capabilities + "\n"))
        }
        for (index, line) in lines.enumerated() {
            out.append(pktLine("\(line.0) \(line.1)" + (index == 0 ? "\0" + capabilities : "") + "\n"))
        }
        out.append(Data("0000".utf8))
        return out
    }

    static func pktLine(_ text: String) -> Data {
        let payload = Data(text.utf8)
        return Data(String(format: "%04x", payload.count + 4).utf8) + payload
    }
}

extension RefsAdvertisementWriter {
    /// `…/info/refs?service=git-upload-pack` for a repository a personality found (nil: its 404,
    /// in the provider's words): only upload-pack is served.
    static func reply(for repository: SandboxRepository?, request: SandboxRequest, notFound: String) -> SandboxReply {
        guard let repository else { return .text(404, notFound) }
        guard request.query["service"]?.first == "git-upload-pack" else {
            return .text(403, "Only git-upload-pack is served by the sandbox\n")
        }
        return SandboxReply(status: 200, headers: [("Content-Type", "application/x-git-upload-pack-advertisement"), ("Cache-Control", "no-cache")],
                            body: advertisement(for: repository))
    }
}
