import PiSyncAdmin
import PiSyncProtocol
import PiSyncStore
import Testing

@Suite("REST gateway: history and repeated failures", .timeLimit(.minutes(3)))
struct RESTQueryTests {
    static let base: Int64 = 1_795_852_800_000  // 2026-11-28T08:00:00Z

    static func event(_ device: String, _ hour: Int, files: UInt32 = 5, errors: UInt32 = 0) -> SyncEvent {
        SyncEvent(deviceID: device, timestamp: base + Int64(hour) * 3_600_000, filesSynced: files, errors: errors, internetSpeed: 3.5)
    }

    /// Stores `events` directly (the same store the gateway reads).
    static func store(_ events: [SyncEvent], in server: RESTTestServer) {
        let outcome = server.application.store.record(events, now: base + 1_000 * 3_600_000)
        #expect(outcome.accepted == events.count)
    }

    static func timestamps(_ answer: RESTTestServer.Answer) -> [String] {
        guard case .array(let events) = answer.json?["events"] else { return [] }
        return events.compactMap { if case .string(let t) = $0["timestamp"] { t } else { nil } }
    }

    @Test("history pages newest first with page, limit and total; defaults page 1, limit 10")
    func historyPaging() async throws {
        try await RESTTestServer.with { server in
            Self.store((0..<25).map { Self.event("pibook-001", $0) }, in: server)
            let first = try await server.request("GET", "/api/device/pibook-001/sync-history")
            #expect(first.status == 200)
            #expect(first.json?["device_id"] == "pibook-001" && first.json?["page"] == 1)
            #expect(first.json?["limit"] == 10 && first.json?["total"] == 25)
            #expect(Self.timestamps(first) == (15..<25).reversed().map { ISOTimestamp.format(Self.base + Int64($0) * 3_600_000) })
            let third = try await server.request("GET", "/api/device/pibook-001/sync-history?page=3&limit=10")
            #expect(Self.timestamps(third) == (0..<5).reversed().map { ISOTimestamp.format(Self.base + Int64($0) * 3_600_000) })
            let beyond = try await server.request("GET", "/api/device/pibook-001/sync-history?page=4")
            #expect(beyond.status == 200 && Self.timestamps(beyond).isEmpty && beyond.json?["total"] == 25)
            let one = try await server.request("GET", "/api/device/pibook-001/sync-history?limit=1&page=2")
            #expect(one.json?["events"] == [[
                "device_id": "pibook-001", "timestamp": "2026-11-29T07:00:00.000Z", "total_files_synced": 5,
                "total_errors": 0, "internet_speed": .number(3.5), "sync_status": "success",
            ]])
        }
    }

    @Test(
        "a bad history query names its field",
        arguments: [
            ("/api/device/pibook-001/sync-history?limit=101", 400, "limit", "limit must be between 1 and 100, got 101"),
            ("/api/device/pibook-001/sync-history?limit=0", 400, "limit", "limit must be between 1 and 100, got 0"),
            ("/api/device/pibook-001/sync-history?page=0", 400, "page", "page must be a whole number >= 1, got 0"),
            ("/api/device/pibook-001/sync-history?page=abc", 400, "page", "page must be a whole number >= 1, got 'abc'"),
            ("/api/device/pibook-001/sync-history?page=-1", 400, "page", "got '-1'"),
            ("/api/device/pibook-001/sync-history?page=99999999999", 400, "page", "page must be at most 4294967295"),
            ("/api/device/pibook-001/sync-history?page=1&page=2", 400, "page", "given more than once"),
            ("/api/device/pibook-001/sync-history?pgae=2", 400, "pgae", "unknown query parameter 'pgae'"),
            ("/api/device/pibook-001/sync-history?threshold=2", 400, "threshold", "this route takes 'page', 'limit'"),
            ("/api/device/pibook-404/sync-history", 404, "device_id", "no syncs recorded for device 'pibook-404'"),
            ("/api/device/bad%20id/sync-history", 400, "device_id", "device_id may contain only"),
        ])
    func badHistoryQuery(path: String, status: Int, field: String, message: String) async throws {
        try await RESTTestServer.with { server in
            Self.store([Self.event("pibook-001", 0)], in: server)
            let answer = try await server.request("GET", path)
            #expect(answer.status == status, "\(answer.text)")
            #expect(answer.errorField == field, "\(answer.text)")
            #expect(answer.errorMessage.contains(message), "\(answer.text)")
            #expect(answer.errorCode == (status == 404 ? "NOT_FOUND" : "INVALID_ARGUMENT"))
        }
    }

    @Test("repeated failures: devices with more than 3 failed syncs, most first, their counts; threshold and paging")
    func repeatedFailures() async throws {
        try await RESTTestServer.with { server in
            Self.store((0..<4).map { Self.event("pibox-a", $0, files: 0, errors: 1) }, in: server)
            Self.store((0..<3).map { Self.event("pibox-b", $0, files: 0, errors: 1) }, in: server)
            Self.store((0..<5).map { Self.event("pibox-c", $0, files: 0, errors: 2) } + [Self.event("pibox-c", 9)], in: server)
            let all = try await server.request("GET", "/api/devices/repeated-failures")
            #expect(all.status == 200)
            #expect(all.text == #"{"threshold":3,"page":1,"limit":10,"total":2,"devices":[{"device_id":"pibox-c","failed_syncs":5,"total_syncs":6,"consecutive_failures":0,"last_failure_timestamp":"2026-11-28T12:00:00.000Z","last_success_timestamp":"2026-11-28T17:00:00.000Z"},{"device_id":"pibox-a","failed_syncs":4,"total_syncs":4,"consecutive_failures":4,"last_failure_timestamp":"2026-11-28T11:00:00.000Z","last_success_timestamp":null}]}"#)
            let over4 = try await server.request("GET", "/api/devices/repeated-failures?threshold=4")
            #expect(over4.json?["total"] == 1 && over4.json?["devices"]?.deviceIDs == ["pibox-c"])
            let over2 = try await server.request("GET", "/api/devices/repeated-failures?threshold=2&limit=2&page=2")
            #expect(over2.json?["total"] == 3 && over2.json?["devices"]?.deviceIDs == ["pibox-b"])
            for (query, field) in [("threshold=0", "threshold"), ("threshold=x", "threshold"), ("limit=500", "limit"), ("device=a", "device")] {
                let answer = try await server.request("GET", "/api/devices/repeated-failures?\(query)")
                #expect(answer.status == 400 && answer.errorField == field, "\(query): \(answer.text)")
            }
        }
    }
}

extension JSONValue {
    /// The `device_id`s of an array of devices.
    var deviceIDs: [String] {
        guard case .array(let devices) = self else { return [] }
        return devices.compactMap { if case .string(let id) = $0["device_id"] { id } else { nil } }
    }
}
