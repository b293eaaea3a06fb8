import Foundation
import Synchronization

/// Sealed secrets a long-running process opens again and again (a hook's secret, for every
/// delivery to its repository), kept opened in memory — where the vault's key already is — by
/// their sealed bytes and context, so a secret re-sealed or rotated is simply a new entry.
/// Bounded: past `capacity` entries it starts afresh.
public final class OpenedSecrets: Sendable {
    private struct Key: Hashable {
        var context: String
        var sealed: Data
    }

    private let opened = Mutex<[Key: String]>([:])
    private let capacity: Int

    public init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    /// The opened text of `sealed`, opening it with `vault` the first time; nil when it does not open.
    public func open(_ sealed: Data, context: String, vault: () throws -> Vault) throws -> String? {
        let key = Key(context: context, sealed: sealed)
        if let known = opened.withLock({ $0[key] }) { return known }
        guard let secret = try? vault().openString(sealed, context: context) else { return nil }
        opened.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = secret
        }
        return secret
    }

    public var count: Int { opened.withLock { $0.count } }
}
