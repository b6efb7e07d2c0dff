import Foundation
import Testing

/// The `pisync` CLI as an operator runs it, against a real server.
@Suite("pisync CLI", .timeLimit(.minutes(2)))
struct CLITests {
    static func pisync(_ arguments: [String], port: Int) async throws -> ProgramRun {
        try await ProgramRun.run(ServeProcess.executable, arguments + ["--server", "127.0.0.1:\(port)"])
    }

    // Regression: `--speed -3` used to be refused by the argument parser as a missing value,
    // so the operator never saw the server's field error.
    @Test("errors print the server's code, field and message and exit 1; negative values reach the server")
    func serverErrors() async throws {
        try await TestServer.with { server in
            let speed = try await Self.pisync(["record", "--device", "pibook-1", "--files", "1", "--errors", "0", "--speed", "-3"], port: server.port)
            #expect(speed.status == 1)
            #expect(speed.output.contains("INVALID_ARGUMENT (3) [internet_speed]"), "\(speed.output)")
            let old = try await Self.pisync(["record", "--device", "pibook-1", "--files", "1", "--errors", "0", "--speed", "2", "--timestamp", "-5"], port: server.port)
            #expect(old.status == 1 && old.output.contains("[timestamp]"), "\(old.output)")
            let limit = try await Self.pisync(["history", "pibook-1", "--limit", "101"], port: server.port)
            #expect(limit.status == 1 && limit.output.contains("[limit]"), "\(limit.output)")
        }
    }

    @Test("record, then history and failures as JSON")
    func recordAndRead() async throws {
        try await TestServer.with { server in
            for second in 1...4 {
                let run = try await Self.pisync(
                    ["record", "--device", "pibox-9", "--files", "0", "--errors", "2", "--speed", "0.5",
                     "--timestamp", "2026-11-28T10:00:0\(second)Z"], port: server.port)
                #expect(run.status == 0, "\(run.output)")
            }
            let history = try await Self.pisync(["history", "pibox-9", "--limit", "2", "--json"], port: server.port)
            let page = try JSONSerialization.jsonObject(with: Data(history.output.utf8)) as? [String: Any]
            #expect((page?["total"] as? Int) == 4)
            let events = page?["events"] as? [[String: Any]] ?? []
            #expect(events.compactMap { $0["timestamp"] as? Int64 } == [1_795_860_004_000, 1_795_860_003_000])
            let failures = try await Self.pisync(["failures", "--json"], port: server.port)
            #expect(failures.output.contains("\"device_id\":\"pibox-9\""), "\(failures.output)")
        }
    }

    // Regression: the table printed 10:00:00.122Z for an event recorded at 10:00:00.123Z
    // (milliseconds went through a Double and were truncated).
    @Test("a timestamp with milliseconds is stored and shown exactly")
    func millisecondsRoundTrip() async throws {
        try await TestServer.with { server in
            let record = try await Self.pisync(
                ["record", "--device", "pibook-ms", "--files", "1", "--errors", "0", "--speed", "1",
                 "--timestamp", "2026-11-28T10:00:00.123Z"], port: server.port)
            #expect(record.status == 0 && record.output.contains("2026-11-28T10:00:00.123Z"), "\(record.output)")
            #expect(try await server.client().history(deviceID: "pibook-ms").events.first?.timestamp == 1_795_860_000_123)
            let table = try await Self.pisync(["history", "pibook-ms"], port: server.port)
            #expect(table.output.contains("2026-11-28T10:00:00.123Z"), "\(table.output)")
        }
    }

    // Regression: proto3 JSON left zero fields out, so a script reading `duplicates`, an empty
    // `devices` list or a success's `total_errors` found no key at all.
    @Test("--json output carries every field, zeros and empty lists included")
    func jsonHasEveryField() async throws {
        try await TestServer.with { server in
            func json(_ arguments: [String]) async throws -> [String: Any] {
                let run = try await Self.pisync(arguments + ["--json"], port: server.port)
                #expect(run.status == 0, "\(run.output)")
                return try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
            }
            let record = try await json(["record", "--device", "pibook-j", "--files", "3", "--errors", "0", "--speed", "0",
                                         "--timestamp", "1795860000000"])
            #expect(record["accepted"] as? Int == 1 && record["duplicates"] as? Int == 0)
            #expect((record["rejected"] as? [Any])?.isEmpty == true)
            let history = try await json(["history", "pibook-j"])
            let event = try #require((history["events"] as? [[String: Any]])?.first)
            #expect(Set(event.keys) == ["device_id", "timestamp", "total_files_synced", "total_errors", "internet_speed", "sync_status"])
            #expect(event["total_errors"] as? Int == 0 && event["sync_status"] as? String == "SYNC_STATUS_SUCCESS")
            let pastEnd = try await json(["history", "pibook-j", "--page", "5"])
            #expect((pastEnd["events"] as? [Any])?.isEmpty == true && pastEnd["total"] as? Int == 1)
            let failures = try await json(["failures"])
            #expect((failures["devices"] as? [Any])?.isEmpty == true && failures["total"] as? Int == 0)
            #expect(failures["threshold"] as? Int == 3 && failures["page"] as? Int == 1 && failures["limit"] as? Int == 10)
        }
    }

    @Test("the server address comes from --server, else PISYNC_SERVER, else ./.env")
    func serverAddressFromDotEnv() async throws {
        try await TestServer.with { server in
            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            try "PISYNC_SERVER=127.0.0.1:\(server.port)\n".write(
                to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
            let fromFile = try await ProgramRun.run(ServeProcess.executable, ["ping"], in: directory)
            #expect(fromFile.status == 0 && fromFile.output.contains("pisync"), "\(fromFile.output)")
            let flagWins = try await ProgramRun.run(ServeProcess.executable, ["ping", "--server", "127.0.0.1:1"], in: directory)
            #expect(flagWins.status == 2, "\(flagWins.output)")
            // A .env written for other tools does not break a command that names its server.
            try "PISYNC_SERVER=127.0.0.1:\(server.port)\nsome other tool's line\n".write(
                to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
            let withFlag = try await ProgramRun.run(ServeProcess.executable, ["ping", "--server", "127.0.0.1:\(server.port)"], in: directory)
            #expect(withFlag.status == 0, "\(withFlag.output)")
        }
    }

    // Issue 9: `pisync ping` with no server printed NIO's internals (SingleConnectionFailure,
    // "connection reset (error set)").
    @Test("an unreachable server exits 2 with what a person needs: refused, or a name that does not resolve")
    func unreachable() async throws {
        let run = try await Self.pisync(["ping"], port: 1)
        #expect(run.status == 2, "\(run.output)")
        #expect(
            run.output.contains(
                "cannot connect to 127.0.0.1:1: connection refused (is pisync serve running? set --server or PISYNC_SERVER)"),
            "\(run.output)")
        #expect(!run.output.contains("SingleConnectionFailure"))
        let unknown = try await ProgramRun.run(ServeProcess.executable, ["ping", "--server", "no-such-host.invalid:7878"])
        #expect(unknown.status == 2 && unknown.output.contains("cannot resolve host 'no-such-host.invalid'"), "\(unknown.output)")
        #expect(unknown.output.contains("set --server or PISYNC_SERVER"))
    }

    @Test("watch --from replays the alerts after the given one, then ends with the server")
    func watchFrom() async throws {
        let watcher: Task<ProgramRun, any Error> = try await TestServer.with({ $0.alertThreshold = 1 }) { server in
            for device in 1...3 {
                _ = try await Self.pisync(
                    ["record", "--device", "pibox-\(device)", "--files", "0", "--errors", "1", "--speed", "1"], port: server.port)
            }
            let port = server.port
            let watcher = Task { try await Self.pisync(["watch", "--from", "1"], port: port) }
            #expect(await eventually(timeout: .seconds(20)) { server.bus.subscriberCount == 1 })
            return watcher
        }
        let run = try await watcher.value
        #expect(run.output.contains("replaying the alerts after #1 up to #3"), "\(run.output)")
        #expect(run.output.contains("alert #2: pibox-2") && run.output.contains("alert #3: pibox-3"), "\(run.output)")
        #expect(!run.output.contains("alert #1:"))
        #expect(run.output.contains("UNAVAILABLE"), "the stream ends when the server shuts down")
    }

    @Test("one event and one device are counted in the singular")
    func singular() async throws {
        try await TestServer.with { server in
            for second in 1...4 {
                _ = try await Self.pisync(
                    ["record", "--device", "pibox-1", "--files", "0", "--errors", "1", "--speed", "1",
                     "--timestamp", "\(Int64(Date().timeIntervalSince1970 * 1000) - Int64(second) * 1000)"],
                    port: server.port)
            }
            _ = try await Self.pisync(["record", "--device", "pibook-2", "--files", "1", "--errors", "0", "--speed", "1"], port: server.port)
            let history = try await Self.pisync(["history", "pibook-2"], port: server.port)
            #expect(history.output.contains(", 1 event\n"), "\(history.output)")
            let failures = try await Self.pisync(["failures"], port: server.port)
            #expect(failures.output.contains("1 device with more than 3 failed syncs"), "\(failures.output)")
        }
    }
}
