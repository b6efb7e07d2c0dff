import NIOCore
import PiSyncProtocol
import Testing

/// A frame that has begun to arrive must arrive whole within --frame-timeout.
@Suite("Frame deadline (slowloris)", .timeLimit(.minutes(1)))
struct SlowlorisTests {
    static func frame(id: UInt64) throws -> [UInt8] {
        var buffer = ByteBuffer()
        let request = Pisync_V1_Request.with { $0.id = id; $0.ping = .init() }
        FrameCodec.writeFrame(try request.serializedBytes() as [UInt8], into: &buffer)
        return Array(buffer.readableBytesView)
    }

    @Test("a frame dribbled a byte at a time is cut at the deadline with DEADLINE_EXCEEDED")
    func dribbledFrameIsCut() async throws {
        try await TestServer.with({ $0.frameTimeout = .seconds(1) }) { server in
            let raw = try await RawConnection.connect(port: server.port)
            // A 200-byte RecordSync announced, then a byte every 100 ms for at most 0.3 s, then
            // nothing: bytes the server has not read when it closes make its kernel reset the
            // connection, which can lose the notice (a loaded machine once left the last byte
            // of a 0.6 s dribble unread at the 1 s deadline). The bytes do not extend it.
            let started = ContinuousClock.now
            try await raw.sendRaw([0xC8, 0x01])
            while ContinuousClock.now - started < .milliseconds(200) {
                try await Task.sleep(for: .milliseconds(100))
                guard ContinuousClock.now - started < .milliseconds(300) else { break }
                try await raw.sendRaw([0x08])
            }
            let notice = try #require(try await raw.next())
            #expect(notice.id == 0 && notice.error.code == StatusCode.deadlineExceeded.rawValue, "\(notice)")
            #expect(ContinuousClock.now - started < .seconds(5))  // 1 s, plus a loaded machine
            #expect(try await raw.next() == nil, "the connection is closed after the notice")
        }
    }

    @Test("frames split over pauses shorter than the deadline, and pauses between frames, are fine")
    func slowButInTime() async throws {
        // Pauses of 300 ms inside frames against a 3 s deadline (room for a loaded machine), and
        // 3.5 s between frames, which must not count.
        try await TestServer.with({ $0.frameTimeout = .seconds(3) }) { server in
            let raw = try await RawConnection.connect(port: server.port)
            let first = try Self.frame(id: 1), second = try Self.frame(id: 2)
            try await raw.sendRaw(Array(first.prefix(2)))
            try await Task.sleep(for: .milliseconds(300))
            // The rest of the first frame and the start of the second, then the rest of that.
            try await raw.sendRaw(Array(first.dropFirst(2)) + Array(second.prefix(1)))
            try await Task.sleep(for: .milliseconds(300))
            try await raw.sendRaw(Array(second.dropFirst(1)))
            #expect(try await raw.next()?.id == 1)
            #expect(try await raw.next()?.id == 2)
            try await Task.sleep(for: .milliseconds(3500))  // idle between frames: no deadline
            try await raw.send(.with { $0.id = 3; $0.ping = .init() })
            #expect(try await raw.next()?.id == 3)
            await raw.close()
        }
    }
}
