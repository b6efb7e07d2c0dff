import Foundation
import PiSyncClient
import PiSyncProtocol
import PiSyncServer
import Testing

/// A subscriber that reconnects with the last sequence number it saw gets what it missed, in
/// order, then the live stream, with no gap and no duplicate at the seam (issue 9).
@Suite("Alert streams resume with from_sequence", .timeLimit(.minutes(1)))
struct AlertResumeTests {
    /// One failed sync of `device`: with an alert threshold of 1, one alert per new device.
    static func failure(_ device: String) -> Pisync_V1_SyncEvent {
        .with {
            $0.deviceID = device
            $0.timestamp = AlertStreamTests.base
            $0.totalErrors = 1
        }
    }

    static func raise(_ devices: ClosedRange<Int>, through client: PiSyncClient) async throws {
        for index in devices {
            _ = try await client.recordSync(events: [failure("pibox-\(index)")])
        }
    }

    static func sequences(_ stream: FailureAlertStream, count: Int) async throws -> [UInt64] {
        var iterator = stream.makeAsyncIterator()
        var seen: [UInt64] = []
        while seen.count < count, let alert = try await iterator.next() {
            seen.append(alert.sequence)
        }
        return seen
    }

    @Test("resuming after alert 2 of 5 replays 3, 4, 5, then goes on live with 6; absent means live only")
    func replayThenLive() async throws {
        try await TestServer.with({ $0.alertThreshold = 1 }) { server in
            let client = try await server.client()
            defer { client.close() }
            try await Self.raise(1...5, through: client)
            #expect(await eventually { server.store.currentAlertSequence == 5 })

            let resumed = try await client.subscribeFailureAlerts(fromSequence: 2)
            #expect(resumed.confirmation.lastSequence == 5 && resumed.confirmation.alertsLost == 0)
            let live = try await client.subscribeFailureAlerts()
            try await Self.raise(6...6, through: client)
            #expect(try await Self.sequences(resumed, count: 4) == [3, 4, 5, 6])
            #expect(try await Self.sequences(live, count: 1) == [6])

            let whole = try await client.subscribeFailureAlerts(fromSequence: 0)
            #expect(try await Self.sequences(whole, count: 6) == [1, 2, 3, 4, 5, 6])
        }
    }

    @Test("a resume older than the ring says how many alerts were lost, then replays what is held")
    func lostAlerts() async throws {
        try await TestServer.with({ $0.alertThreshold = 1; $0.alertHistory = 3 }) { server in
            let client = try await server.client()
            defer { client.close() }
            try await Self.raise(1...6, through: client)
            #expect(await eventually { server.store.currentAlertSequence == 6 })
            let resumed = try await client.subscribeFailureAlerts(fromSequence: 1)
            #expect(resumed.confirmation.alertsLost == 2)  // 2 and 3 are gone; 4, 5, 6 are held
            #expect(try await Self.sequences(resumed, count: 3) == [4, 5, 6])
        }
    }

    @Test("resuming while alerts are raised: every subscriber sees each sequence number once, consecutively", arguments: 0..<3)
    func seamUnderLoad(round: Int) async throws {
        try await TestServer.with({ $0.alertThreshold = 1 }) { server in
            let writer = try await server.client()
            let reader = try await server.client()
            defer { writer.close(); reader.close() }
            try await Self.raise(1...20, through: writer)
            let raising = Task { try await Self.raise(21...300, through: writer) }
            var streams: [(from: UInt64, stream: FailureAlertStream)] = []
            for from: UInt64 in [5, 10, 15, 19] {
                streams.append((from, try await reader.subscribeFailureAlerts(fromSequence: from)))
            }
            try await raising.value
            for (from, stream) in streams {
                let seen = try await Self.sequences(stream, count: Int(300 - from))
                #expect(seen == Array((from + 1)...300), "round \(round), resumed after \(from)")
            }
        }
    }

    @Test("a device id prefix filters the live stream and the replay; a malformed prefix is INVALID_ARGUMENT naming the field")
    func devicePrefix() async throws {
        try await TestServer.with({ $0.alertThreshold = 1 }) { server in
            let client = try await server.client()
            defer { client.close() }
            for device in ["school1-a", "school2-a", "school1-b"] {
                _ = try await client.recordSync(events: [Self.failure(device)])
            }
            let school1 = try await client.subscribeFailureAlerts(fromSequence: 0, deviceIDPrefix: "school1-")
            _ = try await client.recordSync(events: [Self.failure("school2-b")])
            _ = try await client.recordSync(events: [Self.failure("school1-c")])
            var alerts = school1.makeAsyncIterator()
            var devices: [String] = []
            while devices.count < 3, let alert = try await alerts.next() { devices.append(alert.deviceID) }
            #expect(devices == ["school1-a", "school1-b", "school1-c"])
            do {
                _ = try await client.subscribeFailureAlerts(deviceIDPrefix: "school 1")
                Issue.record("a prefix with a space was accepted")
            } catch let error as PiSyncError {
                #expect(error.status == .invalidArgument && error.field == "device_id_prefix")
            }
        }
    }

    @Test("a device that alerted and then syncs again sends a recovered message, in the alerts' sequence; a resume replays it")
    func recovered() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            defer { client.close() }
            let stream = try await client.subscribeFailureAlerts()
            let failures = (0..<3).map { offset in
                Pisync_V1_SyncEvent.with { $0.deviceID = "pibox-r"; $0.timestamp = AlertStreamTests.base + Int64(offset) * 1000; $0.totalErrors = 1 }
            }
            _ = try await client.recordSync(events: failures)
            _ = try await client.recordSync(events: [
                .with { $0.deviceID = "pibox-r"; $0.timestamp = AlertStreamTests.base + 9000; $0.totalFilesSynced = 4; $0.totalErrors = 1 }
            ])
            var events = stream.events.makeAsyncIterator()
            guard case .alert(let alert)? = try await events.next(), case .recovered(let recovered)? = try await events.next() else {
                Issue.record("expected an alert, then a recovery")
                return
            }
            #expect(alert.sequence == 1 && recovered.sequence == 2)
            #expect(recovered.deviceID == "pibox-r" && recovered.syncStatus == .partial)
            #expect(recovered.recoveredTimestamp == AlertStreamTests.base + 9000)
            #expect(recovered.lastFailureTimestamp == AlertStreamTests.base + 2000)
            let resumed = try await client.subscribeFailureAlerts(fromSequence: 1)
            var replay = resumed.events.makeAsyncIterator()
            #expect(try await replay.next() == .recovered(recovered))
        }
    }

    // Regression (review): `sequence + 1` trapped on from_sequence = UInt64.max, taking the
    // server down.
    @Test("from_sequence at UInt64.max neither crashes nor claims losses")
    func largestSequence() async throws {
        try await TestServer.with({ $0.alertThreshold = 1 }) { server in
            let client = try await server.client()
            defer { client.close() }
            try await Self.raise(1...2, through: client)
            let stream = try await client.subscribeFailureAlerts(fromSequence: .max)
            #expect(stream.confirmation.alertsLost == 0 && stream.confirmation.lastSequence == 2)
            #expect(try await client.ping().version.isEmpty == false)
        }
    }

    // Regression (review): after a restart the bus started at sequence 0, so a subscriber that
    // resumed was told nothing had been raised and nothing lost. The history now survives too.
    @Test("after a restart, a resume learns the last sequence and gets the alerts it missed")
    func afterRestart() async throws {
        let scratch = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let data = scratch.appendingPathComponent("data").path
        try await TestApplication.with(dataDirectory: data, { $0.alertThreshold = 1 }) { app in
            let client = try await app.client()
            defer { client.close() }
            try await Self.raise(1...5, through: client)
        }
        try await TestApplication.with(dataDirectory: data, { $0.alertThreshold = 1 }) { app in
            let client = try await app.client()
            defer { client.close() }
            let stream = try await client.subscribeFailureAlerts(fromSequence: 2)
            #expect(stream.confirmation.lastSequence == 5)
            #expect(stream.confirmation.alertsLost == 0)
            #expect(try await Self.sequences(stream, count: 3) == [3, 4, 5])
        }
    }

    @Test("a replay larger than the subscriber buffer is delivered whole, then live alerts as usual")
    func allowanceShrinks() async throws {
        try await TestServer.with({ $0.alertThreshold = 1; $0.subscriberBufferSize = 2 }) { server in
            let client = try await server.client()
            defer { client.close() }
            try await Self.raise(1...10, through: client)
            let stream = try await client.subscribeFailureAlerts(fromSequence: 0)
            #expect(try await Self.sequences(stream, count: 10) == Array(1...10))
            // The replay of 10 went through a buffer of 2; live alerts use the buffer as usual.
            try await Self.raise(11...12, through: client)
            #expect(try await Self.sequences(stream, count: 2) == [11, 12])
        }
    }
}
