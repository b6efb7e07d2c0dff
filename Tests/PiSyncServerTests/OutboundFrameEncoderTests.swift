import NIOCore
import PiSyncProtocol
@testable import PiSyncServer
import PiSyncStore
import Testing

/// An alert encoded once and framed per subscriber is byte for byte what swift-protobuf
/// writes for the whole response.
@Suite("Outbound frame encoder")
struct OutboundFrameEncoderTests {
    static let alert = FailureAlert(
        sequence: 300, deviceID: "pibook-042", consecutiveFailures: 3, firstFailureTimestamp: 1_700_000_000_000,
        lastFailureTimestamp: 1_700_000_360_000)

    @Test("alert frames match swift-protobuf's encoding", arguments: [0, 1, 127, 128, 1 << 35, UInt64.max])
    func alertFrame(subscriptionID: UInt64) throws {
        var out = ByteBuffer()
        try OutboundFrameEncoder().encode(data: .alert(subscriptionID: subscriptionID, EncodedAlert(Self.alert)), out: &out)
        let response = Pisync_V1_Response.with {
            $0.id = subscriptionID
            $0.failureAlert = .init(Self.alert)
        }
        var expected = ByteBuffer()
        FrameCodec.writeFrame(try response.serializedBytes() as [UInt8], into: &expected)
        #expect(Array(out.readableBytesView) == Array(expected.readableBytesView))
    }

    @Test("an alert with a long device id (a multi-byte length) matches too")
    func longDeviceID() throws {
        var alert = Self.alert
        alert.deviceID = String(repeating: "d", count: 300)
        var out = ByteBuffer()
        try OutboundFrameEncoder().encode(data: .alert(subscriptionID: 7, EncodedAlert(alert)), out: &out)
        let response = Pisync_V1_Response.with { $0.id = 7; $0.failureAlert = .init(alert) }
        var expected = ByteBuffer()
        FrameCodec.writeFrame(try response.serializedBytes() as [UInt8], into: &expected)
        #expect(Array(out.readableBytesView) == Array(expected.readableBytesView))
    }

    @Test("hand-encoded acknowledgements match swift-protobuf's encoding",
          arguments: [(UInt64(0), UInt32(0), UInt32(0)), (1, 1, 0), (1, 0, 1), (300, 1000, 0), (UInt64.max, 7, 993), (5, 0, 0)])
    func acknowledgement(id: UInt64, accepted: UInt32, duplicates: UInt32) throws {
        var out = ByteBuffer()
        let frame = OutboundFrame.acknowledgement(id: id, accepted: accepted, duplicates: duplicates)
        try OutboundFrameEncoder().encode(data: frame, out: &out)
        var expected = ByteBuffer()
        FrameCodec.writeFrame(try frame.asResponse.serializedBytes() as [UInt8], into: &expected)
        #expect(Array(out.readableBytesView) == Array(expected.readableBytesView))
        #expect(frame.asResponse.recordSync.accepted == accepted)
    }
}
