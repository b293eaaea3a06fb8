import Foundation

/// A bounded positive wait: true as soon as `condition` holds, false once `seconds` of real time
/// have passed without it. Tests wait for what must happen this way, never for a fixed time.
public func eventually(within seconds: TimeInterval = 20, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while true {
        if try await condition() { return true }
        if Date() >= end { return false }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
}
