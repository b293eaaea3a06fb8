import Foundation
import Testing
@testable import SlipwayCore
import SlipwayProviders

@Suite("Model and paths")
struct ModelTests {
    @Test("mirror paths: the branch is everything after the third slash")
    func mirrorPath() throws {
        #expect(try MirrorPath.parse("bitbucket") == MirrorPath(provider: .bitbucket))
        #expect(try MirrorPath.parse("bitbucket/") == MirrorPath(provider: .bitbucket))
        #expect(try MirrorPath.parse("bitbucket/acme/api") == MirrorPath(provider: .bitbucket, workspace: "acme", repository: "api"))
        #expect(try MirrorPath.parse("bitbucket/acme/api/feature/login/v2")
            == MirrorPath(provider: .bitbucket, workspace: "acme", repository: "api", branch: "feature/login/v2"))
        #expect(throws: MirrorPath.ParseError.unknownProvider("svn")) { try MirrorPath.parse("svn/x") }
        #expect(throws: MirrorPath.ParseError.self) { try MirrorPath.parse("bitbucket//api") }
        #expect(try MirrorPath.parse("bitbucket/acme/api/feature/x").description == "bitbucket/acme/api/feature/x")
    }

    @Test("column names map to properties with ID and URL acronyms")
    func columnNaming() {
        #expect(ColumnNaming.propertyName(forColumn: "id") == "id")
        #expect(ColumnNaming.propertyName(forColumn: "api_url") == "apiURL")
        #expect(ColumnNaming.propertyName(forColumn: "workspace_id") == "workspaceID")
        #expect(ColumnNaming.propertyName(forColumn: "token_expires_at") == "tokenExpiresAt")
    }

    @Test("app names", arguments: [("api", true), ("web-2", true), ("a_b", true), ("", false), ("-x", false), ("Api", false),
                                  ("a b", false), ("a;rm", false), (String(repeating: "a", count: 64), false)])
    func appNames(name: String, valid: Bool) {
        #expect(App.isValidName(name) == valid)
    }

    @Test("phases: final and in-progress")
    func phases() {
        #expect(DeploymentPhase.allCases.map(\.rawValue) == ["PENDING_BUILD", "BUILDING", "PENDING_DEPLOY", "DEPLOYING", "ACTIVE", "SUPERSEDED", "ERROR", "CANCELED", "UNKNOWN"])
        #expect(DeploymentPhase.allCases.filter(\.isFinal) == [.superseded, .error, .canceled])
        #expect(DeploymentPhase.allCases.filter(\.isInProgress) == [.pendingBuild, .building, .pendingDeploy, .deploying])
    }

    @Test("JSON: snake_case keys, UTC timestamps with Z")
    func json() throws {
        struct Sample: Encodable { var lastSyncAt: Date; var displayName: String }
        let text = try JSONOutput.string(Sample(lastSyncAt: Date(timeIntervalSince1970: 1_790_000_000), displayName: "a/b"))
        #expect(text == #"{"display_name":"a/b","last_sync_at":"2026-09-21T14:13:20Z"}"#)
        #expect(JSONOutput.timestamp(Date(timeIntervalSince1970: 0.25)) == "1970-01-01T00:00:00.250Z")
        #expect(JSONOutput.parseTimestamp("2026-09-21T14:13:20Z") == Date(timeIntervalSince1970: 1_790_000_000))
    }
}
