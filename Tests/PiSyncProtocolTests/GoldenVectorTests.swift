import Foundation
import NIOCore
import PiSyncProtocol
import SwiftProtobuf
import Testing

/// The checked-in frames in clients/testdata/golden are the wire format: the Swift encoding
/// must produce them byte for byte, and decoding them must give the same fields. The C client's
/// tests check the same files.
@Suite("Golden vectors")
struct GoldenVectorTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("clients/testdata/golden")

    struct Vector: CustomTestStringConvertible, Sendable {
        let file: String
        let message: any SwiftProtobuf.Message & Sendable
        var testDescription: String { file }
    }

    static let vectors: [Vector] = [
        Vector(file: "record_sync_single.bin", message: Pisync_V1_Request.with {
            $0.id = 1
            $0.recordSync.events = [.with {
                $0.deviceID = "pibook-001"
                $0.timestamp = 1_700_000_000_000
                $0.totalFilesSynced = 12
                $0.internetSpeed = 8.5
            }]
        }),
        Vector(file: "record_sync_batch.bin", message: Pisync_V1_Request.with {
            $0.id = 2
            $0.recordSync.deviceID = "pibox-042"
            $0.recordSync.events = [(0, 3, 0.25), (5, 1, 2.0), (20, 0, 12.5)].enumerated().map { index, counts in
                .with {
                    $0.timestamp = 1_700_000_000_000 + Int64(index) * 60_000
                    $0.totalFilesSynced = UInt32(counts.0)
                    $0.totalErrors = UInt32(counts.1)
                    $0.internetSpeed = Float(counts.2)
                }
            }
        }),
        Vector(file: "response_error.bin", message: Pisync_V1_Response.failure(
            id: 3, .invalidArgument, "timestamp 946684799999 is before the earliest accepted 946684800000 (Unix ms)",
            field: "timestamp")),
        Vector(file: "response_alert.bin", message: Pisync_V1_Response.with {
            $0.id = 4
            $0.failureAlert = .with {
                $0.sequence = 7
                $0.deviceID = "pibox-042"
                $0.consecutiveFailures = 3
                $0.firstFailureTimestamp = 1_700_000_000_000
                $0.lastFailureTimestamp = 1_700_000_120_000
            }
        }),
        Vector(file: "response_record_sync.bin", message: Pisync_V1_Response.with {
            $0.id = 1
            $0.recordSync.accepted = 1
        }),
    ]

    static func golden(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
    }

    @Test("encoding gives the golden bytes", arguments: vectors)
    func encode(_ vector: Vector) throws {
        var buffer = ByteBuffer()
        FrameCodec.writeFrame(try vector.message.serializedBytes() as [UInt8], into: &buffer)
        #expect(Array(buffer.readableBytesView) == (try Self.golden(vector.file)))
    }

    @Test("decoding the golden bytes gives the message", arguments: vectors)
    func decode(_ vector: Vector) throws {
        var buffer = ByteBuffer(bytes: try Self.golden(vector.file))
        let body = try #require(try FrameCodec.readFrame(from: &buffer, maxFrameSize: 1 << 20))
        #expect(buffer.readableBytes == 0)
        let decoded = try type(of: vector.message).init(serializedBytes: Array(body.readableBytesView))
        #expect(decoded.isEqualTo(message: vector.message))
    }
}
