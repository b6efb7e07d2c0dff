import Foundation
import PiSyncClient
import PiSyncProtocol
import Testing

/// The alert history survives a restart: it is journaled with the events that raised it and
/// kept in the snapshot, so a subscriber that reconnects after the server was killed gets
/// every alert it missed (issue 9). Real `pisync serve` processes, killed with SIGKILL.
@Suite("The alert history survives restarts", .timeLimit(.minutes(2)))
struct AlertHistoryRestartTests {
    static func event(_ device: String, at offset: Int64, files: UInt32 = 0, errors: UInt32 = 1) -> Pisync_V1_SyncEvent {
        .with {
            $0.deviceID = device
            $0.timestamp = AlertStreamTests.base + offset * 1000
            $0.totalFilesSynced = files
            $0.totalErrors = errors
        }
    }

    static func client(_ server: ServeProcess) async throws -> PiSyncClient {
        try await PiSyncClient.connect(host: "127.0.0.1", port: server.port)
    }

    /// The first `count` stream events, as (kind, sequence, device).
    static func read(_ stream: FailureAlertStream, count: Int) async throws -> [String] {
        var iterator = stream.events.makeAsyncIterator()
        var seen: [String] = []
        while seen.count < count, let event = try await iterator.next() {
            switch event {
            case .alert(let alert): seen.append("alert \(alert.sequence) \(alert.deviceID)")
            case .recovered(let recovered): seen.append("recovered \(recovered.sequence) \(recovered.deviceID)")
            }
        }
        return seen
    }

    @Test("after kill -9, a resume from 0 replays every alert and recovery from the log, then goes on live")
    func killedServerReplaysFromLog() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = ["--data-dir", directory.appendingPathComponent("data").path, "--alert-threshold", "1"]
        let first = try await ServeProcess(in: directory, arguments: arguments)
        let client = try await Self.client(first)
        for device in 1...4 {
            _ = try await client.recordSync(events: [Self.event("pibox-\(device)", at: 0)])
        }
        _ = try await client.recordSync(events: [Self.event("pibox-2", at: 1, files: 5, errors: 0)])  // recovers: 5
        client.close()
        try await first.stop(SIGKILL)

        let second = try await ServeProcess(in: directory, arguments: arguments)
        let resumed = try await Self.client(second)
        defer { resumed.close() }
        let stream = try await resumed.subscribeFailureAlerts(fromSequence: 0)
        #expect(stream.confirmation.lastSequence == 5)
        #expect(stream.confirmation.alertsLost == 0)
        _ = try await resumed.recordSync(events: [Self.event("pibox-9", at: 0)])
        #expect(try await Self.read(stream, count: 6) == [
            "alert 1 pibox-1", "alert 2 pibox-2", "alert 3 pibox-3", "alert 4 pibox-4", "recovered 5 pibox-2",
            "alert 6 pibox-9",
        ])
        #expect(try await second.stop() == 0)
    }

    @Test("a bounded history rebuilt from the snapshot and the log after it keeps the newest alerts and counts the rest lost")
    func snapshotThenLog() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = [
            "--data-dir", directory.appendingPathComponent("data").path, "--alert-threshold", "1", "--alert-history", "3",
        ]
        let first = try await ServeProcess(in: directory, arguments: arguments)
        var client = try await Self.client(first)
        for device in 1...3 {
            _ = try await client.recordSync(events: [Self.event("pibox-\(device)", at: 0)])
        }
        client.close()
        #expect(try await first.stop() == 0)  // graceful: the final snapshot holds alerts 1-3

        let second = try await ServeProcess(in: directory, arguments: arguments)
        client = try await Self.client(second)
        for device in 4...5 {
            _ = try await client.recordSync(events: [Self.event("pibox-\(device)", at: 0)])
        }
        client.close()
        try await second.stop(SIGKILL)  // alerts 4 and 5 are only in the log

        let third = try await ServeProcess(in: directory, arguments: arguments)
        let resumed = try await Self.client(third)
        defer { resumed.close() }
        let stream = try await resumed.subscribeFailureAlerts(fromSequence: 0)
        #expect(stream.confirmation.lastSequence == 5)
        #expect(stream.confirmation.alertsLost == 2)
        #expect(try await Self.read(stream, count: 3) == ["alert 3 pibox-3", "alert 4 pibox-4", "alert 5 pibox-5"])
        let fromFour = try await resumed.subscribeFailureAlerts(fromSequence: 4)
        #expect(fromFour.confirmation.alertsLost == 0)
        #expect(try await Self.read(fromFour, count: 1) == ["alert 5 pibox-5"])
        #expect(try await third.stop() == 0)
    }
}
