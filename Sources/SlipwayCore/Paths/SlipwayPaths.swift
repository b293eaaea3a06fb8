import Foundation

/// Where Slipway keeps its files. Precedence: `--home DIR` > `SLIPWAY_HOME` > the XDG variables
/// (absolute paths only, as the spec says) > `$HOME` defaults.
public struct SlipwayPaths: Sendable, Equatable {
    /// How the locations were chosen, for `doctor` and `status`.
    public enum Origin: String, Sendable, Codable {
        case flag = "--home"
        case environment = "SLIPWAY_HOME"
        case xdg = "XDG"
    }

    public var origin: Origin
    /// The single folder holding everything when `--home` or `SLIPWAY_HOME` is given.
    public var home: String?
    public var configDirectory: String
    public var dataDirectory: String
    public var stateDirectory: String

    public var configFile: String { configDirectory + "/config.toml" }
    public var userThemesDirectory: String { configDirectory + "/themes" }
    public var databaseFile: String { dataDirectory + "/slipway.db" }
    public var workDirectory: String { dataDirectory + "/work" }
    public var engineLockFile: String { dataDirectory + "/engine.lock" }
    public var logsDirectory: String { home.map { $0 + "/logs" } ?? stateDirectory }
    public var logFile: String { logsDirectory + "/slipway.log" }

    /// The vault key: `SLIPWAY_KEY_FILE` when set, else `key` in the data folder.
    public var keyFile: String

    public enum ResolutionError: Error, CustomStringConvertible, Equatable {
        case noHome

        public var description: String {
            "cannot find a place for Slipway's files: set HOME, SLIPWAY_HOME or pass --home DIR"
        }
    }

    public static func resolve(homeFlag: String?, environment: [String: String],
                               currentDirectory: String = FileManager.default.currentDirectoryPath) throws -> SlipwayPaths {
        func absolute(_ path: String) -> String {
            let expanded = path.hasPrefix("~/") ? (environment["HOME"] ?? "~") + path.dropFirst() : path
            let full = expanded.hasPrefix("/") ? expanded : currentDirectory + "/" + expanded
            return URL(fileURLWithPath: full).standardizedFileURL.path
        }
        func nonEmpty(_ key: String) -> String? {
            guard let value = environment[key], !value.isEmpty else { return nil }
            return value
        }
        let keyOverride = nonEmpty("SLIPWAY_KEY_FILE").map(absolute)

        if let flag = homeFlag, !flag.isEmpty {
            return single(home: absolute(flag), origin: .flag, keyOverride: keyOverride)
        }
        if let env = nonEmpty("SLIPWAY_HOME") {
            return single(home: absolute(env), origin: .environment, keyOverride: keyOverride)
        }

        // XDG: relative values are invalid and ignored.
        func xdg(_ key: String, default relative: String) throws -> String {
            if let value = nonEmpty(key), value.hasPrefix("/") {
                return URL(fileURLWithPath: value).standardizedFileURL.path
            }
            guard let home = nonEmpty("HOME"), home.hasPrefix("/") else { throw ResolutionError.noHome }
            return URL(fileURLWithPath: home + "/" + relative).standardizedFileURL.path
        }
        let config = try xdg("XDG_CONFIG_HOME", default: ".config") + "/slipway"
        let data = try xdg("XDG_DATA_HOME", default: ".local/share") + "/slipway"
        let state = try xdg("XDG_STATE_HOME", default: ".local/state") + "/slipway"
        return SlipwayPaths(origin: .xdg, home: nil, configDirectory: config, dataDirectory: data,
                            stateDirectory: state, keyFile: keyOverride ?? data + "/key")
    }

    private static func single(home: String, origin: Origin, keyOverride: String?) -> SlipwayPaths {
        SlipwayPaths(origin: origin, home: home, configDirectory: home, dataDirectory: home,
                     stateDirectory: home, keyFile: keyOverride ?? home + "/key")
    }

    /// Creates the folders Slipway writes to, owner-only. Folders that already exist keep the
    /// permissions their owner gave them (XDG asks for that); `doctor` reports loose ones.
    public func createDirectories() throws {
        for directory in [home, configDirectory, dataDirectory, logsDirectory, workDirectory].compactMap({ $0 }) {
            try Self.createPrivateDirectory(directory)
        }
    }

    static func createPrivateDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw FileError.notADirectory(path) }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path { try createPrivateDirectory(parent) }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw FileError.cannotCreate(path, reason: String(cString: strerror(errno)))
        }
        // The umask may have taken bits away, never added any; make it exactly 0700.
        chmod(path, 0o700)
    }
}

public enum FileError: Error, CustomStringConvertible, Equatable {
    case notADirectory(String)
    case cannotCreate(String, reason: String)
    case cannotWrite(String, reason: String)

    public var description: String {
        switch self {
        case let .notADirectory(path): "\(path) exists but is not a folder; move it away or choose another home"
        case let .cannotCreate(path, reason): "cannot create \(path): \(reason)"
        case let .cannotWrite(path, reason): "cannot write \(path): \(reason)"
        }
    }
}
