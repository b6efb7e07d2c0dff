// swift-tools-version:6.1
import Foundation
import PackageDescription

/// A path dependency is named after its directory: the checkout's, whatever it is called.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

// Micro-benchmarks of PiSync's hot paths, with ordo-one/benchmark (package-benchmark). A
// package of its own, so that its dependencies never enter the server's build or its CI:
//
//   cd Benchmarks && swift package --disable-sandbox benchmark
//
// See docs/performance.md for what each measures and the results.
let package = Package(
    name: "pisync-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
    ],
    targets: [
        .executableTarget(
            name: "Micro",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PiSyncProtocol", package: root),
                .product(name: "PiSyncStore", package: root),
                .product(name: "PiSyncPersistence", package: root),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Benchmarks/Micro",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
