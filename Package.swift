// swift-tools-version: 6.0
import PackageDescription

// Module direction (DESIGN.md): the core knows no terminal and no server, providers know no
// store, the TUI knows no HTTP. Each target below may import only what its dependencies list.
let package = Package(
    name: "Slipway",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "slipway", targets: ["slipway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // A real GraphQL engine for the sandbox's GitHub (about 20 s of a cold build).
        .package(url: "https://github.com/GraphQLSwift/GraphQL", from: "4.3.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // System libraries: a module map plus a small shim for macros, globals and variadics.
        .systemLibrary(
            name: "CNcurses",
            pkgConfig: "ncursesw",
            providers: [.apt(["libncursesw5-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),

        // posix_spawn's closefrom action, which Swift's Glibc module does not expose, and a file's mode.
        .target(name: "CSpawn"),
        // SQLite settings that are variadic C calls: allocation statistics off, lookaside size.
        .target(name: "CSQLiteTuning", linkerSettings: [.linkedLibrary("sqlite3")]),
        // glibc's mallopt, which Swift's Glibc module does not import: the sandbox keeps freed memory.
        .target(name: "CMallocTuning"),
        .target(name: "SlipwayHTTP", dependencies: ["CCurl"]),
        // Crypto for PKCE challenges and webhook signatures.
        .target(name: "SlipwayProviders", dependencies: ["SlipwayHTTP", .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "SlipwayCore",
            dependencies: [
                "SlipwayHTTP",
                "SlipwayProviders",
                "CSpawn",
                "CSQLiteTuning",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the one read that walks a million rows (the search index).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        .target(
            name: "SlipwayServer",
            dependencies: [
                "SlipwayProviders",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "SlipwayTUI", dependencies: ["SlipwayCore", "CNcurses"]),
        .target(
            name: "SlipwaySandbox",
            dependencies: [
                "CMallocTuning",
                "SlipwayHTTP",
                "SlipwayProviders",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GraphQL", package: "GraphQL"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        // Commands live in a library so tests can parse and run them; the executable only calls main.
        .target(
            name: "SlipwayCLI",
            dependencies: [
                "CSpawn",
                "SlipwayHTTP",
                "SlipwayProviders",
                "SlipwayCore",
                "SlipwayServer",
                "SlipwayTUI",
                "SlipwaySandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "slipway", dependencies: ["SlipwayCLI"]),
        // Benchmark commands (see BENCHMARKS.md); not part of the product.
        .executableTarget(
            name: "slipway-bench",
            dependencies: ["SlipwayHTTP", "SlipwayCore", "SlipwayProviders", "SlipwaySandbox", "SlipwayTUI", "CSpawn",
                           "SlipwayServer", "SlipwayCLI",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "GRDB", package: "GRDB.swift")]
        ),

        // A raw loopback HTTP server the test targets share (misbehaving servers, redirects).
        .target(name: "SlipwayTestSupport", path: "Tests/SlipwayTestSupport"),
        .testTarget(name: "SlipwayHTTPTests", dependencies: ["SlipwayHTTP", "SlipwayTestSupport"]),
        .testTarget(name: "SlipwayProvidersTests", dependencies: ["SlipwayProviders", "SlipwaySandbox"]),
        .testTarget(name: "SlipwayCoreTests", dependencies: ["SlipwayCore", "SlipwayHTTP", "SlipwayProviders", "CSpawn", "CSQLiteTuning", "SlipwayTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "SlipwayTUITests", dependencies: ["SlipwayTUI", "SlipwayCore", "SlipwayHTTP", "SlipwayProviders", .product(name: "GRDB", package: "GRDB.swift")], exclude: ["Snapshots"]),
        .testTarget(name: "SlipwayServerTests", dependencies: ["SlipwayServer", "SlipwayHTTP", "SlipwayProviders"]),
        // The core against the sandbox over real loopback HTTP.
        .testTarget(
            name: "SlipwayIntegrationTests",
            dependencies: ["SlipwayCore", "SlipwaySandbox", "SlipwayHTTP", "SlipwayProviders", "SlipwayTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "SlipwaySandboxTests", dependencies: ["SlipwaySandbox", "SlipwayHTTP", "SlipwayProviders", .product(name: "GraphQL", package: "GraphQL"),
                                                            .product(name: "OrderedCollections", package: "swift-collections")]),
        .testTarget(name: "SlipwayCLITests", dependencies: ["SlipwayCLI", "SlipwayTestSupport", "CSpawn", "SlipwayCore", "SlipwaySandbox", "SlipwayHTTP", "SlipwayTUI", "SlipwayServer", .product(name: "GRDB", package: "GRDB.swift")]),
    ],
    swiftLanguageModes: [.v6]
)

// A module that uses another's members must import it (SE-0444): imports say what a file uses,
// so scripts/check-architecture sees every dependency the module table governs.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
