import Foundation
import Testing
import SlipwayCore
@testable import SlipwayTUI

/// Issue 26's screens with Bitbucket, GitHub, GitLab and App Platform linked: the providers, every
/// branch across them (three repositories named auth, told apart), which commit runs where, and
/// the apps on both backends — text and style roles at both sizes.
@Suite("Dashboard across providers")
struct AcrossProvidersSnapshotTests {
    func keys(_ controller: DashboardController, _ keys: Key...) {
        for key in keys { controller.send(.key(key)) }
    }

    func type(_ controller: DashboardController, _ text: String) {
        for character in text { controller.send(.key(.char(character))) }
    }

    func command(_ controller: DashboardController, _ text: String) {
        keys(controller, .char(":"))
        type(controller, text)
        keys(controller, .enter)
    }

    @Test("providers with their states, every branch across providers, where each app runs, and the apps on both backends", arguments: ViewSnapshotTests.sizes)
    func screens(width: Int, height: Int) throws {
        let fixture = try DashboardFixture(acrossProviders: true)
        let c = fixture.controller(width: width, height: height)
        let size = "\(width)x\(height)"
        Snapshot.check(c.render(), "across-providers-\(size)", roles: true)
        command(c, "branches")
        Snapshot.check(c.render(), "across-branches-\(size)", roles: true)
        // Typing finds GitHub's auth among the three; its row says the app there is behind.
        keys(c, .char("/"))
        type(c, "auth")
        keys(c, .enter)
        Snapshot.check(c.render(), "across-branches-auth-\(size)", roles: true)
        let rows = c.state.current.items.compactMap { item -> String? in
            guard case let .branch(row) = item else { return nil }
            return row.provider
        }
        #expect(rows == ["github", "gitlab"], "\(rows)")
        let github = try #require(c.state.current.items.compactMap { item -> Store.BranchRow? in
            if case let .branch(row) = item, row.provider == "github" { row } else { nil }
        }.first)
        #expect(TableView.whereDeployed(try #require(github.apps.first), head: github.branch.headHash) == "shop 2 commits behind")
        // Its detail says which commit runs where; opening it says whose branch it is.
        keys(c, .char("p"))
        Snapshot.check(c.render(), "across-branch-detail-\(size)")
        keys(c, .char("p"), .enter)
        #expect(c.state.current.title == "github/ada-l/auth/main")
        command(c, "apps")
        Snapshot.check(c.render(), "across-apps-\(size)", roles: true)
    }

    @Test("the row of an app that failed says where; one deploying says which commit")
    func whereDeployedTexts() {
        let head = String(repeating: "a", count: 40)
        func state(_ phase: DeploymentPhase?, latest: String? = nil, active: String? = nil, failed: String? = nil, behind: Int? = nil) -> Store.AppState {
            Store.AppState(name: "web", branch: "main", phase: phase, latestCommit: latest, activeCommit: active, failedStep: failed, behind: behind)
        }
        #expect(TableView.whereDeployed(state(nil), head: head) == "web never deployed")
        #expect(TableView.whereDeployed(state(.building, latest: "abc1234ffff"), head: head) == "web deploying abc1234")
        #expect(TableView.whereDeployed(state(.error, failed: "build"), head: head) == "web failed at build")
        #expect(TableView.whereDeployed(state(.active, active: head), head: head) == "web live")
        #expect(TableView.whereDeployed(state(.active, active: "b", behind: 1), head: head) == "web 1 commit behind")
        #expect(TableView.whereDeployed(state(.superseded, active: "bbbbbbbbbb"), head: head) == "web runs bbbbbbb")
        #expect(TableView.deployedRole("web failed at build, api live") == .phaseError)
        #expect(TableView.deployedRole("web 3 commits behind") == .phaseSuperseded)
    }
}
