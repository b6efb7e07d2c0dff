import NIOCore
import NIOEmbedded
import PiSyncProtocol
import Testing

/// Broken or oversized length prefixes fail the pipeline at once, without waiting for a body.
@Suite("Frame decoder: length errors")
struct FrameDecoderErrorTests {
    static func makeChannel(maxFrameSize: Int = FrameCodec.defaultMaxFrameSize) -> EmbeddedChannel {
        EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxFrameSize: maxFrameSize)))
    }

    static func varint(_ value: UInt64) -> ByteBuffer {
        var buffer = ByteBuffer()
        FrameCodec.writeVarint(value, into: &buffer)
        return buffer
    }

    @Test("the default limit is 1 MiB")
    func defaultLimit() {
        #expect(FrameCodec.defaultMaxFrameSize == 1_048_576)
        #expect(FrameDecoder().maxFrameSize == 1_048_576)
    }

    static let overLimit: [UInt64] = [1_048_577, 2_000_000, UInt64(UInt32.max), UInt64(Int64.max), .max]

    @Test("an over-limit length fails as soon as the prefix is read, with no body sent", arguments: overLimit)
    func overLimitPrefixOnly(length: UInt64) throws {
        let channel = Self.makeChannel()
        #expect(throws: FrameError.frameTooLarge(length: length, limit: 1_048_576)) {
            try channel.writeInbound(Self.varint(length))
        }
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        _ = try? channel.finish()
    }

    @Test("the 1 MiB limit is inclusive: its prefix alone waits for the body")
    func atLimitWaits() throws {
        let channel = Self.makeChannel()
        try channel.writeInbound(Self.varint(1_048_576))  // 80 80 40
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(ByteBuffer(repeating: 0x5A, count: 1_048_576))
        #expect(try channel.readInbound(as: ByteBuffer.self)?.readableBytes == 1_048_576)
        _ = try? channel.finish()
    }

    @Test("a configured limit is enforced on the prefix, whatever its split", arguments: [1, 2, 3])
    func configuredLimitSplitPrefix(chunk: Int) {
        let channel = Self.makeChannel(maxFrameSize: 200)
        let prefix = Array(Self.varint(201).readableBytesView)  // c9 01
        #expect(prefix.count == 2)
        #expect(throws: FrameError.frameTooLarge(length: 201, limit: 200)) {
            for start in stride(from: 0, to: prefix.count, by: chunk) {
                try channel.writeInbound(ByteBuffer(bytes: prefix[start..<min(start + chunk, prefix.count)]))
            }
        }
        _ = try? channel.finish()
    }

    @Test("frames before an oversized one are still delivered")
    func framesBeforeErrorDelivered() throws {
        let channel = Self.makeChannel(maxFrameSize: 8)
        var buffer = ByteBuffer()
        FrameCodec.writeFrame([1, 2], into: &buffer)
        FrameCodec.writeFrame([UInt8](repeating: 3, count: 8), into: &buffer)
        FrameCodec.writeVarint(9, into: &buffer)
        #expect(throws: FrameError.frameTooLarge(length: 9, limit: 8)) { try channel.writeInbound(buffer) }
        #expect(try channel.readInbound(as: ByteBuffer.self).map { Array($0.readableBytesView) } == [1, 2])
        #expect(try channel.readInbound(as: ByteBuffer.self)?.readableBytes == 8)
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        _ = try? channel.finish()
    }

    @Test("after a framing error, further bytes are refused and produce no frames")
    func noFramesAfterError() throws {
        let channel = Self.makeChannel(maxFrameSize: 4)
        #expect(throws: FrameError.self) { try channel.writeInbound(Self.varint(5)) }
        #expect(throws: (any Error).self) { try channel.writeInbound(ByteBuffer(bytes: [0x01, 0x07])) }
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        _ = try? channel.finish()
    }

    static let malformed: [[UInt8]] = [
        [UInt8](repeating: 0x80, count: 11),  // longer than 10 bytes
        [UInt8](repeating: 0xFF, count: 10) + [0x01],
        [UInt8](repeating: 0x80, count: 10),  // still unfinished after 10 bytes
        [UInt8](repeating: 0xFF, count: 9) + [0x02],  // 10th byte > 1: over 64 bits
        [UInt8](repeating: 0x80, count: 9) + [0x7F],
    ]

    @Test("a malformed length varint fails with malformedLength", arguments: malformed)
    func malformedInOneRead(bytes: [UInt8]) throws {
        let channel = Self.makeChannel(maxFrameSize: .max)
        #expect(throws: FrameError.malformedLength) { try channel.writeInbound(ByteBuffer(bytes: bytes)) }
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        _ = try? channel.finish()
    }

    @Test("a malformed varint fed byte by byte fails on its 10th byte")
    func malformedByteByByte() throws {
        let channel = Self.makeChannel(maxFrameSize: .max)
        let bytes = [UInt8](repeating: 0x80, count: 9) + [0x02]
        for byte in bytes.dropLast() {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(throws: FrameError.malformedLength) { try channel.writeInbound(ByteBuffer(bytes: [bytes.last!])) }
        _ = try? channel.finish()
    }

    @Test("a 10-byte varint whose last byte is 1 is a well-formed (too large) length")
    func tenByteVarintWithTopBit() {
        let channel = Self.makeChannel()
        let bytes = [UInt8](repeating: 0x80, count: 9) + [0x01]  // 2^63
        #expect(throws: FrameError.frameTooLarge(length: 1 << 63, limit: FrameCodec.defaultMaxFrameSize)) {
            try channel.writeInbound(ByteBuffer(bytes: bytes))
        }
        _ = try? channel.finish()
    }
}
