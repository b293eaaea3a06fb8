import Foundation
import Testing
import SlipwayTestSupport
import SlipwayHTTP
@testable import SlipwayCore

/// The deployer's policy waits on the virtual clock: a service settles, becomes ready or times
/// out, and is restarted after its pauses only when the clock says so; a step times out by the
/// clock. Real time only bounds how long a test waits for a process to do its part.
extension DeployerTests {
    func phase(_ rig: Rig, _ id: Int64) throws -> DeploymentPhase? { try rig.store.deployment(id: id)?.phase }

    func stepStatus(_ rig: Rig, _ id: Int64, _ name: String) throws -> DeploymentStepStatus? {
        try rig.store.steps(deploymentID: id).first { $0.name == name }?.status
    }

    /// Waits until the deployer is parked on the clock in `step`'s wait.
    func parked(_ rig: Rig, _ clock: VirtualClock, _ id: Int64, in step: String = "run") async throws -> Bool {
        try await eventually { try stepStatus(rig, id, step) == .running && clock.sleepers == 1 }
    }

    @Test("a service without a health URL is ACTIVE once it has stayed up the settle time on the clock, not before")
    func serviceSettlesOnTheClock() async throws {
        let clock = VirtualClock()
        let rig = try await rig(clock: clock)
        _ = try await commit(rig, content: "v1\n")
        _ = try app(rig, build: nil, run: "exec sleep 300", service: true)
        let (deployment, _) = try await rig.deployer.deploy(app: "web")
        await rig.deployer.step()
        #expect(try await parked(rig, clock, deployment.id!))
        #expect(try phase(rig, deployment.id!) == .deploying)

        clock.advance(by: 1.9)
        #expect(clock.sleepers == 1, "woke before the settle time")
        #expect(try phase(rig, deployment.id!) == .deploying)

        clock.advance(by: 0.1)
        await rig.deployer.idle()
        #expect(try phase(rig, deployment.id!) == .active)
        let done = try #require(try rig.store.deployment(id: deployment.id!))
        #expect(done.finishedAt == clock.now, "timestamps come from the clock")
        await rig.deployer.shutdown()
    }

    @Test("a service whose health URL never answers 2xx is asked every poll interval and is ERROR at the ready timeout, by the clock")
    func serviceReadyTimeoutOnTheClock() async throws {
        let health = try LoopbackServer { _, connection in connection.respond(503, text: "starting") }
        defer { health.stop() }
        let clock = VirtualClock()
        var settings = Deployer.Settings()
        settings.readyTimeout = 60
        settings.healthPollInterval = 5
        let rig = try await rig(settings, clock: clock)
        _ = try await commit(rig, content: "v1\n")
        _ = try app(rig, build: nil, run: "exec sleep 300", service: true, health: health.baseURL + "/health")
        let (deployment, _) = try await rig.deployer.deploy(app: "web")
        await rig.deployer.step()
        let started = clock.now
        #expect(try await parked(rig, clock, deployment.id!))

        var advances = 0
        while try phase(rig, deployment.id!) == .deploying, advances < 20 {
            guard try await eventually({ try clock.sleepers == 1 || phase(rig, deployment.id!) != .deploying }) else { break }
            if try phase(rig, deployment.id!) != .deploying { break }
            clock.advanceToNextDeadline()
            advances += 1
        }
        await rig.deployer.idle()
        let done = try #require(try rig.store.deployment(id: deployment.id!))
        #expect(done.phase == .error)
        #expect(done.reason == "the service was not ready within 60 s (\(health.baseURL)/health never answered 2xx)")
        #expect(clock.now.timeIntervalSince(started) == 60)
        // Asked at 0, 5, …, 55 and at the deadline: one request per poll, none in between.
        #expect(health.receivedRequests.count == 13, "\(health.receivedRequests.count) health requests")
    }

    @Test("a service that exits is started again after 1 s, then 2 s, by the clock; a stop during the pause ends it")
    func serviceRestartPausesOnTheClock() async throws {
        let clock = VirtualClock()
        let rig = try await rig(clock: clock)
        _ = try await commit(rig, content: "v1\n")
        // Each start is marked; a 'crash' file makes the running copy exit 3.
        _ = try app(rig, build: nil, run: """
            echo $$ >> "$MARKS/starts"
            while [ ! -e "$MARKS/crash" ]; do sleep 0.02; done
            rm -f "$MARKS/crash"; exit 3
            """, service: true)
        let (deployment, _) = try await rig.deployer.deploy(app: "web")
        await rig.deployer.step()
        #expect(try await parked(rig, clock, deployment.id!))
        clock.advance(by: 2)
        await rig.deployer.idle()
        #expect(try phase(rig, deployment.id!) == .active)
        #expect(lines("starts").count == 1)

        func crash(expecting pause: Int) async throws {
            _ = FileManager.default.createFile(atPath: tmp.file("crash"), contents: nil)
            #expect(try await eventually {
                try log(rig, deployment.id!).contains("service exited (exit status 3); starting it again in \(pause) s") && clock.sleepers == 1
            })
        }

        try await crash(expecting: 1)
        clock.advance(by: 0.9)
        #expect(clock.sleepers == 1 && lines("starts").count == 1, "started again before its pause")
        clock.advance(by: 0.1)
        #expect(await eventually { lines("starts").count == 2 })

        try await crash(expecting: 2)
        clock.advance(by: 1.9)
        #expect(clock.sleepers == 1 && lines("starts").count == 2, "the second pause did not double")
        clock.advance(by: 0.1)
        #expect(await eventually { lines("starts").count == 3 })

        // Exits once more, then the engine stops during the pause: the pause ends, nothing starts.
        try await crash(expecting: 4)
        await rig.deployer.shutdown()
        #expect(await eventually { clock.sleepers == 0 }, "the supervisor still waits after the stop")
        clock.advance(by: 10)
        #expect(lines("starts").count == 3)
        for pid in lines("starts").compactMap({ Int32($0) }) { #expect(!running(pid)) }
    }

    @Test("a cancel wakes a service's wait at once: CANCELED without the clock moving")
    func cancelWakesTheWait() async throws {
        let clock = VirtualClock()
        let rig = try await rig(clock: clock)
        _ = try await commit(rig, content: "v1\n")
        _ = try app(rig, build: nil, run: "echo $$ >> \"$MARKS/pids\"; exec sleep 300", service: true)
        let (deployment, _) = try await rig.deployer.deploy(app: "web")
        await rig.deployer.step()
        #expect(try await parked(rig, clock, deployment.id!))
        let start = clock.now
        #expect(try await rig.deployer.cancel(deploymentID: deployment.id!))
        await rig.deployer.idle()
        let done = try #require(try rig.store.deployment(id: deployment.id!))
        #expect(done.phase == .canceled && done.reason == "canceled during run")
        #expect(clock.now == start)
        let pid = try #require(lines("pids").first.flatMap { Int32($0) })
        #expect(!running(pid))
    }

    @Test("a step's timeout is read from the clock: still running at 29 s, ERROR at 30 s")
    func stepTimeoutOnTheClock() async throws {
        let clock = VirtualClock()
        var settings = Deployer.Settings()
        settings.grace = 1
        let rig = try await rig(settings, clock: clock)
        _ = try await commit(rig, content: "x\n")
        _ = try app(rig, build: nil, run: "echo \"started $$\"; exec sleep 300", timeout: 30)
        let (deployment, _) = try await rig.deployer.deploy(app: "web")
        await rig.deployer.step()
        #expect(try await eventually { try log(rig, deployment.id!).contains("started ") })
        clock.advance(by: 29)
        #expect(try phase(rig, deployment.id!) == .deploying)
        clock.advance(by: 1)
        await rig.deployer.idle()
        let done = try #require(try rig.store.deployment(id: deployment.id!))
        #expect(done.phase == .error)
        #expect(done.reason == "timed out after 30 s in step run")
    }
}
