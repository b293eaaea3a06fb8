import Foundation
import Testing
@testable import SlipwayCore

@Suite("Vault")
struct VaultTests {
    let tmp = TemporaryDirectory()

    @Test("seals and opens; the key file is 32 bytes, 0600")
    func roundTrip() throws {
        let keyPath = tmp.file("key")
        let vault = try Vault.open(keyFile: keyPath, create: true)
        #expect(mode(of: keyPath) == 0o600)
        #expect(FileManager.default.contents(atPath: keyPath)?.count == 32)
        let sealed = try vault.seal("s3cr3t-token", context: "account:1:token")
        #expect(!String(decoding: sealed, as: UTF8.self).contains("s3cr3t"))
        #expect(try vault.openString(sealed, context: "account:1:token") == "s3cr3t-token")
        // Random nonces: the same secret never seals the same way twice.
        #expect(try vault.seal("s3cr3t-token", context: "account:1:token") != sealed)
        // Reopening uses the same key.
        #expect(try Vault.open(keyFile: keyPath, create: true).openString(sealed, context: "account:1:token") == "s3cr3t-token")
    }

    @Test("ciphertext is bound to its owner")
    func associatedData() throws {
        let vault = try Vault.open(keyFile: tmp.file("key"), create: true)
        let sealed = try vault.seal("token", context: "account:1:token")
        #expect(throws: VaultError.cannotOpen(context: "account:2:token")) { try vault.open(sealed, context: "account:2:token") }
    }

    @Test("a key readable by others is refused with the chmod that fixes it")
    func looseKey() throws {
        let keyPath = tmp.file("key")
        _ = try Vault.open(keyFile: keyPath, create: true)
        chmod(keyPath, 0o644)
        do {
            _ = try Vault.open(keyFile: keyPath, create: true)
            Issue.record("a loose key was accepted")
        } catch {
            #expect(error.description.contains("chmod 600 \(keyPath)"))
        }
    }

    @Test("a missing key is not silently replaced when secrets exist")
    func missingKey() {
        #expect(throws: VaultError.keyMissing(tmp.file("key"))) { try Vault.open(keyFile: tmp.file("key"), create: false) }
    }

    @Test("a wrong key cannot open, and says so without destroying anything")
    func wrongKey() throws {
        let sealed = try Vault.open(keyFile: tmp.file("a"), create: true).seal("token", context: "c")
        let other = try Vault.open(keyFile: tmp.file("b"), create: true)
        #expect(throws: VaultError.cannotOpen(context: "c")) { try other.open(sealed, context: "c") }
        #expect(throws: VaultError.cannotOpen(context: "c")) { try other.open(Data([1, 2, 3]), context: "c") }
    }

    @Test("a truncated key file is reported")
    func malformedKey() throws {
        let keyPath = tmp.write("key", "short")
        chmod(keyPath, 0o600)
        #expect(throws: VaultError.keyMalformed(keyPath, bytes: 5)) { try Vault.open(keyFile: keyPath, create: true) }
    }
}
