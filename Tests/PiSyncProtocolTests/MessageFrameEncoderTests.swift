import Foundation
import NIOCore
import NIOEmbedded
import PiSyncProtocol
import SwiftProtobuf
import Testing

/// `MessageFrameEncoder` output is protobuf's delimited form, readable by `FrameDecoder` and
/// byte-identical to swift-protobuf's `BinaryDelimited`.
@Suite("Message frame encoder")
struct MessageFrameEncoderTests {
    static let requests: [Pisync_V1_Request] = [
        Pisync_V1_Request(),  // empty body: the frame is the single byte 00
        .with { $0.id = 1; $0.ping = .init() },
        .with {
            $0.id = 7
            $0.getHistory = .with { $0.deviceID = "pi-classroom-3"; $0.page = 2; $0.limit = 100 }
        },
        .with {
            $0.id = UInt64.max
            $0.recordSync = .with {
                $0.deviceID = "pi-lab:01"
                $0.events = (0..<12).map { index in
                    .with {
                        $0.timestamp = 1_700_000_000_000 + Int64(index) * 60_000
                        $0.totalFilesSynced = UInt32(index * 3)
                        $0.totalErrors = UInt32(index % 4)
                        $0.internetSpeed = Float(index) * 1.5
                        $0.syncStatus = .failed
                    }
                }
            }
        },
        .with { $0.id = 9; $0.cancel = .with { $0.subscriptionID = 300 } },
    ]

    /// The frame the encoder writes for `request`, through a real pipeline.
    static func encode(_ request: Pisync_V1_Request) throws -> ByteBuffer {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(MessageFrameEncoder<Pisync_V1_Request>()))
        try channel.writeOutbound(request)
        let frame = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish()
        return frame
    }

    /// swift-protobuf's own delimited serialization of `message`.
    static func binaryDelimited(_ message: some SwiftProtobuf.Message) throws -> [UInt8] {
        let stream = OutputStream.toMemory()
        stream.open()
        defer { stream.close() }
        try BinaryDelimited.serialize(message: message, to: stream)
        let data = try #require(stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data)
        return [UInt8](data)
    }

    @Test("the fixtures include an empty body and a 2-byte length prefix")
    func fixtureShape() throws {
        #expect(try Self.encode(Self.requests[0]).readableBytesView.elementsEqual([0x00]))
        let large: [UInt8] = try Self.requests[3].serializedBytes()
        #expect(large.count >= 128)
    }

    @Test("encoder -> FrameDecoder -> Request decode gives the original", arguments: requests)
    func roundTrip(request: Pisync_V1_Request) throws {
        let frame = try Self.encode(request)
        let decoder = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        try decoder.writeInbound(frame)
        let body = try #require(try decoder.readInbound(as: ByteBuffer.self))
        #expect(try decoder.readInbound(as: ByteBuffer.self) == nil)
        #expect(try Pisync_V1_Request(serializedBytes: Array(body.readableBytesView)) == request)
        #expect(try decoder.finish().isClean)
    }

    @Test("the encoder's bytes equal FrameCodec.writeFrame and BinaryDelimited.serialize", arguments: requests)
    func matchesBinaryDelimited(request: Pisync_V1_Request) throws {
        let encoded = Array(try Self.encode(request).readableBytesView)

        var written = ByteBuffer()
        FrameCodec.writeFrame(try request.serializedBytes() as [UInt8], into: &written)
        #expect(encoded == Array(written.readableBytesView))
        #expect(encoded == (try Self.binaryDelimited(request)))
    }

    @Test("frames written by BinaryDelimited decode through FrameDecoder")
    func decodesBinaryDelimitedStream() throws {
        var stream: [UInt8] = []
        for request in Self.requests {
            stream += try Self.binaryDelimited(request)
        }
        let decoder = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        try decoder.writeInbound(ByteBuffer(bytes: stream))
        var decoded: [Pisync_V1_Request] = []
        while let body = try decoder.readInbound(as: ByteBuffer.self) {
            decoded.append(try Pisync_V1_Request(serializedBytes: Array(body.readableBytesView)))
        }
        #expect(decoded == Self.requests)
        #expect(try decoder.finish().isClean)
    }

    @Test("frames written by the encoder parse with BinaryDelimited.parse")
    func binaryDelimitedParsesEncoderOutput() throws {
        var bytes: [UInt8] = []
        for request in Self.requests {
            bytes += try Self.encode(request).readableBytesView
        }
        let input = InputStream(data: Data(bytes))
        input.open()
        defer { input.close() }
        for request in Self.requests {
            #expect(try BinaryDelimited.parse(messageType: Pisync_V1_Request.self, from: input) == request)
        }
    }

    @Test("several writes on one channel produce back-to-back frames")
    func consecutiveWrites() throws {
        let encoder = EmbeddedChannel(handler: MessageToByteHandler(MessageFrameEncoder<Pisync_V1_Response>()))
        let responses: [Pisync_V1_Response] = [
            .failure(id: 0, .invalidArgument, "bad frame"),
            .with { $0.id = 4; $0.ping = .with { $0.version = "1.0.0"; $0.uptimeMs = 12_345 } },
            .failure(id: 5, .invalidArgument, "limit must be between 1 and 100", field: "limit"),
        ]
        var wire = ByteBuffer()
        for response in responses {
            try encoder.writeOutbound(response)
            while var frame = try encoder.readOutbound(as: ByteBuffer.self) {
                wire.writeBuffer(&frame)
            }
        }
        var decoded: [Pisync_V1_Response] = []
        while let body = try FrameCodec.readFrame(from: &wire, maxFrameSize: 1 << 20) {
            decoded.append(try Pisync_V1_Response(serializedBytes: Array(body.readableBytesView)))
        }
        #expect(decoded == responses)
        #expect(decoded[2].error.field == "limit")
        #expect(decoded[2].error.code == 3)
        #expect(wire.readableBytes == 0)
    }
}
