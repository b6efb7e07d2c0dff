import Foundation
import PiSyncClient
import PiSyncProtocol
import Testing

/// Persistence and settings, tried on the real `pisync serve` process.
@Suite("pisync serve as a process", .serialized, .timeLimit(.minutes(2)))
struct ProcessRestartTests {
    static let base: Int64 = 1_764_000_000_000

    static func events(_ device: String, failed: Int, thenSucceeded: Bool) -> [Pisync_V1_SyncEvent] {
        var events = (0..<failed).map { index in
            Pisync_V1_SyncEvent.with {
                $0.deviceID = device
                $0.timestamp = base + Int64(index) * 1000
                $0.totalErrors = 2
                $0.internetSpeed = 0.5
            }
        }
        if thenSucceeded {
            events.append(.with { $0.deviceID = device; $0.timestamp = base + 99_000; $0.totalFilesSynced = 9; $0.internetSpeed = 20 })
        }
        return events
    }

    @Test("history and failure counts survive a graceful stop and restart", arguments: [SIGTERM, SIGINT])
    func restartKeepsData(signal: Int32) async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataDir = ["--data-dir", directory.appendingPathComponent("data").path, "--snapshot-interval", "3600"]

        let first = try await ServeProcess(in: directory, arguments: dataDir)
        let client = try await PiSyncClient.connect(host: "127.0.0.1", port: first.port)
        _ = try await client.recordSync(events: Self.events("pibox-1", failed: 5, thenSucceeded: false))
        _ = try await client.recordSync(events: Self.events("pibook-2", failed: 4, thenSucceeded: true))
        let before = try await (client.history(deviceID: "pibox-1", limit: 100), client.failures())
        client.close()
        #expect(try await first.stop(signal) == 0, "exit status; log:\n\(first.log)")
        #expect(first.log.contains("final snapshot written"))

        let second = try await ServeProcess(in: directory, arguments: dataDir)
        let again = try await PiSyncClient.connect(host: "127.0.0.1", port: second.port)
        defer { again.close() }
        let after = try await (again.history(deviceID: "pibox-1", limit: 100), again.failures())
        #expect(after.0 == before.0)
        #expect(after.1 == before.1)
        #expect(after.1.devices.map(\.deviceID) == ["pibox-1", "pibook-2"])
        #expect(after.1.devices.first?.failedSyncs == 5 && after.1.devices.first?.consecutiveFailures == 5)
        #expect(after.1.devices.last?.lastSuccessTimestamp == Self.base + 99_000)
        // The streak was alerted before the restart: a 6th failure must not alert again.
        let alerts = try await again.subscribeFailureAlerts()
        var sixth = Self.events("pibox-1", failed: 1, thenSucceeded: false)
        sixth[0].timestamp = Self.base + 200_000
        _ = try await again.recordSync(events: sixth)
        _ = try await again.recordSync(events: Self.events("pibox-3", failed: 3, thenSucceeded: false))
        var iterator = alerts.makeAsyncIterator()
        let next = try #require(try await iterator.next())
        // After pibox-1's and pibook-2's alerts and pibook-2's recovery (its success).
        #expect(next.deviceID == "pibox-3" && next.sequence == 4)
        #expect(try await second.stop() == 0)
    }

    @Test("a damaged snapshot stops the server from starting, and says why")
    func corruptSnapshotRefusesToStart() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data("PISYNCSS garbage".utf8).write(to: data.appendingPathComponent("snapshot.pisync"))
        let server = try await ServeProcess(in: directory, arguments: ["--data-dir", data.path], waitForListening: false)
        #expect(try await server.waitForExit() == 1)
        #expect(server.log.contains("corrupt snapshot"))
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("snapshot.pisync").path))
    }

    @Test("a setting comes from its flag, else PISYNC_* in the environment, else .env")
    func settingsPrecedence() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        # settings for this test
        PISYNC_ALERT_THRESHOLD=2
        export PISYNC_MAX_BATCH_SIZE="7"
        PISYNC_MAX_CONNECTIONS=11
        PISYNC_DATA_DIR=./from-dotenv
        """.write(to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let server = try await ServeProcess(
            in: directory, arguments: ["--max-connections", "13"], environment: ["PISYNC_MAX_BATCH_SIZE": "5"])
        let line = try #require(server.log.split(separator: "\n").first { $0.contains("listening on") })
        #expect(line.contains("alert_threshold=2"))  // .env
        #expect(line.contains("max_batch_size=5"))  // environment over .env
        #expect(line.contains("max_connections=13"))  // flag over .env
        #expect(line.contains("data_dir=./from-dotenv"))
        #expect(try await server.stop() == 0)

        let bad = try await ServeProcess(in: directory, arguments: [], environment: ["PISYNC_ALERT_THRESHOLD": "seventy"], waitForListening: false)
        #expect(try await bad.waitForExit() != 0)
        #expect(bad.log.contains("PISYNC_ALERT_THRESHOLD"))
    }

    @Test("a second server, or a repair, on a data directory in use is refused")
    func dataDirectoryIsLocked() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataDir = ["--data-dir", directory.appendingPathComponent("data").path]
        let first = try await ServeProcess(in: directory, arguments: dataDir)
        let second = try await ServeProcess(in: directory, arguments: dataDir, waitForListening: false)
        #expect(try await second.waitForExit() == 1)
        #expect(second.log.contains("another pisync process is using the data directory"), "\(second.log)")

        let repair = Process()
        repair.executableURL = ServeProcess.executable
        repair.arguments = ["repair"] + dataDir
        let output = Pipe()
        repair.standardError = output
        repair.standardOutput = output
        try repair.run()
        repair.waitUntilExit()
        #expect(repair.terminationStatus != 0)
        #expect(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains("another pisync process"))

        // kill -9 releases the lock: the next server starts.
        try await first.stop(SIGKILL)
        let third = try await ServeProcess(in: directory, arguments: dataDir)
        #expect(try await third.stop() == 0)
    }
}
