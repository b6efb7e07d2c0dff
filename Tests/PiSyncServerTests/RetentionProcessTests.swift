import Foundation
import PiSyncClient
import PiSyncPersistence
import PiSyncProtocol
import Testing

/// Retention on the real `pisync serve` process: events beyond `--retain-events-per-device`
/// move to the archive, GetHistory and `pisync history` say so, `pisync archive read` prints
/// them, and a `kill -9` loses and duplicates nothing.
@Suite("retention and archiving, as a process", .serialized, .timeLimit(.minutes(3)))
struct RetentionProcessTests {
    static let base: Int64 = 1_795_852_800_000  // 2026-11-28T08:00:00Z

    static func event(_ device: String, _ index: Int) -> Pisync_V1_SyncEvent {
        .with {
            $0.deviceID = device
            $0.timestamp = base + Int64(index) * 3_600_000  // hourly: 16 on 11-28, the rest on 11-29
            $0.totalFilesSynced = index % 4 == 0 ? 0 : 5
            $0.totalErrors = index % 4 == 0 ? 2 : 0
            $0.internetSpeed = Float(index)
        }
    }

    /// Polls GetHistory until `archived` reaches `count` (a pass runs every snapshot interval).
    static func waitForArchive(_ client: PiSyncClient, _ device: String, _ count: UInt64) async throws -> Pisync_V1_GetHistoryResponse {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let page = try await client.history(deviceID: device, limit: 100)
            if page.archived >= count || ContinuousClock.now > deadline { return page }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test("events beyond the newest N move to the archive; every number stays; kill -9 keeps it all")
    func countRetention() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        let arguments = ["--data-dir", data, "--snapshot-interval", "1", "--retain-events-per-device", "5"]
        let first = try await ServeProcess(in: directory, arguments: arguments)
        #expect(first.log.contains("retain_events_per_device=5"))
        let client = try await PiSyncClient.connect(host: "127.0.0.1", port: first.port)
        let sent = (0..<30).map { Self.event("pibox-7", $0) }
        #expect(try await client.recordSync(deviceID: "pibox-7", events: sent).accepted == 30)
        let failuresBefore = try await client.failures(threshold: 1)

        let page = try await Self.waitForArchive(client, "pibox-7", 25)
        #expect(page.total == 30 && page.archived == 25, "log:\n\(first.log)")
        #expect(page.archivedThrough == sent[24].timestamp)
        #expect(page.events.map(\.timestamp) == sent[25...].reversed().map(\.timestamp))
        #expect(try await client.failures(threshold: 1) == failuresBefore)
        #expect(try await client.recordSync(events: [sent[3]]).duplicates == 1)

        let history = try await ProgramRun.run(
            ServeProcess.executable, ["history", "pibox-7", "--server", "127.0.0.1:\(first.port)"])
        #expect(history.output.contains("30 events"), "\(history.output)")
        #expect(history.output.contains("the oldest 25 (up to 2026-11-29T08:00:00.000Z) are archived"), "\(history.output)")

        // Read while the server runs.
        let json = try await ProgramRun.run(ServeProcess.executable, ["archive", "read", "--data-dir", data, "--json"])
        let lines = json.output.split(separator: "\n")
        #expect(lines.count == 25, "\(json.output)")
        let timestamps = lines.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["timestamp"] as? Int64
        }
        #expect(timestamps == sent[..<25].map(\.timestamp))
        #expect(lines.first?.contains("\"sync_status\":\"SYNC_STATUS_FAILED\"") == true, "\(lines.first ?? "")")
        let day = try await ProgramRun.run(
            ServeProcess.executable, ["archive", "read", "--data-dir", data, "--day", "2026-11-28", "--device", "pibox-7"])
        #expect(day.status == 0)
        #expect(day.output.contains("16 archived events in \(data)/archive"), "\(day.output)")
        #expect(day.output.contains("pibox-7  2026-11-28T08:00:00.000Z  failed"), "\(day.output)")
        let bad = try await ProgramRun.run(ServeProcess.executable, ["archive", "read", "--data-dir", data, "--day", "2026-13-01"])
        #expect(bad.status != 0 && bad.output.contains("day must be a date YYYY-MM-DD, got '2026-13-01'"), "\(bad.output)")
        client.close()

        try await first.stop(SIGKILL)
        let second = try await ServeProcess(in: directory, arguments: arguments)
        let again = try await PiSyncClient.connect(host: "127.0.0.1", port: second.port)
        defer { again.close() }
        let after = try await again.history(deviceID: "pibox-7", limit: 100)
        #expect(after == page)
        #expect(try await again.failures(threshold: 1) == failuresBefore)
        let reread = try await ProgramRun.run(ServeProcess.executable, ["archive", "read", "--data-dir", data])
        #expect(reread.output.contains("25 archived events"), "\(reread.output)")
        try await second.stop()
    }

    @Test("the retention settings come from the flag or PISYNC_*, and an out-of-range value names the flag")
    func settings() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fromEnvironment = try await ServeProcess(
            in: directory, arguments: ["--data-dir", "data"],
            environment: ["PISYNC_RETAIN_DAYS": "30", "PISYNC_RETAIN_EVENTS_PER_DEVICE": "1000"])
        #expect(fromEnvironment.log.contains("retain_days=30 retain_events_per_device=1000"), "\(fromEnvironment.log)")
        #expect(try await fromEnvironment.stop() == 0)
        let off = try await ServeProcess(in: directory, arguments: ["--data-dir", "data"])
        #expect(off.log.contains("retain_days=0 retain_events_per_device=0"), "\(off.log)")
        #expect(try await off.stop() == 0)
        let refused = try await ServeProcess(
            in: directory, arguments: ["--data-dir", "data", "--retain-days", "40000"], waitForListening: false)
        #expect(try await refused.waitForExit() != 0)
        #expect(refused.log.contains("retain-days must be between 0 (no limit) and 36500, got 40000"), "\(refused.log)")
    }

    @Test("kill -9 while events move to the archive: nothing acknowledged is lost, nothing archived twice")
    func killNineDuringArchiving() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        let arguments = [
            "--data-dir", data, "--snapshot-interval", "1", "--snapshot-log-bytes", "20000",
            "--retain-events-per-device", "20",
        ]
        let cycles = Int(ProcessInfo.processInfo.environment["PISYNC_CRASH_CYCLES"] ?? "") ?? 6
        var archivedInAll = 0
        var rolledBack = 0  // cycles whose kill landed inside a pass
        for cycle in 0..<cycles {
            let server = try await ServeProcess(in: directory, arguments: arguments)
            let ledgers = (0..<4).map { CrashRecoveryTests.Ledger(device: "retain-c\(cycle)-w\($0)") }
            let port = server.port
            let writers = ledgers.map { ledger in Task { await ledger.run(port: port) } }
            // Passes run every second: the kill lands before, during or after one.
            try await Task.sleep(for: .milliseconds(Int.random(in: 1100...2600)))
            try await server.stop(SIGKILL)
            for writer in writers { await writer.value }

            // Restarted without retention, so that no pass moves events while they are compared.
            let restarted = try await ServeProcess(in: directory, arguments: Array(arguments.dropLast(2)))
            let client = try await PiSyncClient.connect(host: "127.0.0.1", port: restarted.port)
            var archive: [String: [Int64]] = [:]
            try ArchiveReader(dataDirectory: data).read { archive[$0.deviceID, default: []].append($0.timestamp) }
            for ledger in ledgers {
                let archived = archive[ledger.device] ?? []
                let held = try await CrashRecoveryTests.timestamps(of: ledger.device, client)
                let stored = held.union(archived)
                let acknowledged = Set((0..<ledger.acknowledged).map { CrashRecoveryTests.base + Int64($0) })
                let sent = Set((0..<ledger.sent).map { CrashRecoveryTests.base + Int64($0) })
                let context = "cycle \(cycle) \(ledger.device); log:\n\(restarted.log)"
                #expect(Set(archived).count == archived.count, "archived twice: \(context)")
                #expect(held.isDisjoint(with: archived), "both held and archived: \(context)")
                #expect(acknowledged.isSubset(of: stored), "lost \(acknowledged.subtracting(stored).sorted().prefix(5)): \(context)")
                #expect(stored.isSubset(of: sent), "invented: \(context)")
                if !stored.isEmpty {
                    let page = try await client.history(deviceID: ledger.device, limit: 1)
                    #expect(page.total == UInt64(stored.count) && page.archived == UInt64(archived.count), "\(context)")
                }
                archivedInAll += archived.count
            }
            if restarted.log.contains("rolled back") { rolledBack += 1 }
            client.close()
            try await restarted.stop(SIGKILL)
        }
        #expect(archivedInAll > 0, "nothing was archived; the test proves little")
        print("kill -9 with retention: \(cycles) cycles (\(rolledBack) rolled a pass back), \(archivedInAll) events archived, none lost or doubled")
    }
}
