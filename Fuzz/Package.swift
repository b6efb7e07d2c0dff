// swift-tools-version:6.1
import Foundation
import PackageDescription

/// A path dependency is named after its directory: the checkout's, whatever it is called.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

// libFuzzer targets over the server's frame decoding and request dispatch (issue 8). A package
// of its own, so that its sanitizer build never enters the server's build or `swift test`:
//
//   scripts/fuzz.sh swift 60        # builds with libFuzzer and ASan, runs 60 s (see the script)
//
// ServerFuzzer feeds each input, as the bytes of one connection split over several reads, to
// the server's own connection pipeline on an EmbeddedChannel (see Sources/ServerFuzzer).
let package = Package(
    name: "pisync-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "ServerFuzzer",
            dependencies: [
                .product(name: "PiSyncServer", package: root),
                .product(name: "PiSyncProtocol", package: root),
                .product(name: "PiSyncStore", package: root),
                .product(name: "PiSyncAuth", package: root),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ]
        )
    ]
)
