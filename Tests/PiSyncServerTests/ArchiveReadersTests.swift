import Foundation
import PiSyncPersistence
import PiSyncStore
import Testing

/// The repository's other readers of the archive format: the Python script and the C client's
/// `pisync_archive_*` (through `pisync-device archive`) read what the server writes.
@Suite("archive files read by the Python and C readers", .timeLimit(.minutes(5)))
struct ArchiveReadersTests {
    /// A data directory whose archive holds 2 devices × 9 events of every status, over two days.
    static func makeArchive(in directory: URL) throws -> (files: [String], events: [SyncEvent]) {
        let data = directory.appendingPathComponent("data").path
        let store = SyncStore()
        let start: Int64 = 1_795_816_800_000  // 2026-11-27T22:00:00Z
        for device in ["pibook-1", "pibox-22"] {
            store.record(
                (0..<10).map { index in
                    SyncEvent(
                        deviceID: device, timestamp: start + Int64(index) * 1_800_000, filesSynced: UInt32(index % 3),
                        errors: UInt32(index % 2), internetSpeed: Float(index) + 0.25)
                }, now: start + 86_400_000)
        }
        let archive = EventArchive(dataDirectory: data)
        try Archiver(store: store, archive: archive, policy: RetentionPolicy(retainEventsPerDevice: 1))
            .pass(now: start + 86_400_000)
        var events: [SyncEvent] = []
        try ArchiveReader(dataDirectory: data).read { events.append($0) }
        let files = try FileManager.default.contentsOfDirectory(atPath: archive.directory)
            .filter { $0.hasSuffix(".pisync") }.sorted().map { archive.directory + "/" + $0 }
        return (files, events)
    }

    @Test("scripts/read-archive.py prints every archived event with its status")
    func pythonReader() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (files, events) = try Self.makeArchive(in: directory)
        #expect(files.count == 2 && events.count == 18)
        // Debian's python3 has python3-protobuf; a pyenv python3 first on PATH may not.
        let python = FileManager.default.fileExists(atPath: "/usr/bin/python3") ? ["/usr/bin/python3"] : ["python3"]
        let run = try await ProgramRun.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            python + [CDeviceTool.repository.appendingPathComponent("scripts/read-archive.py").path] + files)
        if run.status == 2, ProcessInfo.processInfo.environment["CI"] != "true" {
            print("skipped: \(run.output)")  // no protoc or python3-protobuf here
            return
        }
        #expect(run.status == 0, "\(run.output)")
        let lines = run.output.split(separator: "\n").filter { $0.hasPrefix("{") }
        let decoded = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(decoded.count == 18, "\(run.output)")
        #expect(decoded.compactMap { $0["timestamp"] as? Int64 } == events.map(\.timestamp))
        #expect(decoded.compactMap { $0["device_id"] as? String } == events.map(\.deviceID))
        #expect(decoded.compactMap { $0["total_files_synced"] as? Int } == events.map { Int($0.filesSynced) })
        let statuses = decoded.compactMap { $0["sync_status"] as? String }
        #expect(statuses == events.map { "SYNC_STATUS_" + "\($0.status)".uppercased() })
    }

    @Test("pisync-device archive (the C library's pisync_archive_next) prints every archived event")
    func cReader() async throws {
        guard CDeviceTool.isAvailable else { return }
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (files, events) = try Self.makeArchive(in: directory)
        var rows: [String] = []
        for file in files {
            let run = try await CDeviceTool.run(["archive", "--file", file])
            #expect(run.status == 0, "\(run.output)")
            rows += run.output.split(separator: "\n").dropFirst().dropLast().map(String.init)
        }
        #expect(rows.count == events.count, "\(rows)")
        for (row, event) in zip(rows, events) {
            let fields = row.split(separator: " ")
            #expect(fields.count == 7, "\(row)")
            guard fields.count == 7 else { continue }
            #expect(fields[0] == event.deviceID && Int64(fields[1]) == event.timestamp, "\(row)")
            #expect(fields[3] == "\(event.status)" && UInt32(fields[4]) == event.filesSynced, "\(row)")
        }
        let one = try await CDeviceTool.run(["archive", "--file", files[0], "--device", "pibox-22"])
        #expect(one.output.contains("archived events") && !one.output.contains("pibook-1 "), "\(one.output)")
        let damaged = directory.appendingPathComponent("damaged.pisync").path
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: files[0])))
        bytes[30] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let refused = try await CDeviceTool.run(["archive", "--file", damaged])
        #expect(refused.status == 4 && refused.output.contains("checksum mismatch"), "\(refused.output)")
    }
}
