import Foundation

/// Real git repositories for the sandbox's `demo` workspace: tiny projects with a Makefile,
/// bare repositories on disk that the sandbox serves over git's smart HTTP, so a deployer can
/// clone and fetch them. A push makes a real commit. `hello-web` always builds; `flaky-api`
/// fails its build on every odd version, so deployments show both ends.
final class DemoRepositories: @unchecked Sendable {
    static let workspace = "demo"
    static let projects: [(slug: String, name: String, makefile: String)] = [
        ("hello-web", "Hello web", """
            build:
            \t@echo "building hello-web v$$(cat VERSION)"
            \t@mkdir -p out && sed "s/VERSION/$$(cat VERSION)/" index.html > out/index.html
            \t@echo "wrote out/index.html"

            """),
        ("flaky-api", "Flaky API", """
            build:
            \t@echo "building flaky-api v$$(cat VERSION)"
            \t@v=$$(cat VERSION); if [ $$((v % 2)) -eq 1 ]; then echo "error: test suite failed on v$$v (odd versions are flaky)" >&2; exit 1; fi
            \t@echo "tests passed"

            """),
    ]

    let root: String
    private let lock = NSLock()

    /// Creates the repositories (an initial commit each) under a fresh temporary folder.
    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-sandbox-git-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for project in Self.projects {
            let work = "\(root)/work/\(project.slug)"
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            try project.makefile.write(toFile: work + "/Makefile", atomically: true, encoding: .utf8)
            try "2\n".write(toFile: work + "/VERSION", atomically: true, encoding: .utf8)
            try "<h1>\(project.name) vVERSION</h1>\n".write(toFile: work + "/index.html", atomically: true, encoding: .utf8)
            try "#!/bin/sh\necho \"\(project.slug) v$(cat VERSION) is up\"\n".write(toFile: work + "/run.sh", atomically: true, encoding: .utf8)
            chmod(work + "/run.sh", 0o755)
            try Self.git(["init", "-q", "--bare", bare(project.slug)], in: root)
            // As the big hosts do: partial clones (`--filter=blob:none`) are served, not refused.
            try Self.git(["config", "uploadpack.allowFilter", "true"], in: bare(project.slug))
            try Self.git(["init", "-q", "-b", "main", "."], in: work)
            try Self.git(["add", "-A"], in: work)
            try Self.git(["commit", "-q", "-m", "Start \(project.name)"], in: work)
            try Self.git(["push", "-q", bare(project.slug), "main"], in: work)
        }
    }

    deinit { remove() }

    /// Removes the repositories' folder (the sandbox's shutdown; deinit too).
    func remove() { try? FileManager.default.removeItem(atPath: root) }

    func bare(_ slug: String) -> String { "\(root)/\(slug).git" }

    func contains(_ slug: String) -> Bool { Self.projects.contains { $0.slug == slug } }

    /// Commits on main (oldest first) as the world model holds them.
    func commits(_ slug: String) throws -> [SandboxCommit] {
        let text = try Self.git(["log", "--reverse", "--format=%H%x1f%P%x1f%an <%ae>%x1f%aI%x1f%B%x1e", "main"], in: bare(slug))
        return text.split(separator: "\u{1E}").compactMap { record in
            let fields = record.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 5 else { return nil }
            return SandboxCommit(hash: fields[0], parents: fields[1].split(separator: " ").map(String.init), author: fields[2],
                                 date: ISO8601DateFormatter().date(from: fields[3]) ?? Date(), message: fields[4])
        }
    }

    /// A real push: the next version, committed and pushed to main. Returns the new commit.
    func push(_ slug: String) throws -> SandboxCommit {
        try lock.withLock {
            let work = "\(root)/work/\(slug)"
            let version = (Int((try? String(contentsOfFile: work + "/VERSION", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 1) + 1
            try "\(version)\n".write(toFile: work + "/VERSION", atomically: true, encoding: .utf8)
            try Self.git(["commit", "-q", "-a", "-m", "Release v\(version)"], in: work)
            try Self.git(["push", "-q", bare(slug), "main"], in: work)
            guard let commit = try commits(slug).last else { throw DemoGitError(message: "no commit after a push") }
            return commit
        }
    }

    struct DemoGitError: Error, CustomStringConvertible { var message: String; var description: String { message } }

    /// Runs git synchronously (it is quick; the sandbox calls this off the request path).
    @discardableResult
    static func git(_ arguments: [String], in directory: String, input: Data? = nil) throws -> String {
        String(decoding: try run(["/usr/bin/env", "git"] + arguments, in: directory, input: input), as: UTF8.self)
    }

    static func run(_ arguments: [String], in directory: String, input: Data? = nil) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": directory, "GIT_CONFIG_NOSYSTEM": "1",
                               "GIT_AUTHOR_NAME": "Demo Bot", "GIT_AUTHOR_EMAIL": "demo@example.com",
                               "GIT_COMMITTER_NAME": "Demo Bot", "GIT_COMMITTER_EMAIL": "demo@example.com"]
        let out = Pipe()
        let inPipe = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = inPipe
        try process.run()
        // Feed stdin from another thread so a large answer cannot dead-lock against it.
        let writer = Thread {
            if let input { inPipe.fileHandleForWriting.write(input) }
            try? inPipe.fileHandleForWriting.close()
        }
        writer.start()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw DemoGitError(message: "git \(arguments.dropFirst(2).joined(separator: " ")) failed with status \(process.terminationStatus)")
        }
        return data
    }
}
