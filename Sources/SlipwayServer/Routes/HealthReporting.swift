/// What `GET /healthz` answers: healthy or not, and a JSON body saying why.
public struct HealthReport: Sendable, Equatable {
    public var healthy: Bool
    public var json: String

    public init(healthy: Bool, json: String) {
        self.healthy = healthy
        self.json = json
    }
}

/// Asked at each `GET /healthz` (the CLI wires it to the engine and the store).
public protocol HealthReporting: Sendable {
    func health() async -> HealthReport
}
