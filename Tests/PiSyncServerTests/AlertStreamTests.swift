import NIOCore
import NIOPosix
import PiSyncClient
import PiSyncProtocol
import PiSyncServer
import Testing

// Serialized: the slow-subscriber, burst and shutdown tests raise thousands of alerts; run
// beside the 1-second delivery check they would mostly test how busy the machine is. (Other
// suites still run alongside.)
@Suite("FailureAlerts subscriptions", .serialized, .timeLimit(.minutes(2)))
struct AlertStreamTests {
    static let base: Int64 = 1_764_000_000_000

    static func failures(_ device: String, _ offsets: Range<Int>) -> [Pisync_V1_SyncEvent] {
        offsets.map { offset in
            .with {
                $0.deviceID = device
                $0.timestamp = base + Int64(offset) * 1000
                $0.totalErrors = 1
            }
        }
    }

    // The bound is loose on purpose: the alert takes milliseconds (13 ms for the whole test on
    // a quiet machine), but CI runs the crash suites beside it on 2 cores, and once took 1.02 s.
    @Test("subscribers on two connections get the alert within 5 s of the third failure, once")
    func alertReachesEverySubscriber() async throws {
        try await TestServer.with { server in
            let first = try await server.client()
            let second = try await server.client()
            let recorder = try await server.client()
            defer { [first, second, recorder].forEach { $0.close() } }
            let streams = [try await first.subscribeFailureAlerts(), try await second.subscribeFailureAlerts()]
            #expect(streams[0].confirmation.alertThreshold == 3 && streams[0].confirmation.bufferSize == 1024)

            for event in Self.failures("pibox-1", 0..<2) {
                _ = try await recorder.recordSync(events: [event])
            }
            let third = ContinuousClock.now
            _ = try await recorder.recordSync(events: Self.failures("pibox-1", 2..<3))
            for stream in streams {
                var alerts = stream.makeAsyncIterator()
                let alert = try #require(try await alerts.next())
                #expect(ContinuousClock.now - third < .seconds(5))
                #expect(alert.deviceID == "pibox-1" && alert.consecutiveFailures == 3)
                #expect(alert.firstFailureTimestamp == Self.base && alert.lastFailureTimestamp == Self.base + 2000)
                #expect(alert.sequence == 1)
            }
            // Two more failures in the same streak, then a new streak after a success: only
            // the new streak alerts (the success is recovery #2, which iterating the stream
            // itself skips).
            _ = try await recorder.recordSync(events: Self.failures("pibox-1", 3..<5))
            _ = try await recorder.recordSync(events: [.with { $0.deviceID = "pibox-1"; $0.timestamp = Self.base + 5000; $0.totalFilesSynced = 1 }])
            _ = try await recorder.recordSync(events: Self.failures("pibox-1", 6..<9))
            var alerts = streams[0].makeAsyncIterator()
            let next = try #require(try await alerts.next())
            #expect(next.sequence == 3 && next.firstFailureTimestamp == Self.base + 6000)
        }
    }

    @Test("the connection serves other requests while a subscription is open")
    func subscriptionSharesConnection() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            defer { client.close() }
            let stream = try await client.subscribeFailureAlerts()
            _ = try await client.recordSync(events: Self.failures("pibook-7", 0..<3))
            #expect(try await client.history(deviceID: "pibook-7").total == 3)
            var alerts = stream.makeAsyncIterator()
            #expect(try await alerts.next()?.deviceID == "pibook-7")
        }
    }

    @Test("cancel ends the stream; cancelling an unknown subscription is NOT_FOUND")
    func cancel() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            defer { client.close() }
            let stream = try await client.subscribeFailureAlerts()
            try await client.cancel(subscriptionID: stream.id)
            var alerts = stream.makeAsyncIterator()
            #expect(try await alerts.next() == nil)
            #expect(await eventually { server.bus.subscriberCount == 0 })
            _ = try await client.recordSync(events: Self.failures("pibook-8", 0..<3))  // nothing to deliver
            let error = await #expect(throws: PiSyncError.self) { try await client.cancel(subscriptionID: stream.id) }
            #expect(error?.status == .notFound && error?.field == "subscription_id")
        }
    }

    @Test("a subscriber that stops reading is cut off with RESOURCE_EXHAUSTED while recording goes on")
    func slowSubscriberIsCutOff() async throws {
        let configure: (inout ServerConfiguration) -> Void = {
            $0.alertThreshold = 1
            $0.subscriberBufferSize = 1024
        }
        try await TestServer.with(configure) { server in
            let slow = try await RawConnection.connect(port: server.port, autoRead: false, receiveBuffer: 4096)
            defer { Task { await slow.close() } }
            try await slow.send(.with { $0.id = 7; $0.subscribeFailureAlerts = .init() })
            let fast = try await server.client()
            let recorder = try await server.client()
            defer { fast.close(); recorder.close() }
            let fastStream = try await fast.subscribeFailureAlerts()
            #expect(await eventually { server.bus.subscriberCount == 2 })

            // Threshold 1: every device's first failure is an alert. Record until a subscriber
            // is dropped; every RecordSync must still be answered. The fast subscriber reads
            // each batch's 200 alerts (well under its buffer) before the next batch, so it keeps
            // up however the machine schedules the event loops; the slow one never reads.
            var fastAlerts = fastStream.makeAsyncIterator()
            var batches = 0
            var sequence: UInt64 = 0
            while server.bus.subscriberCount == 2 && batches < 500 {
                let devices = (0..<200).map { "pibox-\(batches)-\($0)" }
                let result = try await recorder.recordSync(events: devices.flatMap { Self.failures($0, 0..<1) })
                #expect(result.accepted == 200)
                batches += 1
                // The fast subscriber gets every alert, in sequence order, and stays live.
                for _ in 0..<200 {
                    let alert = try #require(try await fastAlerts.next())
                    #expect(alert.sequence == sequence + 1)
                    sequence = alert.sequence
                }
            }
            try #require(server.bus.subscriberCount == 1, "no subscriber was cut off after \(batches * 200) alerts")
            // The fast subscriber is still live: the next alert reaches it.
            _ = try await recorder.recordSync(events: Self.failures("pibox-last", 0..<1))
            #expect(try await fastAlerts.next()?.sequence == sequence + 1)

            // The slow one, once it reads, finds its stream ended with RESOURCE_EXHAUSTED.
            try await slow.startReading()
            var ending: Pisync_V1_Error?
            for try await response in slow.responses where response.id == 7 {
                if case .error(let error) = response.result {
                    ending = error
                    break
                }
            }
            #expect(ending?.code == StatusCode.resourceExhausted.rawValue)
            #expect(ending?.message.contains("too slow") == true)
        }
    }

    // Regression (the 800 ms case): the grace period was cut to whole seconds, so a sub-second
    // one closed every connection at once.
    // Regression: alerts written on the subscriber's own loop were flushed only after the
    // loop's pass, and unflushed bytes count against the connection's write buffer, so a
    // burst from pipelined RecordSyncs cut off a subscriber that was reading.
    @Test("a reading subscriber on the recorder's event loop keeps up with pipelined bursts")
    func burstOnSharedLoop() async throws {
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)  // every connection on one loop
        defer { loop.shutdownGracefully { _ in } }
        try await TestServer.with({ $0.alertThreshold = 1 }, group: loop) { server in
            let subscriber = try await server.client()
            defer { subscriber.close() }
            let stream = try await subscriber.subscribeFailureAlerts()
            let recorder = try await RawConnection.connect(port: server.port)
            defer { Task { await recorder.close() } }
            // Six RecordSyncs of 1000 first failures in one write: 6000 alerts in one pass.
            var bytes: [UInt8] = []
            for request in 0..<6 {
                let body: [UInt8] = try Pisync_V1_Request.with {
                    $0.id = UInt64(request + 1)
                    $0.recordSync = .with { $0.events = (0..<1000).flatMap { Self.failures("pibook-\(request)-\($0)", 0..<1) } }
                }.serializedBytes()
                var frame = ByteBuffer()
                FrameCodec.writeFrame(body, into: &frame)
                bytes += frame.readableBytesView
            }
            try await recorder.sendRaw(bytes)
            var received = 0
            for try await alert in stream {
                received += 1
                #expect(alert.sequence == UInt64(received))
                if received == 6000 { break }
            }
            #expect(server.bus.subscriberCount == 1)
        }
    }

    @Test("shutdown waits its grace period, and no longer, for a subscriber that never reads",
          arguments: [Duration.seconds(2), .milliseconds(800)])
    func shutdownWithStuckSubscriber(grace: Duration) async throws {
        let configure: (inout ServerConfiguration) -> Void = {
            $0.alertThreshold = 1
            $0.subscriberBufferSize = 100_000
            $0.shutdownGracePeriod = grace
        }
        var shutdownStarted = ContinuousClock.now
        let slow = try await TestServer.with(configure) { server in
            let slow = try await RawConnection.connect(port: server.port, autoRead: false, receiveBuffer: 4096)
            try await slow.send(.with { $0.id = 1; $0.subscribeFailureAlerts = .init() })
            #expect(await eventually { server.bus.subscriberCount == 1 })
            let recorder = try await server.client()
            defer { recorder.close() }
            for batch in 0..<10 {  // 5000 alerts: more than the socket buffers hold
                let events = (0..<500).flatMap { Self.failures("pibook-\(batch)-\($0)", 0..<1) }
                _ = try await recorder.recordSync(events: events)
            }
            shutdownStarted = ContinuousClock.now
            return slow
        }
        let shutdown = ContinuousClock.now - shutdownStarted
        #expect(shutdown >= grace * 0.75, "the subscriber drained, or the grace period was cut short")
        #expect(shutdown < .seconds(10))
        await slow.close()
    }

    @Test("graceful shutdown ends subscriptions with UNAVAILABLE")
    func shutdownEndsStreams() async throws {
        let client = try await TestServer.with { server in
            let client = try await server.client()
            return (client, try await client.subscribeFailureAlerts())
        }
        let error = await #expect(throws: PiSyncError.self) {
            for try await _ in client.1 {}
        }
        #expect(error?.status == .unavailable)
        client.0.close()
    }
}
