import NIOCore
import NIOEmbedded
import NIOTestUtils
import PiSyncProtocol
import Testing

/// Frames through `ByteToMessageHandler(FrameDecoder())`, however the bytes are split.
@Suite("Frame decoder: splitting and reassembly")
struct FrameDecoderTests {
    /// Bodies of varied sizes: empty, 1 byte, the largest 1-byte-prefix body, the smallest
    /// 2-byte-prefix body, and larger ones.
    static let bodies: [[UInt8]] = [
        [],
        [0x2A],
        (0..<127).map { UInt8($0) },
        (0..<128).map { UInt8(255 - $0) },
        [0x00, 0x80, 0xFF, 0x0A],
        [],
        (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 13) },
    ]

    static func frame(_ body: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        FrameCodec.writeFrame(body, into: &buffer)
        return buffer
    }

    /// All frames of `bodies`, back to back.
    static var stream: [UInt8] {
        bodies.flatMap { Array(frame($0).readableBytesView) }
    }

    static func makeChannel(maxFrameSize: Int = FrameCodec.defaultMaxFrameSize) -> EmbeddedChannel {
        EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameSize: maxFrameSize)))
    }

    /// Reads every frame body the channel has produced.
    static func readBodies(_ channel: EmbeddedChannel) throws -> [[UInt8]] {
        var bodies: [[UInt8]] = []
        while let frame = try channel.readInbound(as: ByteBuffer.self) {
            bodies.append(Array(frame.readableBytesView))
        }
        return bodies
    }

    @Test("the stream under test has 1- and 2-byte length prefixes")
    func fixtureShape() {
        #expect(Self.frame(Self.bodies[2]).readableBytes == 1 + 127)
        #expect(Self.frame(Self.bodies[3]).readableBytes == 2 + 128)
        #expect(Self.stream.count == Self.bodies.map { $0.count + ($0.count < 128 ? 1 : 2) }.reduce(0, +))
    }

    @Test("NIO's decoder verifier: drip-fed, whole, and coalesced inputs")
    func verifier() throws {
        var pairs: [(ByteBuffer, [ByteBuffer])] = Self.bodies.map { (Self.frame($0), [ByteBuffer(bytes: $0)]) }
        // One input holding two frames must produce both.
        var two = Self.frame([7, 7])
        two.writeImmutableBuffer(Self.frame((0..<200).map { UInt8($0) }))
        pairs.append((two, [ByteBuffer(bytes: [7, 7]), ByteBuffer(bytes: (0..<200).map { UInt8($0) })]))
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder() }
    }

    @Test("split into two reads at every byte boundary")
    func everySplitPoint() throws {
        let stream = Self.stream
        for split in 0...stream.count {
            let channel = Self.makeChannel()
            try channel.writeInbound(ByteBuffer(bytes: stream[..<split]))
            var bodies = try Self.readBodies(channel)
            try channel.writeInbound(ByteBuffer(bytes: stream[split...]))
            bodies += try Self.readBodies(channel)
            #expect(bodies == Self.bodies, "split at \(split)")
            #expect(try channel.finish().isClean)
        }
    }

    @Test("fed one byte per read, each frame appears exactly when its last byte arrives")
    func byteByByte() throws {
        let channel = Self.makeChannel()
        var ends: [Int] = []  // stream offsets where each frame completes
        var offset = 0
        for body in Self.bodies {
            offset += Self.frame(body).readableBytes
            ends.append(offset)
        }
        var received: [[UInt8]] = []
        for (index, byte) in Self.stream.enumerated() {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            received += try Self.readBodies(channel)
            // A frame is out once its last byte is in, and not a byte earlier.
            #expect(received.count == ends.filter { $0 <= index + 1 }.count, "after byte \(index)")
        }
        #expect(received == Self.bodies)
        #expect(try channel.finish().isClean)
    }

    @Test("many frames in one read are all delivered, in order")
    func manyFramesInOneRead() throws {
        let bodies = (0..<500).map { index in (0..<(index % 150)).map { UInt8(truncatingIfNeeded: $0 + index) } }
        var buffer = ByteBuffer()
        for body in bodies { FrameCodec.writeFrame(body, into: &buffer) }
        let channel = Self.makeChannel()
        try channel.writeInbound(buffer)
        #expect(try Self.readBodies(channel) == bodies)
        #expect(try channel.finish().isClean)
    }

    @Test("complete frames before a partial one are delivered; the partial one waits")
    func partialFrameWaits() throws {
        let channel = Self.makeChannel()
        var buffer = Self.frame([1, 2, 3])
        buffer.writeBytes([0x05, 0xAA, 0xBB])  // declares 5 bytes, 2 present
        try channel.writeInbound(buffer)
        #expect(try Self.readBodies(channel) == [[1, 2, 3]])
        try channel.writeInbound(ByteBuffer(bytes: [0xCC, 0xDD]))
        #expect(try Self.readBodies(channel).isEmpty)
        try channel.writeInbound(ByteBuffer(bytes: [0xEE]))
        #expect(try Self.readBodies(channel) == [[0xAA, 0xBB, 0xCC, 0xDD, 0xEE]])
        #expect(try channel.finish().isClean)
    }

    struct Truncation: Sendable, CustomTestStringConvertible {
        var bytes: [UInt8]
        var testDescription: String
    }

    static let truncations: [Truncation] = [
        Truncation(bytes: [0x80], testDescription: "half a 2-byte length prefix"),
        Truncation(bytes: [0x03], testDescription: "a length prefix, no body"),
        Truncation(bytes: [0x03, 0x01, 0x02], testDescription: "a body one byte short"),
        Truncation(bytes: [0xAC, 0x02] + [UInt8](repeating: 9, count: 299), testDescription: "300 declared, 299 present"),
    ]

    // Regression: decodeLast used to return .needMoreData for an incomplete frame, and NIO's
    // ByteToMessageHandler does not report leftovers itself, so a connection ending mid-frame
    // was dropped silently.
    @Test("a truncated frame yields nothing, and at EOF the leftover bytes are reported", arguments: truncations)
    func truncatedAtEOF(_ truncation: Truncation) throws {
        let bytes = truncation.bytes
        let channel = Self.makeChannel()
        var input = Self.frame([0x11])
        input.writeBytes(bytes)
        try channel.writeInbound(input)
        #expect(try Self.readBodies(channel) == [[0x11]])

        let error = #expect(throws: ByteToMessageDecoderError.self) { try channel.finish() }
        guard let error else { return }
        guard case .leftoverDataWhenDone(let leftover) = error else {
            Issue.record("expected leftoverDataWhenDone, got \(error)")
            return
        }
        #expect(Array(leftover.readableBytesView) == bytes)
    }

    @Test("a stream that ends on a frame boundary finishes cleanly", arguments: [0, 1, 3])
    func cleanEOF(frames: Int) throws {
        let channel = Self.makeChannel()
        for index in 0..<frames {
            try channel.writeInbound(Self.frame([UInt8(index)]))
        }
        #expect(try Self.readBodies(channel).count == frames)
        #expect(try channel.finish().isClean)
    }
}

extension EmbeddedChannel.LeftOverState {
    var isClean: Bool {
        if case .clean = self { return true }
        return false
    }
}
