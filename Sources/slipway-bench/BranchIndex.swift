import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayTUI

/// The dashboard's search index read from a kept home (`dashboard --keep`) in this process:
/// wall and CPU time per read, and the peak RSS it takes — the part of opening a large list that
/// is the store's, without the terminal.
struct BranchIndexBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "branch-index",
        abstract: "Time reading the dashboard's branch search index from a kept home."
    )

    @Option(help: "A home kept by `dashboard --keep`.") var home: String
    @Option(help: "The sort (name, recent, size, provider).") var sort = "name"
    @Option(help: "Scopes at least this large are read in halves (a large number: one read).") var partRows = Store.indexPartRows
    @Option(help: "Reads to time.") var runs = 3
    @Option(help: "Times to type the keystrokes, each on a fresh filter (the last is reported; more to profile them).") var rounds = 1

    func run() throws {
        guard let order = Store.BrowseSort(rawValue: sort) else { throw ValidationError("no sort \(sort)") }
        let store = try Store(path: home + "/slipway.db")
        var walls: [Double] = [], cpus: [Double] = []
        var count = 0
        var kept: Store.BranchSearchIndex?
        for _ in 0..<runs {
            let cpu = Self.cpuSeconds(), wall = Date()
            let index = try store.branchSearchIndex(accountID: nil, repositoryID: nil, sort: order, partRows: partRows)
            walls.append(Date().timeIntervalSince(wall) * 1000)
            cpus.append((Self.cpuSeconds() - cpu) * 1000)
            count = index?.count ?? 0
            kept = index
        }
        // The dashboard bench's keystrokes: typing `feature/7`, then deleting it, a window each.
        var keys: [Double] = []
        let typing = Date(), typingCPU = Self.cpuSeconds()
        for _ in 0..<rounds {
            guard let kept else { break }
            keys = []
            var filter = BranchFilter(index: kept, builtAt: Date())
            var needles = (1...9).map { String("feature/7".prefix($0)) }
            needles += needles.reversed().dropFirst() + [""]
            for needle in needles {
                let started = Date()
                _ = filter.ids(matching: needle, offset: 0, limit: 36)
                keys.append((Date().timeIntervalSince(started) * 10_000).rounded() / 10)
            }
        }
        let typingWall = Date().timeIntervalSince(typing) * 1000, typingCPUms = (Self.cpuSeconds() - typingCPU) * 1000
        let result: [String: Any] = ["branches": count, "sort": sort, "part_rows": partRows,
                                     "wall_ms": walls.map { ($0 * 10).rounded() / 10 }, "cpu_ms": cpus.map { ($0 * 10).rounded() / 10 }, "filter_keystrokes_ms": keys,
                                     "filter_rounds_wall_ms": (typingWall * 10).rounded() / 10, "filter_rounds_cpu_ms": (typingCPUms * 10).rounded() / 10,
                                     "peak_rss_mib": Double(Self.peakRSSKiB()) / 1024]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func peakRSSKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
        }
        return -1
    }
}
