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

    @Test("a frame dribbled one byte a second is cut at the deadline with DEADLINE_EXCEEDED")
    func dribbledFrameIsCut() async throws {
        try await TestServer.with({ $0.frameTimeout = .seconds(2) }) { server in
            let raw = try await RawConnection.connect(port: server.port)
            // A 200-byte RecordSync announced, then a byte a second, on and on: the bytes do
            // not extend the deadline, and the notice arrives although the server stops
            // reading them (it shuts its output after the notice and drains the input).
            let started = ContinuousClock.now
            try await raw.sendRaw([0xC8, 0x01])
            let dribbler = Task {
                for _ in 0..<8 {
                    try await Task.sleep(for: .seconds(1))
                    try? await raw.sendRaw([0x08])
                }
            }
            defer { dribbler.cancel() }
            let notice = try #require(try await raw.next())
            let elapsed = ContinuousClock.now - started
            #expect(notice.id == 0 && notice.error.code == StatusCode.deadlineExceeded.rawValue, "\(notice)")
            #expect(elapsed >= .seconds(2) && elapsed < .seconds(6), "\(elapsed)")  // 2 s, plus a loaded machine
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
