import Foundation
import Testing

/// The Swift server and CLI against the C device client, as real processes.
@Suite(
    "Swift server with the C device client", .serialized, .timeLimit(.minutes(5)),
    .enabled(if: CDeviceTool.isAvailable, "C client parts skipped: install libprotobuf-c-dev, protobuf-c-compiler, protobuf-compiler and make"))
struct CrossImplementationTests {
    static let base: Int64 = 1_764_000_000_000

    /// `pisync` (the Swift CLI) with `arguments`.
    static func swiftCLI(_ arguments: [String]) async throws -> ProgramRun {
        try await ProgramRun.run(ServeProcess.executable, arguments)
    }

    /// The events of `device` as the Swift CLI's JSON shows them: (timestamp, status).
    static func swiftHistory(_ device: String, port: Int) async throws -> [(Int64, String)] {
        let run = try await swiftCLI(["history", device, "--limit", "100", "--json", "--server", "127.0.0.1:\(port)"])
        guard run.status == 0, let line = run.output.split(separator: "\n").last,
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else { throw ProgramRunError("pisync history failed: \(run.output)") }
        let events = object["events"] as? [[String: Any]] ?? []
        return events.map { (($0["timestamp"] as? NSNumber)?.int64Value ?? 0, $0["sync_status"] as? String ?? "") }
    }

    /// The events of `device` as the C client's `history` prints them: (timestamp, status).
    static func cHistory(_ device: String, port: Int) async throws -> [(Int64, String)] {
        let run = try await CDeviceTool.run(["history", "--device", device, "--limit", "100", "--server", "127.0.0.1:\(port)"])
        guard run.status == 0 else { throw ProgramRunError("pisync-device history failed: \(run.output)") }
        return run.output.split(separator: "\n").compactMap { line in
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            guard columns.count >= 3, let timestamp = Int64(columns[0]) else { return nil }
            return (timestamp, String(columns[2]))
        }
    }

    static func send(_ device: String, _ offset: Int64, files: Int, errors: Int, port: Int, spool: String? = nil) async throws -> ProgramRun {
        var arguments = ["send", "--device", device, "--files", "\(files)", "--errors", "\(errors)", "--speed", "1.5",
                         "--timestamp", "\(base + offset)", "--server", "127.0.0.1:\(port)", "--timeout", "2000"]
        if let spool { arguments += ["--spool", spool] }
        return try await CDeviceTool.run(arguments)
    }

    @Test("the C tool records to the Swift server and the Swift CLI reads the events back")
    func cRecordsSwiftReads() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await ServeProcess(in: directory, arguments: ["--data-dir", directory.appendingPathComponent("data").path])
        for (offset, files, errors) in [(0, 5, 0), (1000, 2, 1), (2000, 0, 4)] as [(Int64, Int, Int)] {
            let run = try await Self.send("pibox-c1", offset, files: files, errors: errors, port: server.port)
            #expect(run.status == 0, "\(run.output)")
        }
        let history = try await Self.swiftHistory("pibox-c1", port: server.port)
        #expect(history.map(\.0) == [2000, 1000, 0].map { Self.base + $0 })
        #expect(history.map(\.1) == ["SYNC_STATUS_FAILED", "SYNC_STATUS_PARTIAL", "SYNC_STATUS_SUCCESS"])
        let refused = try await Self.send("pibox-c1", -Self.base, files: 1, errors: 0, port: server.port)
        #expect(refused.status == 1 && refused.output.contains("timestamp"), "\(refused.output)")
        #expect(try await server.stop() == 0)
    }

    @Test("the Swift CLI records and the C library reads the history back")
    func swiftRecordsCReads() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await ServeProcess(in: directory, arguments: ["--data-dir", directory.appendingPathComponent("data").path])
        for (offset, files, errors) in [(0, 7, 0), (5000, 0, 2)] as [(Int64, Int, Int)] {
            let run = try await Self.swiftCLI(["record", "--device", "pibook-s1", "--files", "\(files)", "--errors", "\(errors)",
                                         "--speed", "3", "--timestamp", "\(Self.base + offset)", "--server", "127.0.0.1:\(server.port)"])
            #expect(run.status == 0, "\(run.output)")
        }
        let history = try await Self.cHistory("pibook-s1", port: server.port)
        #expect(history.map(\.0) == [5000, 0].map { Self.base + $0 })
        #expect(history.map { $0.1.lowercased() } == ["failed", "success"])
        #expect(try await server.stop() == 0)
    }

    @Test("a device that goes offline mid-run spools, and every event arrives exactly once")
    func offlineSpoolDeliversOnce() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = ["--data-dir", directory.appendingPathComponent("data").path]
        let spool = directory.appendingPathComponent("device.spool").path

        let first = try await ServeProcess(in: directory, arguments: data)
        for offset in [0, 1000] as [Int64] {
            #expect(try await Self.send("pibox-off", offset, files: 1, errors: 0, port: first.port, spool: spool).status == 0)
        }
        let port = first.port
        #expect(try await first.stop() == 0)

        // The server is gone: events are kept in the spool, and the tool says so.
        for offset in [2000, 3000, 4000] as [Int64] {
            let run = try await Self.send("pibox-off", offset, files: 0, errors: 1, port: port, spool: spool)
            #expect(run.status == 3, "\(run.output)")
        }
        let second = try await ServeProcess(in: directory, arguments: data)
        let flush = try await CDeviceTool.run(["flush", "--spool", spool, "--server", "127.0.0.1:\(second.port)"])
        #expect(flush.status == 0, "\(flush.output)")
        let again = try await CDeviceTool.run(["flush", "--spool", spool, "--server", "127.0.0.1:\(second.port)"])
        #expect(again.status == 0, "\(again.output)")

        let history = try await Self.swiftHistory("pibox-off", port: second.port)
        #expect(history.map(\.0) == [4000, 3000, 2000, 1000, 0].map { Self.base + $0 })
        #expect(try await second.stop() == 0)
    }
}
