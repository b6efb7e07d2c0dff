import Foundation
import PiSyncClient
import PiSyncProtocol
import Testing

/// A real write-ahead log, damaged the two ways a disk and a crash damage it, then given to a
/// real `pisync serve`: a torn last record is dropped with a warning; damage in the middle
/// refuses to start until `pisync repair`.
@Suite("Damaged log, real process", .serialized, .timeLimit(.minutes(3)))
struct LogDamageProcessTests {
    static let events = 10

    /// A data directory whose log holds `events` records of one event each, left by `kill -9`
    /// (so no final snapshot covers them); returns the segment and its records' offsets.
    static func makeLog(in directory: URL) async throws -> (segment: URL, offsets: [Int]) {
        let data = directory.appendingPathComponent("data")
        let server = try await ServeProcess(in: directory, arguments: ["--data-dir", data.path, "--snapshot-interval", "3600"])
        let client = try await PiSyncClient.connect(host: "127.0.0.1", port: server.port)
        for index in 0..<events {
            _ = try await client.recordSync(events: [DurabilityTrapTests.event("pibook-log", Int64(index))])
        }
        client.close()
        try await server.stop(SIGKILL)
        let segment = data.appendingPathComponent("wal-00000000000000000001.log")
        let bytes = try [UInt8](Data(contentsOf: segment))
        var offsets: [Int] = []
        var offset = 16
        while offset + 8 <= bytes.count {
            offsets.append(offset)
            let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
            offset += 8 + length
        }
        #expect(offset == bytes.count && offsets.count == events, "unexpected log layout")
        return (segment, offsets)
    }

    /// The number of events the server on `directory` holds for the test device.
    static func storedEvents(_ server: ServeProcess) async throws -> UInt64 {
        let client = try await PiSyncClient.connect(host: "127.0.0.1", port: server.port)
        defer { client.close() }
        return try await client.history(deviceID: "pibook-log", limit: 1).total
    }

    @Test("a last record cut at every byte offset is dropped with a warning, the rest kept")
    func tornTail() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (segment, offsets) = try await Self.makeLog(in: directory)
        let original = try Data(contentsOf: segment)
        let last = try #require(offsets.last)
        for cut in last..<original.count {
            try original.prefix(cut).write(to: segment)
            let server = try await ServeProcess(in: directory, arguments: ["--data-dir", segment.deletingLastPathComponent().path])
            #expect(try await Self.storedEvents(server) == UInt64(Self.events - 1), "cut at \(cut)")
            if cut > last {
                #expect(server.log.contains("dropped a log record cut short by a crash: \(cut - last) bytes at offset \(last)"), "cut at \(cut): \(server.log)")
            }
            try await server.stop(SIGKILL)
        }
    }

    @Test("a damaged record in the middle refuses to start, naming file and offset; repair truncates and reports")
    func corruptionThenRepair() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (segment, offsets) = try await Self.makeLog(in: directory)
        var bytes = try [UInt8](Data(contentsOf: segment))
        bytes[offsets[4] + 20] ^= 0x40  // inside the body of record 5
        try Data(bytes).write(to: segment)
        let dataDir = segment.deletingLastPathComponent().path

        let refused = try await ServeProcess(in: directory, arguments: ["--data-dir", dataDir], waitForListening: false)
        #expect(try await refused.waitForExit() == 1)
        #expect(refused.log.contains("\(segment.path) at offset \(offsets[4])"), "\(refused.log)")
        #expect(refused.log.contains("pisync repair --data-dir"))

        let repair = Process()
        repair.executableURL = ServeProcess.executable
        repair.arguments = ["repair", "--data-dir", dataDir]
        let output = Pipe()
        repair.standardOutput = output
        try repair.run()
        repair.waitUntilExit()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(repair.terminationStatus == 0)
        #expect(report.contains("truncated \(segment.path) at offset \(offsets[4])"), "\(report)")
        #expect(report.contains("dropped sequence numbers 6...10: 5 records, 5 events"), "\(report)")
        #expect(report.contains("1 damaged records"), "\(report)")

        let server = try await ServeProcess(in: directory, arguments: ["--data-dir", dataDir])
        #expect(try await Self.storedEvents(server) == 4)
        try await server.stop()
    }
}
