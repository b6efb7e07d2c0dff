// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "pisync",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pisync", targets: ["pisync"]),
        .executable(name: "pisync-bench", targets: ["pisync-bench"]),
        .library(name: "PiSyncClient", targets: ["PiSyncClient"]),
        .library(name: "PiSyncProtocol", targets: ["PiSyncProtocol"]),
        .library(name: "PiSyncStore", targets: ["PiSyncStore"]),
        .library(name: "PiSyncPersistence", targets: ["PiSyncPersistence"]),
        .library(name: "PiSyncServer", targets: ["PiSyncServer"]),
        .library(name: "PiSyncAuth", targets: ["PiSyncAuth"]),
        .library(name: "PiSyncAdmin", targets: ["PiSyncAdmin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // The wire contract: generated messages and the varint frame codec.
        .target(
            name: "PiSyncProtocol",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // The domain: events, status, store, failure tracking. No NIO, no files.
        .target(name: "PiSyncStore"),
        // The data directory: snapshot file, write-ahead log, recovery, repair. No NIO.
        .target(
            name: "PiSyncPersistence",
            dependencies: [
                "PiSyncStore",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Device and operator tokens: HMAC-SHA256 under the server's secrets. No NIO.
        .target(
            name: "PiSyncAuth",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // The NIO server, request dispatch, alert subscriptions and configuration.
        .target(
            name: "PiSyncServer",
            dependencies: [
                "PiSyncProtocol",
                "PiSyncStore",
                "PiSyncPersistence",
                "PiSyncAuth",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The admin HTTP port (Hummingbird): /metrics, /healthz, /readyz and the REST gateway.
        .target(
            name: "PiSyncAdmin",
            dependencies: [
                "PiSyncServer",
                "PiSyncStore",
                "PiSyncPersistence",
                "PiSyncAuth",
                "PiSyncProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The async client library used by the CLI and the tests.
        .target(
            name: "PiSyncClient",
            dependencies: [
                "PiSyncProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "pisync",
            dependencies: [
                "PiSyncAdmin",
                "PiSyncAuth",
                "PiSyncClient",
                "PiSyncServer",
                "PiSyncStore",
                "PiSyncPersistence",
                "PiSyncProtocol",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // Benchmarks and load tools (docs/performance.md), not shipped in `pisync`.
        .executableTarget(
            name: "pisync-bench",
            dependencies: [
                "PiSyncServer",
                "PiSyncClient",
                "PiSyncStore",
                "PiSyncPersistence",
                "PiSyncProtocol",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(
            name: "PiSyncProtocolTests",
            dependencies: [
                "PiSyncProtocol",
                "PiSyncTestSupport",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        // Fixtures shared by the store, persistence, server and admin tests.
        .target(
            name: "PiSyncTestSupport",
            dependencies: ["PiSyncStore", "PiSyncPersistence"],
            path: "Tests/PiSyncTestSupport"
        ),
        .testTarget(
            name: "PiSyncAuthTests",
            dependencies: ["PiSyncAuth"]
        ),
        .testTarget(
            name: "PiSyncStoreTests",
            dependencies: ["PiSyncStore", "PiSyncTestSupport"]
        ),
        .testTarget(
            name: "PiSyncPersistenceTests",
            dependencies: ["PiSyncPersistence", "PiSyncStore", "PiSyncTestSupport"]
        ),
        .testTarget(
            name: "PiSyncServerTests",
            dependencies: [
                "PiSyncServer",
                "PiSyncClient",
                "PiSyncProtocol",
                "PiSyncStore",
                "PiSyncPersistence",
                "PiSyncTestSupport",
                "PiSyncAuth",
                "pisync",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "PiSyncAdminTests",
            dependencies: [
                "PiSyncAdmin",
                "PiSyncServer",
                "PiSyncClient",
                "PiSyncProtocol",
                "PiSyncStore",
                "PiSyncPersistence",
                "PiSyncTestSupport",
                "PiSyncAuth",
                "pisync",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
