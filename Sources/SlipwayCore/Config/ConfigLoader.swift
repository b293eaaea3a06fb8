import Foundation
import SlipwayProviders
import TOMLKit

/// A problem in a file Slipway reads (the config, a theme, a key remap): one line naming the
/// file, the line when known, and the fix.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// Every problem found in one file, reported together (a line each).
public struct ConfigProblems: Error, CustomStringConvertible, Equatable {
    public var problems: [ConfigError]

    public init(problems: [ConfigError]) {
        self.problems = problems
    }

    public init(_ problem: ConfigError) {
        problems = [problem]
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// A config problem Slipway can live with (an unknown key), reported and otherwise ignored.
public struct ConfigWarning: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

public struct LoadedConfig: Sendable {
    public var config: SlipwayConfig
    public var warnings: [ConfigWarning]
    /// False when no config file exists (all defaults).
    public var fileExists: Bool
    /// The file's text, to find a key's line for later messages (key remaps).
    public var text: String = ""

    /// The line a key is set on, e.g. `["keys", "quit"]`.
    public func line(of path: [String]) -> Int? {
        KeyLocator(text: text).line(of: path)
    }
}

public enum ConfigLoader {
    /// Loads the config file, or the defaults when there is none.
    public static func load(path: String) throws(ConfigProblems) -> LoadedConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            return LoadedConfig(config: SlipwayConfig(), warnings: [], fileExists: false)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigProblems(ConfigError(file: path, line: nil, message: "cannot be read; check its permissions"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigProblems(ConfigError(file: path, line: nil, message: "is not UTF-8 text"))
        }
        var loaded = try parse(text, file: path)
        loaded.fileExists = true
        return loaded
    }

    /// Parses config text; `file` names it in messages.
    public static func parse(_ text: String, file: String) throws(ConfigProblems) -> LoadedConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigProblems(ConfigError(file: file, line: error.source.begin.line, message: "not valid TOML: \(oneLine(error.description))"))
        } catch {
            throw ConfigProblems(ConfigError(file: file, line: nil, message: "not valid TOML: \(oneLine("\(error)"))"))
        }
        var reader = Reader(file: file, locator: KeyLocator(text: text))
        let config = try reader.read(table)
        return LoadedConfig(config: config, warnings: reader.warnings, fileExists: true, text: text)
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// Walks the parsed table, checking types and ranges and collecting unknown keys.
private struct Reader {
    let file: String
    let locator: KeyLocator
    var warnings: [ConfigWarning] = []
    var problems: [ConfigError] = []

    init(file: String, locator: KeyLocator) {
        self.file = file
        self.locator = locator
    }

    /// Every problem is collected, so one look at the file shows them all (not one per restart).
    mutating func read(_ root: TOMLTable) throws(ConfigProblems) -> SlipwayConfig {
        var config = SlipwayConfig()
        for key in root.keys.sorted() {
            let value = root[key]!
            switch key {
            case "engine":
                let t: TOMLTable
                do throws(ConfigError) { t = try table(value, ["engine"]) } catch { problems.append(error); continue }
                for k in t.keys.sorted() {
                    do throws(ConfigError) {
                        let v = t[k]!
                        switch k {
                        case "budget_fraction":
                            config.engine.budgetFraction = try double(v, ["engine", k], range: 0.01...1.0)
                        case "app_poll_seconds":
                            config.engine.appPollSeconds = try int(v, ["engine", k], range: 1...86400)
                        default: unknown(["engine", k])
                        }
                    } catch { problems.append(error) }
                }
            case "providers":
                let t: TOMLTable
                do throws(ConfigError) { t = try table(value, ["providers"]) } catch { problems.append(error); continue }
                for name in t.keys.sorted() {
                    guard ProviderKind(rawValue: name) != nil else { unknown(["providers", name]); continue }
                    let p: TOMLTable
                do throws(ConfigError) { p = try table(t[name]!, ["providers", name]) } catch { problems.append(error); continue }
                    var provider = SlipwayConfig.Provider()
                    for k in p.keys.sorted() {
                        do throws(ConfigError) {
                            let v = p[k]!
                            switch k {
                            case "requests_per_hour":
                                provider.requestsPerHour = try int(v, ["providers", name, k], range: 1...10_000_000)
                            case "requests_per_minute":
                                provider.requestsPerMinute = try int(v, ["providers", name, k], range: 0...1_000_000)
                            case "git_requests_per_hour":
                                provider.gitRequestsPerHour = try int(v, ["providers", name, k], range: 1...10_000_000)
                            case "graphql_points_per_hour":
                                provider.graphQLPointsPerHour = try int(v, ["providers", name, k], range: 1...10_000_000)
                            case "max_in_flight":
                                provider.maxInFlight = try int(v, ["providers", name, k], range: 1...64)
                            case "cache_mb" where name == ProviderKind.git.rawValue:
                                provider.cacheMB = try int(v, ["providers", name, k], range: 1...1_000_000)
                            case "client_id":
                                provider.clientID = try string(v, ["providers", name, k])
                            case "client_secret_file":
                                provider.clientSecretFile = try string(v, ["providers", name, k])
                            case "client_secret":
                                throw error(["providers", name, k], "secrets do not belong in the config file; put it in a 0600 file and name it with client_secret_file")
                            default: unknown(["providers", name, k])
                            }
                        } catch { problems.append(error) }
                    }
                    config.providers[name] = provider
                }
            case "webhooks":
                let t: TOMLTable
                do throws(ConfigError) { t = try table(value, ["webhooks"]) } catch { problems.append(error); continue }
                for k in t.keys.sorted() {
                    do throws(ConfigError) {
                        let v = t[k]!
                        switch k {
                        case "listen":
                            let listen = try string(v, ["webhooks", k])
                            guard ListenAddress(listen) != nil else {
                                throw error(["webhooks", k], "'\(listen)' is not HOST:PORT (e.g. \"127.0.0.1:8787\")")
                            }
                            config.webhooks.listen = listen
                        case "public_url":
                            let url = try string(v, ["webhooks", k])
                            guard url.isEmpty || url.hasPrefix("https://") || url.hasPrefix("http://") else {
                                throw error(["webhooks", k], "'\(url)' is not an http(s) URL")
                            }
                            config.webhooks.publicURL = url
                        case "sweep_seconds":
                            config.webhooks.sweepSeconds = try int(v, ["webhooks", k], range: 60...86400)
                        default: unknown(["webhooks", k])
                        }
                    } catch { problems.append(error) }
                }
            case "deploy":
                let t: TOMLTable
                do throws(ConfigError) { t = try table(value, ["deploy"]) } catch { problems.append(error); continue }
                for k in t.keys.sorted() {
                    do throws(ConfigError) {
                        let v = t[k]!
                        switch k {
                        case "max_parallel": config.deploy.maxParallel = try int(v, ["deploy", k], range: 1...64)
                        case "keep_deployments": config.deploy.keepDeployments = try int(v, ["deploy", k], range: 1...10000)
                        default: unknown(["deploy", k])
                        }
                    } catch { problems.append(error) }
                }
            case "ui":
                let t: TOMLTable
                do throws(ConfigError) { t = try table(value, ["ui"]) } catch { problems.append(error); continue }
                for k in t.keys.sorted() {
                    do throws(ConfigError) {
                        let v = t[k]!
                        switch k {
                        case "theme": config.ui.theme = try string(v, ["ui", k])
                        case "readonly": config.ui.readonly = try bool(v, ["ui", k])
                        case "notify":
                            let style = try string(v, ["ui", k])
                            guard ["bell", "osc", "off"].contains(style) else {
                                throw error(["ui", k], "must be \"bell\", \"osc\" or \"off\", not \"\(style)\"")
                            }
                            config.ui.notify = style
                        default: unknown(["ui", k])
                        }
                    } catch { problems.append(error) }
                }
            case "keys":
                let t: TOMLTable
                do throws(ConfigError) { t = try table(value, ["keys"]) } catch { problems.append(error); continue }
                for k in t.keys.sorted() {
                    do throws(ConfigError) {
                        let v = t[k]!
                        if let list = v.array {
                            var keys: [String] = []
                            for item in list {
                                guard let text = item.string else { throw error(["keys", k], "expected key names as strings") }
                                keys.append(text)
                            }
                            config.keys[k] = keys
                        } else {
                            config.keys[k] = [try string(v, ["keys", k])]
                        }
                    } catch { problems.append(error) }
                }
            default:
                unknown([key])
            }
        }
        guard problems.isEmpty else { throw ConfigProblems(problems: problems) }
        return config
    }

    // MARK: Typed access with errors that name the key and its line

    fileprivate func error(_ path: [String], _ message: String) -> ConfigError {
        ConfigError(file: file, line: locator.line(of: path), message: "\(path.joined(separator: ".")): \(message)")
    }

    private mutating func unknown(_ path: [String]) {
        warnings.append(ConfigWarning(file: file, line: locator.line(of: path),
                                      message: "unknown key '\(path.joined(separator: "."))' ignored"))
    }

    private func table(_ value: any TOMLValueConvertible, _ path: [String]) throws(ConfigError) -> TOMLTable {
        guard let t = value.table else { throw error(path, "expected a table, found \(value.type)") }
        return t
    }

    private func string(_ value: any TOMLValueConvertible, _ path: [String]) throws(ConfigError) -> String {
        guard let s = value.string else { throw error(path, "expected a string, found \(value.type)") }
        return s
    }

    private func bool(_ value: any TOMLValueConvertible, _ path: [String]) throws(ConfigError) -> Bool {
        guard value.type == .bool, let b = value.bool else { throw error(path, "expected true or false, found \(value.type)") }
        return b
    }

    private func int(_ value: any TOMLValueConvertible, _ path: [String], range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard value.type == .int, let i = value.int else { throw error(path, "expected an integer, found \(value.type)") }
        guard range.contains(i) else { throw error(path, "\(i) is out of range \(range.lowerBound)…\(range.upperBound)") }
        return i
    }

    private func double(_ value: any TOMLValueConvertible, _ path: [String], range: ClosedRange<Double>) throws(ConfigError) -> Double {
        let d: Double
        if value.type == .double, let v = value.double { d = v }
        else if value.type == .int, let v = value.int { d = Double(v) }
        else { throw error(path, "expected a number, found \(value.type)") }
        guard range.contains(d) else { throw error(path, "\(d) is out of range \(range.lowerBound)…\(range.upperBound)") }
        return d
    }
}

/// TOMLKit gives values without positions, so messages find a key's line in the source text:
/// the line that assigns it under its table header (or as a dotted key).
struct KeyLocator {
    private var lines: [Substring]

    init(text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    func line(of path: [String]) -> Int? {
        guard let key = path.last else { return nil }
        let parent = path.dropLast().joined(separator: ".")
        var currentTable = ""
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                let name = line.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: "#").first
                currentTable = (name.map(String.init) ?? "").trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\"", with: "")
                if path.count > 0, currentTable == path.joined(separator: ".") { return index + 1 }
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let assigned = line[..<eq].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\"", with: "")
            let full = currentTable.isEmpty ? assigned : currentTable + "." + assigned
            if assigned == key && currentTable == parent { return index + 1 }
            if full == path.joined(separator: ".") { return index + 1 }
        }
        return nil
    }
}

/// `HOST:PORT` for a listener (IPv6 as `[::1]:8787`).
public struct ListenAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init?(_ text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (0...65535).contains(port) else { return nil }
        host = String(hostPart)
        self.port = port
    }
}
