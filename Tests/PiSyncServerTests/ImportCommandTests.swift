import Foundation
import PiSyncClient
import PiSyncProtocol
import PiSyncStore
import Testing

/// `pisync import` as an operator runs it: the real binary against a whole persisting server.
@Suite("pisync import against a real server", .timeLimit(.minutes(3)))
struct ImportCommandTests {
    static let hour: Int64 = 3_600_000
    static let seven: Int64 = 1_795_849_200_000  // 2026-11-28T07:00:00.000Z

    /// A seed export: good rows in both Extended JSON modes, a repeat within the file, a row the
    /// server already has, and bad rows. `nil` is a blank line.
    static let documents: [String?] = [
        #"{"_id":{"$oid":"6568a1f2c9e77c0000000001"},"device_id":"pibook-001","timestamp":{"$date":"2026-11-28T08:00:00.000Z"},"total_files_synced":12,"total_errors":0,"internet_speed":8.5,"sync_status":"success","__v":0}"#,
        #"{"_id":{"$oid":"6568a1f2c9e77c0000000002"},"device_id":"pibook-001","timestamp":{"$date":{"$numberLong":"1795856400000"}},"total_files_synced":{"$numberInt":"4"},"total_errors":{"$numberInt":"1"},"internet_speed":{"$numberDouble":"2.0"},"sync_status":"partial","__v":{"$numberInt":"0"}}"#,
        #"{"_id":{"$oid":"6568a1f2c9e77c0000000003"},"device_id":"pibox-042","timestamp":{"$date":"2026-11-28T08:00:00.000Z"},"total_files_synced":0,"total_errors":3,"internet_speed":0.5,"sync_status":"failed","createdAt":{"$date":"2026-11-28T08:00:01.000Z"},"__v":0}"#,
        #"{"_id":{"$oid":"6568a1f2c9e77c0000000004"},"device_id":"pibook-001","timestamp":{"$date":"2026-11-28T08:00:00.000Z"},"total_files_synced":99,"total_errors":0,"internet_speed":1,"sync_status":"success","__v":0}"#,
        #"{"_id":{"$oid":"6568a1f2c9e77c0000000005"},"device_id":"pibook-001","timestamp":{"$date":"2026-11-28T07:00:00.000Z"},"total_files_synced":50,"total_errors":0,"internet_speed":1,"sync_status":"success","__v":0}"#,
        #"{"_id":{"$oid":"6568a1f2c9e77c0000000006"},"device_id":"pibook-001","timestamp":{"$date":"2026-11-28T10:00:00.000Z"},"total_files_synced":1,"total_errors":0,"sync_status":"success","__v":0}"#,
        #"{"_id":{"$oid":"6568a1f2c9e77c0000000007"},"device_id":"pibook-001","timestamp":{"$date":"2026-13-01T00:00:00.000Z"},"total_files_synced":1,"total_errors":0,"internet_speed":1,"__v":0}"#,
        #"{"_id":{"$oid":"6568a1f2c9e77c0000000008"},"device_id":"pibox-042","timestamp":{"$date":"2026-11-28T10:00:00.000Z"},"total_files_synced":1,"total_errors":0,"internet_speed":-3,"__v":0}"#,
        #"{"_id":{"$oid":"6568a1f2c9e77c0000000009"},"device_id":"pi book","timestamp":{"$date":"2026-11-28T10:00:00.000Z"},"total_files_synced":1,"total_errors":0,"internet_speed":1,"__v":0}"#,
        nil,
        #"{"_id":{"$oid":"6568a1f2c9e77c000000000a"},"device_id":"pibox-099","timestamp":{"$date":"2026-11-28T10:00:00.000Z"},"total_files_synced":1,"total_errors":0,"internet_speed":-1,"__v":0}"#,
        #"{"_id":{"$oid":"6568a1f2c9e77c000000000b"},"device_id":"pibox-042","timestamp":{"$date":{"$numberLong":"1795856400000"}},"total_files_synced":2,"total_errors":0,"internet_speed":{"$numberDouble":"4.5"},"__v":{"$numberInt":"0"}}"#,
    ]

    /// The rejected rows, by their place among the documents (0-based, blank line not counted),
    /// with the field and message each must carry.
    static let rejected: [(document: Int, field: String, message: String)] = [
        (5, "internet_speed", "internet_speed is missing"),
        (6, "timestamp", #"timestamp must be an Extended JSON date such as {"$date":"2026-11-28T08:00:00.000Z"}, got {"$date":"2026-13-01T00:00:00.000Z"}"#),
        (7, "internet_speed", "internet_speed must be a finite number >= 0 Mbps, got -3.0"),
        (8, "device_id", "device_id may contain only A-Z a-z 0-9 . _ : - (invalid byte at position 2)"),
        (9, "internet_speed", "internet_speed must be a finite number >= 0 Mbps, got -1.0"),
    ]

    static func pisync(_ arguments: [String], port: Int) async throws -> ProgramRun {
        try await ProgramRun.run(ServeProcess.executable, arguments + ["--server", "127.0.0.1:\(port)"])
    }

    static func summary(_ run: ProgramRun) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], "\(run.output)")
    }

    static func counts(_ summary: [String: Any]) -> [Int] {
        ["documents", "imported", "duplicates", "rejected"].map { summary[$0] as? Int ?? -1 }
    }

    @Test("an export is imported once: summary, rejects file, history, and a re-run of all duplicates", arguments: [false, true])
    func importExport(asArray: Bool) async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("syncevents.json").path
        let rows = Self.documents.compactMap { $0 }
        let text = asArray ? "[\n" + rows.joined(separator: ",\n") + "\n]\n" : Self.documents.map { $0 ?? "" }.joined(separator: "\n") + "\n"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        try await TestApplication.with { server in
            let client = try await server.client()
            defer { client.close() }
            _ = try await client.recordSync(events: [
                .with { $0.deviceID = "pibook-001"; $0.timestamp = Self.seven; $0.totalFilesSynced = 1; $0.internetSpeed = 3 }
            ])

            let run = try await Self.pisync(["import", file, "--json"], port: server.port)
            #expect(run.status == 1, "some rows were rejected: \(run.output)")
            let summary = try Self.summary(run)
            #expect(Self.counts(summary) == [11, 4, 2, 5])
            #expect(summary["format"] as? String == (asArray ? "json_array" : "json_lines"))
            #expect(summary["rejects_file"] as? String == file + ".rejects.jsonl")

            let lines = try String(contentsOfFile: file + ".rejects.jsonl", encoding: .utf8).split(separator: "\n")
            let rejects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
                .sorted { ($0["line"] as? Int ?? 0) < ($1["line"] as? Int ?? 0) }
            #expect(rejects.count == Self.rejected.count)
            for (reject, expected) in zip(rejects, Self.rejected) {
                // JSON lines: the blank line after document 8 shifts the later ones by one.
                let line = asArray ? expected.document + 2 : expected.document + (expected.document >= 9 ? 2 : 1)
                #expect(reject["line"] as? Int == line)
                #expect(reject["index"] as? Int == (asArray ? expected.document : nil))
                #expect(reject["field"] as? String == expected.field)
                #expect(reject["message"] as? String == expected.message)
                #expect(reject["document"] as? String == rows[expected.document])
            }

            // Over the binary protocol: the first write of each (device, timestamp) won, and
            // the status is PiSync's own, from the counts.
            let book = try await client.history(deviceID: "pibook-001", limit: 100)
            #expect(book.events.map(\.timestamp) == [Self.seven + 2 * Self.hour, Self.seven + Self.hour, Self.seven])
            #expect(book.events.map(\.totalFilesSynced) == [4, 12, 1])
            #expect(book.events.map(\.syncStatus) == [.partial, .success, .success])
            let box = try await client.history(deviceID: "pibox-042", limit: 100)
            #expect(box.events.map(\.timestamp) == [Self.seven + 2 * Self.hour, Self.seven + Self.hour])
            #expect(box.events.map(\.syncStatus) == [.success, .failed] && box.events.map(\.internetSpeed) == [4.5, 0.5])

            let again = try await Self.pisync(["import", file], port: server.port)
            #expect(again.status == 1)
            #expect(again.output.contains("DOCUMENTS  IMPORTED  DUPLICATES  REJECTED"), "\(again.output)")
            #expect(again.output.contains("11         0         6           5"), "\(again.output)")
            let first = asArray ? "element 5 (line 7)" : "line 6"
            #expect(again.output.contains("rejected \(first) [internet_speed]: internet_speed is missing"), "\(again.output)")
            #expect(again.output.contains("5 rejected rows with the reason for each: \(file).rejects.jsonl"), "\(again.output)")
            #expect(try await client.history(deviceID: "pibook-001", limit: 100).events == book.events)
        }
    }

    @Test("a clean export exits 0 and leaves no rejects file; --progress draws the bar; --rejects moves the file")
    func cleanExport() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("clean.json").path
        let good = [0, 1, 2, 11].compactMap { Self.documents[$0] }
        try good.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        try "stale".write(toFile: file + ".rejects.jsonl", atomically: true, encoding: .utf8)
        try await TestApplication.with { server in
            let run = try await Self.pisync(["import", file, "--progress"], port: server.port)
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("100%") && run.output.contains("4 documents"), "the bar: \(run.output)")
            #expect(run.output.contains("4          4         0           0"), "\(run.output)")
            #expect(!FileManager.default.fileExists(atPath: file + ".rejects.jsonl"), "a stale rejects file is not left to mislead")
            let again = try await Self.pisync(["import", file, "--json"], port: server.port)
            #expect(again.status == 0 && !again.output.contains("%"), "no bar unless asked, stdout is JSON only: \(again.output)")
            #expect(Self.counts(try Self.summary(again)) == [4, 0, 4, 0])
            #expect(try Self.summary(again)["rejects_file"] as? String == "")

            let bad = directory.appendingPathComponent("bad.json").path
            try #"{"device_id":"pibook-001"}"#.write(toFile: bad, atomically: true, encoding: .utf8)
            let elsewhere = directory.appendingPathComponent("elsewhere.jsonl").path
            let moved = try await Self.pisync(["import", bad, "--rejects", elsewhere], port: server.port)
            #expect(moved.status == 1 && moved.output.contains("rejected line 1 [timestamp]: timestamp is missing"), "\(moved.output)")
            #expect(try String(contentsOfFile: elsewhere, encoding: .utf8).contains(#""field":"timestamp""#))
        }
    }

    @Test("an unreachable server exits 2 and leaves no rejects file; a missing file is refused before connecting")
    func unreachable() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("export.json").path
        try (Self.documents[0] ?? "").write(toFile: file, atomically: true, encoding: .utf8)
        let run = try await Self.pisync(["import", file], port: 1)
        #expect(run.status == 2 && run.output.contains("cannot connect to 127.0.0.1:1: connection refused"), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: file + ".rejects.jsonl"))
        let missing = try await Self.pisync(["import", directory.appendingPathComponent("none.json").path], port: 1)
        #expect(missing.status != 0 && missing.output.contains("none.json: No such file or directory"), "\(missing.output)")
        let same = try await Self.pisync(["import", file, "--rejects", file], port: 1)
        #expect(same.status != 0 && same.output.contains("--rejects names the input file"), "\(same.output)")
    }

    @Test("with a device token: its rows get through the burst and rate limits, another device's are rejected with the reason")
    func deviceToken() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("device.json").path
        let rows = (0..<30).map { (device: "pibook-7", minute: $0) } + [(device: "pibook-8", minute: 0), (device: "pibook-8", minute: 1)]
        try rows.map { row in
            #"{"device_id":"\#(row.device)","timestamp":{"$date":{"$numberLong":"\#(Self.seven + Int64(row.minute) * 60_000)"}},"total_files_synced":1,"total_errors":0,"internet_speed":1}"#
        }.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let token = directory.appendingPathComponent("pibook-7.token").path
        try AuthFixtures.token(device: "pibook-7").write(toFile: token, atomically: true, encoding: .utf8)
        try await TestServer.with({
            $0.authSecrets = AuthFixtures.secrets
            $0.deviceRate = 40
            $0.deviceBurst = 10
        }) { server in
            let bare = try await Self.pisync(["import", file], port: server.port)
            #expect(bare.status == 1 && bare.output.contains("UNAUTHENTICATED") && bare.output.contains("--token-file"), "\(bare.output)")
            #expect(!FileManager.default.fileExists(atPath: file + ".rejects.jsonl"))

            let run = try await Self.pisync(["import", file, "--token-file", token, "--json"], port: server.port)
            #expect(run.status == 1, "\(run.output)")
            #expect(Self.counts(try Self.summary(run)) == [32, 30, 0, 2], "30 rows in batches over the burst of 10, then rate-limited")
            let rejects = try String(contentsOfFile: file + ".rejects.jsonl", encoding: .utf8)
            #expect(rejects.contains(#""field":"device_id""#) && rejects.contains(#""line":31"#) && rejects.contains(#""line":32"#), "\(rejects)")
            #expect(rejects.contains("pibook-7"), "the server's reason names the token's device: \(rejects)")
            #expect(try server.store.history(of: "pibook-7", page: PageRequest(page: 1, limit: 100)).total == 30)
        }
    }
}
