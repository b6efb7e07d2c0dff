import PiSyncClient
import PiSyncProtocol
import PiSyncTestSupport
import Testing

/// Bad input gets a precise error and never touches other connections.
@Suite("Bad input and connection limits", .timeLimit(.minutes(2)))
struct ProtocolRobustnessTests {
    static let ping = Pisync_V1_Request.with { $0.id = 42; $0.ping = .init() }

    /// The error a response carries, if any.
    static func error(_ response: Pisync_V1_Response?) -> Pisync_V1_Error? {
        if case .error(let error) = response?.result { return error }
        return nil
    }

    @Test("an unknown call gets UNIMPLEMENTED with its id and the connection stays open")
    func unknownCall() async throws {
        try await TestServer.with { server in
            let raw = try await RawConnection.connect(port: server.port)
            defer { Task { await raw.close() } }
            // id 9, then field 99 (a call from a newer client) holding an empty message.
            var body: [UInt8] = try Pisync_V1_Request.with { $0.id = 9 }.serializedBytes()
            body += [0x9A, 0x06, 0x00]
            try await raw.sendBody(body)
            let response = try await raw.next()
            #expect(response?.id == 9 && Self.error(response)?.code == StatusCode.unimplemented.rawValue)
            try await raw.send(Self.ping)
            #expect(try await raw.next()?.id == 42)
        }
    }

    @Test("a request with no call is INVALID_ARGUMENT naming the call")
    func emptyCall() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            defer { client.close() }
            let response = try await client.send(.with { $0.id = 5 })
            #expect(Self.error(response)?.code == StatusCode.invalidArgument.rawValue)
            #expect(Self.error(response)?.field == "call")
        }
    }

    @Test("a frame that is not a Request gets INVALID_ARGUMENT and the connection stays open")
    func undecodableFrame() async throws {
        try await TestServer.with { server in
            let raw = try await RawConnection.connect(port: server.port)
            defer { Task { await raw.close() } }
            try await raw.sendBody([0xFF, 0xFF, 0xFF])
            let response = try await raw.next()
            #expect(response?.id == 0 && Self.error(response)?.code == StatusCode.invalidArgument.rawValue)
            try await raw.send(Self.ping)
            #expect(try await raw.next()?.id == 42)
        }
    }

    @Test("an over-limit frame length closes only that connection, after an error frame")
    func oversizedFrame() async throws {
        try await TestServer.with({ $0.maxFrameSize = 1024 }) { server in
            let bystander = try await server.client()
            defer { bystander.close() }
            let raw = try await RawConnection.connect(port: server.port)
            try await raw.sendRaw([0x81, 0x08])  // declares 1025 bytes; none follow
            let response = try await raw.next()
            #expect(Self.error(response)?.code == StatusCode.resourceExhausted.rawValue)
            #expect(Self.error(response)?.message.contains("1025") == true)
            #expect(try await raw.next() == nil)  // closed without waiting for the body
            #expect(!(try await bystander.ping().version.isEmpty))
        }
    }

    @Test("a length varint over 10 bytes is an error frame, then close")
    func brokenVarint() async throws {
        try await TestServer.with { server in
            let raw = try await RawConnection.connect(port: server.port)
            try await raw.sendRaw([UInt8](repeating: 0xFF, count: 11))
            let response = try await raw.next()
            #expect(Self.error(response)?.code == StatusCode.invalidArgument.rawValue)
            #expect(try await raw.next() == nil)
        }
    }

    @Test("connections over the limit get RESOURCE_EXHAUSTED and are closed")
    func connectionLimit() async throws {
        try await TestServer.with({ $0.maxConnections = 2 }) { server in
            let first = try await server.client()
            let second = try await server.client()
            defer { first.close(); second.close() }
            #expect(await eventually { server.server.connectionCount == 2 })
            let third = try await RawConnection.connect(port: server.port)
            let response = try await third.next()
            #expect(Self.error(response)?.code == StatusCode.resourceExhausted.rawValue)
            #expect(try await third.next() == nil)
            #expect(!(try await first.ping().version.isEmpty))
            second.close()
            #expect(await eventually { server.server.connectionCount == 1 })
            let fourth = try await server.client()
            defer { fourth.close() }
            #expect(!(try await fourth.ping().version.isEmpty))
        }
    }

    @Test("an idle connection is closed; one with an open subscription is not")
    func idleTimeout() async throws {
        // 2 s, and the subscription opened first: under a loaded machine a 1 s timeout closed the
        // subscriber's connection before its subscribe arrived.
        try await TestServer.with({ $0.idleTimeout = .seconds(2) }) { server in
            let subscriber = try await server.client()
            defer { subscriber.close() }
            let stream = try await subscriber.subscribeFailureAlerts()
            let idle = try await RawConnection.connect(port: server.port)
            let notice = try await idle.next()
            #expect(notice?.id == 0 && Self.error(notice)?.code == StatusCode.unavailable.rawValue)
            #expect(try await idle.next() == nil)
            try await Task.sleep(for: .milliseconds(2500))
            #expect(server.bus.subscriberCount == 1)
            _ = try await server.client().recordSync(events: (0..<3).map { offset in
                .with { $0.deviceID = "pibox-idle"; $0.timestamp = 1_764_000_000_000 + Int64(offset); $0.totalErrors = 1 }
            })
            var alerts = stream.makeAsyncIterator()
            #expect(try await alerts.next()?.deviceID == "pibox-idle")
        }
    }

    // Regression: the idle timeout was converted to whole seconds, so 900 ms became 0 and
    // every connection was closed as soon as it opened.
    @Test("a sub-second idle timeout is kept, not rounded down to zero")
    func subSecondIdleTimeout() async throws {
        try await TestServer.with({ $0.idleTimeout = .milliseconds(900) }) { server in
            let opened = ContinuousClock.now
            let raw = try await RawConnection.connect(port: server.port)
            defer { Task { await raw.close() } }
            // The ping's answer, unless a loaded machine took 900 ms to send it; either way the
            // idle notice comes, and not before 900 ms.
            try? await raw.send(Self.ping)
            var notice = try await raw.next()
            if notice?.id == 42 { notice = try await raw.next() }
            #expect(notice?.id == 0 && Self.error(notice)?.code == StatusCode.unavailable.rawValue)
            #expect(ContinuousClock.now - opened >= .milliseconds(850))
        }
    }

    @Test("random bytes on many connections never take the server down")
    func randomInput() async throws {
        try await TestServer.with({ $0.maxFrameSize = 4096 }) { server in
            var generator = SplitMix64(seed: 0x5EED)
            for _ in 0..<64 {
                let raw = try await RawConnection.connect(port: server.port)
                // Valid frames with random bodies, then raw garbage that may break framing.
                for _ in 0..<8 {
                    let body = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    try await raw.sendBody(body)
                }
                try? await raw.sendRaw((0..<256).map { _ in UInt8.random(in: 0...255, using: &generator) })
                await raw.close()
            }
            let client = try await server.client()
            defer { client.close() }
            #expect(!(try await client.ping().version.isEmpty))
            #expect(await eventually { server.server.connectionCount == 1 })
        }
    }
}
