import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SlipwayHTTP

/// Benchmark commands. Results go to stdout as one JSON object per run, so scripts can tabulate
/// them; see BENCHMARKS.md for how they are run and what they measured.
@main
struct SlipwayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slipway-bench",
        abstract: "Benchmarks for Slipway's building blocks.",
        subcommands: [HTTPGets.self, Freshness.self, EngineStepBench.self, DashboardBench.self, PTYAnchor.self, WebhooksBench.self, BranchIndexBench.self]
    )
}

struct HTTPGets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "N small GETs of one URL with C in flight, through Slipway's client or URLSession."
    )

    enum Client: String, ExpressibleByArgument { case slipway, urlsession }

    @Option(help: "The URL to fetch.") var url: String
    @Option(help: "Requests in all.") var requests = 10_000
    @Option(help: "Requests in flight.") var concurrency = 8
    @Option(help: "slipway or urlsession.") var client: Client = .slipway
    @Option(help: "Unmeasured requests first (connections, caches).") var warmup = 200

    func run() async throws {
        let fetch: @Sendable () async throws -> Int
        switch client {
        case .slipway:
            let http = HTTPClient(transport: CurlTransport())
            fetch = { try await http.send(HTTPRequest(url: url)).body.count }
        case .urlsession:
            let configuration = URLSessionConfiguration.ephemeral
            configuration.httpMaximumConnectionsPerHost = concurrency
            let session = URLSession(configuration: configuration)
            let target = URL(string: url)!
            fetch = {
                let (data, response) = try await session.data(from: target)
                guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw CocoaError(.fileReadUnknown) }
                return data.count
            }
        }
        _ = try await Self.drive(total: warmup, concurrency: concurrency, fetch: fetch)
        let start = DispatchTime.now().uptimeNanoseconds
        let bytes = try await Self.drive(total: requests, concurrency: concurrency, fetch: fetch)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let result: [String: Any] = [
            "client": client.rawValue, "requests": requests, "concurrency": concurrency, "seconds": seconds,
            "requests_per_second": Double(requests) / seconds, "bytes": bytes, "peak_rss_kib": Self.peakRSSKiB(),
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// `concurrency` workers share `total` requests.
    static func drive(total: Int, concurrency: Int, fetch: @escaping @Sendable () async throws -> Int) async throws -> Int {
        let next = Ticket(limit: total)
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var bytes = 0
                    while next.take() { bytes += try await fetch() }
                    return bytes
                }
            }
            return try await group.reduce(0, +)
        }
    }

    /// VmHWM: the process's peak resident set.
    static func peakRSSKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1
        }
        return -1
    }
}

final class Ticket: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int

    init(limit: Int) { remaining = limit }

    func take() -> Bool {
        lock.withLock {
            guard remaining > 0 else { return false }
            remaining -= 1
            return true
        }
    }
}
