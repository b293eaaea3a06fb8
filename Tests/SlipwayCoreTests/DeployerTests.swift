import Foundation
import GRDB
import Testing
import SlipwayTestSupport
import SlipwayHTTP
@testable import SlipwayCore
import SlipwayProviders

/// The deployer against a real git repository on disk: phases, steps, logs, cancel, timeout,
/// supersede, idempotency, autodeploy and restart recovery.
@Suite("Deployer", .timeLimit(.minutes(3)))
struct DeployerTests {
    let tmp = TemporaryDirectory()

    struct Rig {
        let store: Store
        let deployer: Deployer
        let origin: String
        let repositoryID: Int64
        let work: String
    }

    /// Runs a shell line (git) for the fixture, on a thread of its own.
    @discardableResult
    func sh(_ line: String, in directory: String) async throws -> String {
        final class Output: @unchecked Sendable { var text = ""; let lock = NSLock() }
        let output = Output()
        let outcome = try await StepProcess.run(["/bin/sh", "-c", line], environment: ["PATH": "/usr/bin:/bin", "HOME": tmp.path,
                                                "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada",
                                                "GIT_COMMITTER_EMAIL": "ada@example.com"], directory: directory) { stream, text in
            if stream == .stdout { output.lock.withLock { output.text += text } }
        }
        #expect(outcome.succeeded, "\(line) failed")
        return output.lock.withLock { output.text }.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A commit on main in the origin repository; returns its hash.
    func commit(_ rig: Rig, file: String = "app.txt", content: String) async throws -> String {
        let clone = tmp.path + "/clone"
        if !FileManager.default.fileExists(atPath: clone) { try await sh("git clone -q '\(rig.origin)' clone && cd clone && git checkout -q -b main 2>/dev/null || true", in: tmp.path) }
        try content.write(toFile: clone + "/" + file, atomically: true, encoding: .utf8)
        try await sh("git add -A && git commit -q -m 'change \(file)' && git push -q origin HEAD:main", in: clone)
        let hash = try await sh("git rev-parse HEAD", in: clone)
        try rig.store.write { db in
            try db.execute(sql: "UPDATE branches SET head_hash = ? WHERE repository_id = ? AND name = 'main'", arguments: [hash, rig.repositoryID])
        }
        return hash
    }

    func rig(_ settings: Deployer.Settings = Deployer.Settings(), password: String? = nil, origins: Set<Origin> = [],
             clock: any SlipwayClock = SystemClock()) async throws -> Rig {
        let origin = tmp.path + "/origin.git"
        try await sh("git init -q --bare origin.git", in: tmp.path)
        let store = try Store(path: tmp.file("slipway.db"))
        let now = Date()
        let repositoryID = try store.write { db -> Int64 in
            var account = Account(provider: .bitbucket, username: "ada", apiURL: "https://api.bitbucket.org/2.0", webURL: "https://bitbucket.org", auth: .token, createdAt: now)
            try account.insert(db)
            var workspace = Workspace(accountID: account.id!, slug: "acme", updatedAt: now)
            try workspace.insert(db)
            var repository = Repository(workspaceID: workspace.id!, slug: "api", name: "api", fullName: "acme/api", cloneURL: origin, updatedAt: now)
            try repository.insert(db)
            var branch = Branch(repositoryID: repository.id!, name: "main", headHash: "0000000", updatedAt: now)
            try branch.insert(db)
            return repository.id!
        }
        let work = tmp.path + "/work"
        let deployer = Deployer(store: store, workRoot: work, settings: settings, clock: clock,
                                credentials: { _ in password.map { GitCredential(username: "x-token-auth", password: $0, origins: origins) } })
        try await deployer.start()
        return Rig(store: store, deployer: deployer, origin: origin, repositoryID: repositoryID, work: work)
    }

    func app(_ rig: Rig, name: String = "web", build: String? = "cat app.txt > built.txt && echo built", run: String = "echo \"running $SLIPWAY_APP at $SLIPWAY_COMMIT home=${HOME:-none}\"; cat built.txt",
             timeout: Int? = nil, service: Bool = false, health: String? = nil) throws -> App {
        try rig.store.createApp(App(name: name, repositoryID: rig.repositoryID, sourcePath: "bitbucket/acme/api", branch: "main",
                                    buildCommand: build, runCommand: run, isService: service, healthURL: health, timeoutSeconds: timeout,
                                    environment: ["GREETING": "hi", "MARKS": tmp.path], createdAt: Date()))
    }

    func lines(_ file: String) -> [String] {
        ((try? String(contentsOfFile: tmp.file(file), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func running(_ pid: Int32) -> Bool { isProcessRunning(pid) }

    @Test("a service is ACTIVE once it stays up; the next one replaces it only when ready; a crash restarts it; an engine restart starts it again")
    func services() async throws {
        let rig = try await rig()
        _ = try await commit(rig, content: "v1\n")
        _ = try app(rig, build: nil, run: "echo $$ >> \"$MARKS/pids\"; echo \"serving $(cat app.txt)\"; exec sleep 300", service: true)
        let (first, _) = try await rig.deployer.deploy(app: "web")
        await finish(rig)
        #expect(try rig.store.deployment(id: first.id!)?.phase == .active, "\((try? log(rig, first.id!)) ?? "")")
        let firstPID = try #require(lines("pids").first.flatMap { Int32($0) })
        #expect(running(firstPID))

        let second = try await commit(rig, content: "v2\n")
        let (next, _) = try await rig.deployer.deploy(app: "web", commit: second)
        await finish(rig)
        #expect(try rig.store.deployment(id: next.id!)?.phase == .active)
        #expect(try rig.store.deployment(id: first.id!)?.phase == .superseded)
        let secondPID = try #require(lines("pids").last.flatMap { Int32($0) })
        #expect(secondPID != firstPID && running(secondPID))
        #expect(!running(firstPID), "the replaced service still runs")
        #expect(try log(rig, next.id!).contains("serving v2"))

        // The engine stops: services stop. A new engine starts the ACTIVE one again.
        await rig.deployer.shutdown()
        #expect(!running(secondPID))
        let again = Deployer(store: rig.store, workRoot: rig.work)
        try await again.start()
        await again.restartActiveServices()
        for _ in 0..<50 where lines("pids").count < 3 { try await Task.sleep(nanoseconds: 100_000_000) }
        let thirdPID = try #require(lines("pids").last.flatMap { Int32($0) })
        #expect(lines("pids").count == 3 && running(thirdPID))
        #expect(try log(rig, next.id!).contains("the engine restarted; starting the service again"))
        await again.shutdown()
        #expect(!running(thirdPID))
    }

    @Test("deleting an app (from any process) stops its service and removes its work folder")
    func deletedAppStops() async throws {
        let rig = try await rig()
        _ = try await commit(rig, content: "v1\n")
        _ = try app(rig, build: nil, run: "echo $$ >> \"$MARKS/pids\"; exec sleep 300", service: true)
        let (first, _) = try await rig.deployer.deploy(app: "web")
        await finish(rig)
        #expect(try rig.store.deployment(id: first.id!)?.phase == .active)
        let pid = try #require(lines("pids").first.flatMap { Int32($0) })
        #expect(running(pid) && FileManager.default.fileExists(atPath: rig.work + "/web"))
        try rig.store.deleteApp(named: "web")   // what 'slipway apps delete web' writes
        await rig.deployer.step()
        for _ in 0..<100 where running(pid) || FileManager.default.fileExists(atPath: rig.work + "/web") {
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(!running(pid), "the deleted app's service still runs")
        #expect(!FileManager.default.fileExists(atPath: rig.work + "/web"), "its work folder is still there")
        await rig.deployer.shutdown()
    }

    func finish(_ rig: Rig) async {
        for _ in 0..<200 {
            await rig.deployer.step()
            await rig.deployer.idle()
            if (try? rig.store.runnableDeployments(limit: 1).isEmpty) == true { return }
        }
    }

    func log(_ rig: Rig, _ id: Int64) throws -> String {
        try rig.store.logChunks(deploymentID: id).map(\.text).joined()
    }

    @Test("a deployment goes through fetch, checkout, build and run to ACTIVE, with a clean environment and its log")
    func active() async throws {
        let rig = try await rig(password: "s3cret-token")
        let hash = try await commit(rig, content: "version 1\n")
        _ = try app(rig)
        let (deployment, created) = try await rig.deployer.deploy(app: "web", cause: "app created")
        #expect(created && deployment.commitHash == hash)
        await finish(rig)
        let done = try #require(try rig.store.deployment(id: deployment.id!))
        #expect(done.phase == .active, "\(done.reason ?? "")")
        let steps = try rig.store.steps(deploymentID: deployment.id!)
        #expect(steps.map(\.name) == ["fetch", "checkout", "build", "run"])
        #expect(steps.allSatisfy { $0.status == .succeeded && $0.exitStatus == 0 && $0.startedAt != nil && $0.finishedAt != nil })
        let text = try log(rig, deployment.id!)
        #expect(text.contains("built\n"))
        #expect(text.contains("running web at \(hash) home=none\nversion 1\n"))
        // The token is nowhere on disk: not in the work folder's git config, no git home left.
        let config = try String(contentsOfFile: rig.work + "/web/repo/.git/config", encoding: .utf8)
        // The deployment ran in a folder of its own.
        #expect(FileManager.default.fileExists(atPath: rig.work + "/web/d\(deployment.id!)/built.txt"))
        #expect(!config.contains("s3cret-token"))
        #expect(!text.contains("s3cret-token"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path).filter { $0.hasPrefix("slipway-git-home-") }
        #expect(leftovers.allSatisfy { path in
            ((try? FileManager.default.subpathsOfDirectory(atPath: FileManager.default.temporaryDirectory.path + "/" + path)) ?? []).isEmpty
        })
    }

    @Test("secret variables are sealed in the vault and reach build and run")
    func secrets() async throws {
        let rig = try await rig()
        _ = try await commit(rig, content: "x\n")
        let app = try app(rig, build: nil, run: "echo \"token length ${#API_KEY}, mode $MODE\"")
        let vault = try Vault.open(keyFile: tmp.file("key"), create: true)
        try rig.store.setSecretEnvironment(appID: app.id!, ["API_KEY": "k3y-very-secret", "MODE": "secret-mode"], vault: vault)
        let sealed = try rig.store.read { db in try Data.fetchOne(db, sql: "SELECT secret_environment_ciphertext FROM apps WHERE id = ?", arguments: [app.id!]) }
        #expect(sealed.map { !String(decoding: $0, as: UTF8.self).contains("k3y-very-secret") } == true)
        let store = rig.store
        let deployer = Deployer(store: store, workRoot: rig.work, secrets: { app in try store.secretEnvironment(appID: app.id!) { vault } })
        try await deployer.start()
        let (deployment, _) = try await deployer.deploy(app: "web")
        for _ in 0..<50 {
            await deployer.step()
            await deployer.idle()
            if try store.deployment(id: deployment.id!)?.phase.isFinal == true || store.deployment(id: deployment.id!)?.phase == .active { break }
        }
        #expect(try store.deployment(id: deployment.id!)?.phase == .active)
        #expect(try log(rig, deployment.id!).contains("token length 15, mode secret-mode"))
    }

    @Test("a failing build is ERROR naming the step and its exit status; run is skipped; the output is kept")
    func failing() async throws {
        let rig = try await rig()
        _ = try await commit(rig, content: "x\n")
        _ = try app(rig, build: "echo compiling; echo 'error: missing semicolon' >&2; exit 2")
        let (deployment, _) = try await rig.deployer.deploy(app: "web")
        await finish(rig)
        let done = try #require(try rig.store.deployment(id: deployment.id!))
        #expect(done.phase == .error)
        #expect(done.reason == "step build failed: exit status 2")
        let steps = try rig.store.steps(deploymentID: deployment.id!)
        #expect(steps.map(\.status) == [.succeeded, .succeeded, .failed, .skipped])
        #expect(steps[2].exitStatus == 2)
        // stdout and stderr come through separate pipes: both kept, in whichever order they came.
        let text = try log(rig, deployment.id!)
        #expect(text.contains("compiling\n") && text.contains("error: missing semicolon\n"))
        let chunks = try rig.store.logChunks(deploymentID: deployment.id!)
        #expect(chunks.contains { $0.stream == .stderr && $0.step == "build" && $0.text == "error: missing semicolon\n" })
    }

    @Test("cancel stops a running deployment: CANCELED")
    func cancel() async throws {
        let rig = try await rig(Deployer.Settings())
        _ = try await commit(rig, content: "x\n")
        _ = try app(rig, build: nil, run: "echo started; sleep 30")
        let (deployment, _) = try await rig.deployer.deploy(app: "web")
        await rig.deployer.step()
        for _ in 0..<100 where !(try log(rig, deployment.id!).contains("started")) { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(try await rig.deployer.cancel(deploymentID: deployment.id!))
        await rig.deployer.idle()
        let done = try #require(try rig.store.deployment(id: deployment.id!))
        #expect(done.phase == .canceled)
        #expect(done.reason == "canceled during run")
    }

    @Test("one deployment per (app, commit); a newer one supersedes the queued; ACTIVE replaces ACTIVE")
    func supersede() async throws {
        let rig = try await rig()
        let first = try await commit(rig, content: "one\n")
        _ = try app(rig)
        let (a, createdA) = try await rig.deployer.deploy(app: "web")
        let (again, createdAgain) = try await rig.deployer.deploy(app: "web", commit: first)
        #expect(createdA && !createdAgain && again.id == a.id)
        await finish(rig)
        let second = try await commit(rig, content: "two\n")
        let third = try await commit(rig, content: "three\n")
        let (b, _) = try await rig.deployer.deploy(app: "web", commit: second)
        let (c, _) = try await rig.deployer.deploy(app: "web", commit: third)
        await finish(rig)
        #expect(try rig.store.deployment(id: a.id!)?.phase == .superseded)
        let skipped = try #require(try rig.store.deployment(id: b.id!))
        #expect(skipped.phase == .superseded)
        #expect(skipped.reason == "superseded by deployment \(c.id!) before it started")
        #expect(try rig.store.deployment(id: c.id!)?.phase == .active)
        #expect(try log(rig, c.id!).contains("three"))
    }

    @Test("a user's deploy retries a commit that failed or was canceled; autodeploy never retries it by itself")
    func retries() async throws {
        let rig = try await rig()
        let hash = try await commit(rig, content: "one\n")
        _ = try app(rig, build: nil, run: "test -f \"$MARKS/fixed\"")
        let (failed, _) = try await rig.deployer.deploy(app: "web")
        await finish(rig)
        #expect(try rig.store.deployment(id: failed.id!)?.phase == .error)
        // Autodeploy of the same commit (a push seen again) starts nothing.
        let (auto, autoCreated) = try rig.store.enqueueDeployment(appID: failed.appID, commit: hash, cause: "pushed", now: Date())
        #expect(!autoCreated && auto.id == failed.id)
        // The user fixes the cause and retries: a new deployment of the same commit.
        FileManager.default.createFile(atPath: tmp.path + "/fixed", contents: Data())
        let (retry, created) = try await rig.deployer.deploy(app: "web")
        #expect(created && retry.id != failed.id && retry.commitHash == hash)
        // While it is queued, asking again gives the same one.
        let (same, again) = try await rig.deployer.deploy(app: "web")
        #expect(!again && same.id == retry.id)
        await finish(rig)
        #expect(try rig.store.deployment(id: retry.id!)?.phase == .active)
        // A redeploy of the ACTIVE commit is a deployment too.
        let (redeploy, redeployed) = try await rig.deployer.deploy(app: "web")
        #expect(redeployed && redeploy.id != retry.id)
        #expect(try rig.store.enqueueDeployment(appID: failed.appID, commit: hash, cause: "pushed", now: Date()).created == false)
    }

    @Test("a new head on the app's branch deploys it (autodeploy), with the push as its cause")
    func autodeploy() async throws {
        let rig = try await rig()
        let hash = try await commit(rig, content: "pushed\n")
        let app = try app(rig)
        try rig.store.write { db in
            var event = ChangeEvent(kind: .headMoved, path: "bitbucket/acme/api/main", old: "0000000", new: hash, createdAt: Date())
            try event.insert(db)
            var other = ChangeEvent(kind: .headMoved, path: "bitbucket/acme/api/develop", old: "1", new: "2", createdAt: Date())
            try other.insert(db)
        }
        await finish(rig)
        let deployments = try rig.store.deployments(appID: app.id!)
        #expect(deployments.count == 1)
        #expect(deployments.first?.cause == "commit \(hash.prefix(7)) pushed to main")
        #expect(deployments.first?.phase == .active)
    }

    @Test("after a restart, deployments left running are ERROR interrupted; logs are capped to their tail")
    func recoveryAndCap() async throws {
        let rig = try await rig()
        _ = try app(rig)
        let (deployment, _) = try rig.store.enqueueDeployment(appID: 1, commit: "abc", cause: "test", now: Date())
        try rig.store.setPhase(deploymentID: deployment.id!, .building, now: Date())
        try await rig.deployer.start()
        let done = try #require(try rig.store.deployment(id: deployment.id!))
        #expect(done.phase == .error && done.reason == "interrupted: the engine stopped while it ran")

        for index in 0..<50 {
            try rig.store.appendLog(deploymentID: deployment.id!, step: "build", stream: .stdout,
                                    text: "line \(index) " + String(repeating: "x", count: 90) + "\n", cap: 2048, now: Date())
        }
        let chunks = try rig.store.logChunks(deploymentID: deployment.id!)
        let total = chunks.filter { $0.stream != .system }.map { $0.text.utf8.count }.reduce(0, +)
        #expect(total <= 2048)
        #expect(chunks.first?.text.hasPrefix("[earlier output dropped") == true)
        #expect(chunks.filter { $0.stream == .system }.count == 1)
        #expect(chunks.last?.text.hasPrefix("line 49 ") == true)
    }

    // MARK: The credential stays at its origin (issue 16 §3)

    /// A git server that wants Basic credentials and records every Authorization it is sent.
    static func credentialSink() throws -> LoopbackServer {
        try LoopbackServer { _, connection in
            connection.respond(401, headers: ["WWW-Authenticate": "Basic realm=\"git\""], text: "credentials, please")
        }
    }

    func deployFrom(_ cloneURL: String, origins: Set<Origin>) async throws -> (rig: Rig, deployment: Deployment) {
        let rig = try await rig(password: "s3cret-token", origins: origins)
        let hash = try await commit(rig, content: "v1\n")
        try rig.store.write { db in try db.execute(sql: "UPDATE repositories SET clone_url = ?", arguments: [cloneURL]) }
        _ = try app(rig)
        let (deployment, _) = try await rig.deployer.deploy(app: "web", commit: hash)
        await finish(rig)
        return (rig, try #require(try rig.store.deployment(id: deployment.id!)))
    }

    @Test("a fetch redirected to another origin is not followed: ERROR in one line, and the other host never sees the token")
    func redirectedFetch() async throws {
        let elsewhere = try Self.credentialSink()
        defer { elsewhere.stop() }
        let linked = try LoopbackServer { request, connection in
            connection.respond(302, headers: ["Location": elsewhere.baseURL + request.path], text: "")
        }
        defer { linked.stop() }
        let (rig, done) = try await deployFrom(linked.baseURL + "/acme/api.git", origins: [Origin(url: linked.baseURL)!])
        #expect(done.phase == .error)
        #expect(done.reason?.contains("redirected the fetch of \(linked.baseURL) elsewhere") == true, "\(done.reason ?? "")")
        #expect(!linked.receivedRequests.isEmpty)
        #expect(elsewhere.receivedRequests.isEmpty, "git followed the redirect")
        #expect(try !log(rig, done.id!).contains("s3cret-token"))
    }

    @Test("the credential helper answers only for the linked origin: a clone URL elsewhere is fetched without the credential")
    func helperOnlyForLinkedOrigin() async throws {
        let elsewhere = try Self.credentialSink()
        defer { elsewhere.stop() }
        let (rig, done) = try await deployFrom(elsewhere.baseURL + "/acme/api.git", origins: [Origin(url: "https://bitbucket.org")!])
        #expect(done.phase == .error)
        #expect(try log(rig, done.id!).contains("is not an origin the account was linked for"))
        #expect(!elsewhere.receivedRequests.isEmpty)
        #expect(elsewhere.receivedRequests.allSatisfy { $0.headers["authorization"] == nil }, "the credential reached another origin")
    }

    @Test("at the linked origin git gets the credential from the helper (so the refusal above is the origin check)")
    func helperAtLinkedOrigin() async throws {
        let linked = try Self.credentialSink()
        defer { linked.stop() }
        let (rig, second) = try await deployFrom(linked.baseURL + "/acme/api.git", origins: [Origin(url: linked.baseURL)!])
        #expect(second.phase == .error)
        let expected = "Basic " + Data("x-token-auth:s3cret-token".utf8).base64EncodedString()
        #expect(linked.receivedRequests.contains { $0.headers["authorization"] == expected },
                "\(linked.receivedRequests.map(\.headers))\n\((try? log(rig, second.id!)) ?? "")")
    }

    @Test("clone URLs follow the URL policy: plain http only on loopback addresses")
    func cloneURLPolicy() throws {
        #expect(throws: Deployer.StepFailure.self) { try Deployer.checkCloneURL("http://127.0.0.1.nip.io/acme/api.git") }
        #expect(throws: Deployer.StepFailure.self) { try Deployer.checkCloneURL("ext::sh -c touch% /tmp/pwned") }
        #expect(try Deployer.checkCloneURL("http://127.0.0.1:7990/acme/api.git") == Origin(url: "http://127.0.0.1:7990"))
        #expect(try Deployer.checkCloneURL("/srv/git/api.git") == nil)
    }

    @Test("deploy and cancel commands run on the command runner, not the sync engine: a deploy queued behind a sync cycle is done first")
    func commandRunner() async throws {
        let rig = try await rig()
        let head = try await commit(rig, content: "v1\n")
        _ = try app(rig, build: nil, run: "echo deployed")
        let now = Date()
        // A sync cycle is queued first and nobody runs it: the runner leaves it alone.
        let cycle = try rig.store.enqueue(SyncCyclePayload(), requestedBy: "cli", now: now)
        let deploy = try rig.store.enqueue(DeployPayload(app: "web"), requestedBy: "cli", now: now)
        let unknown = try rig.store.enqueue(DeployPayload(app: "nope"), requestedBy: "cli", now: now)
        let runner = DeploymentCommandRunner(store: rig.store, deployer: rig.deployer)
        await runner.runPending()
        #expect(try rig.store.command(id: cycle)?.status == .queued)
        let done = try #require(try rig.store.command(id: deploy))
        #expect(done.status == .done && done.result?.hasSuffix("of \(head.prefix(7)) queued") == true, "\(done.result ?? "")")
        let refused = try #require(try rig.store.command(id: unknown))
        #expect(refused.status == .failed && refused.result == "no app named 'nope'; see 'slipway apps'")
        await finish(rig)
        let deployment = try #require(try rig.store.deployments().first)
        #expect(deployment.phase == .active && deployment.commitHash == head)

        // The sync engine's claim skips deployment commands, the runner's skips the engine's.
        let cancel = try rig.store.enqueue(CancelPayload(deployment: deployment.id!), requestedBy: "cli", now: now)
        #expect(try rig.store.claimNextCommand(kinds: EngineCommandKind.sync, now: now)?.id == cycle)
        #expect(try rig.store.claimNextCommand(kinds: EngineCommandKind.sync, now: now) == nil)
        await runner.runPending()
        let canceled = try #require(try rig.store.command(id: cancel))
        #expect(canceled.status == .failed && canceled.result == "deployment \(deployment.id!) is not running")

        // An engine that died leaves its sync command running; a new runner fails only its own kinds.
        try rig.store.failInterruptedCommands(kinds: EngineCommandKind.deployment, now: now)
        #expect(try rig.store.command(id: cycle)?.status == .running)
        try rig.store.failInterruptedCommands(kinds: EngineCommandKind.sync, now: now)
        #expect(try rig.store.command(id: cycle)?.status == .failed)
    }

    @Test("an abbreviated hash resolves among the repository's stored commits and heads; LIKE's wildcards match nothing")
    func abbreviatedHashes() async throws {
        let rig = try await rig()
        let head = try await commit(rig, content: "v1\n")
        let other = String(repeating: "ab", count: 20)
        try rig.store.write { db in
            var stored = Commit(repositoryID: rig.repositoryID, hash: other, author: "Ada <ada@example.com>", date: Date(), message: "m")
            try stored.insert(db)
        }
        #expect(try rig.store.commitHashes(repositoryID: rig.repositoryID, prefix: String(head.prefix(7)).uppercased()) == [head])
        #expect(try rig.store.commitHashes(repositoryID: rig.repositoryID, prefix: "abab") == [other])
        for hostile in ["%", "_", "ab%", "", "zz"] {
            #expect(try rig.store.commitHashes(repositoryID: rig.repositoryID, prefix: hostile).isEmpty, "\(hostile)")
        }
    }
}
