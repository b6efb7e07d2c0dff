import PiSyncAdmin
import PiSyncPersistence
import PiSyncProtocol
import PiSyncStore
import Testing

@Suite("REST gateway: POST /api/sync-event", .timeLimit(.minutes(3)))
struct RESTRecordTests {
    /// The seed README's example event.
    static let example: JSONValue = [
        "device_id": "pibook-001", "timestamp": "2026-11-28T08:00:00.000Z", "total_files_synced": 12,
        "total_errors": 0, "internet_speed": .number(8.5),
    ]
    static let exampleMillis: Int64 = 1_795_852_800_000

    @Test("an event is recorded: 201, the stored event with its status, durable, visible over the binary protocol")
    func records() async throws {
        try await RESTTestServer.with { server in
            let answer = try await server.post(Self.example)
            #expect(answer.status == 201)
            #expect(answer.header("Content-Type")?.hasPrefix("application/json") == true)
            #expect(answer.text == #"{"message":"Sync event recorded","data":{"device_id":"pibook-001","timestamp":"2026-11-28T08:00:00.000Z","total_files_synced":12,"total_errors":0,"internet_speed":8.5,"sync_status":"success"}}"#)
            // Answered only once durable (--fsync always): everything appended is synced.
            #expect(server.application.log.durableSequence >= server.application.log.appendedSequence)
            let client = try await server.client()
            defer { client.close() }
            let history = try await client.history(deviceID: "pibook-001")
            #expect(history.total == 1)
            #expect(history.events.first?.timestamp == Self.exampleMillis)
            #expect(history.events.first?.totalFilesSynced == 12 && history.events.first?.syncStatus == .success)
        }
    }

    @Test("a retry is answered 200 with the first-stored event and duplicate: true; nothing changes")
    func duplicate() async throws {
        try await RESTTestServer.with { server in
            #expect(try await server.post(Self.example).status == 201)
            var retry = Self.example
            if case .object(var members) = retry {
                members = members.map { $0.key == "total_errors" ? ($0.key, 3) : $0 }
                retry = .object(members)
            }
            let answer = try await server.post(retry)
            #expect(answer.status == 200)
            #expect(answer.json?["duplicate"] == .bool(true))
            #expect(answer.json?["data"]?["total_errors"] == .number(0))
            #expect(answer.json?["data"]?["sync_status"] == .string("success"))
            let history = try server.application.store.history(of: "pibook-001", page: PageRequest(page: 1, limit: 10))
            #expect(history.total == 1 && history.events.first?.errors == 0)
        }
    }

    @Test(
        "timestamps: ISO 8601 with or without fractional seconds, with a zone offset, or Unix milliseconds",
        arguments: [
            (JSONValue.string("2026-11-28T09:00:00Z"), Int64(1_795_856_400_000), "partial"),
            (.string("2026-11-28T09:00:00.25Z"), 1_795_856_400_250, "partial"),
            (.string("2026-11-28T10:00:00.123456+01:00"), 1_795_856_400_123, "partial"),
            (.number(1_795_856_400_007), 1_795_856_400_007, "partial"),
        ])
    func timestamps(timestamp: JSONValue, millis: Int64, status: String) async throws {
        try await RESTTestServer.with { server in
            let answer = try await server.post([
                "device_id": "pibook-002", "timestamp": timestamp, "total_files_synced": 4, "total_errors": 1,
                "internet_speed": .number(2.2),
            ])
            #expect(answer.status == 201)
            #expect(answer.json?["data"]?["timestamp"] == .string(ISOTimestamp.format(millis)))
            #expect(answer.json?["data"]?["sync_status"] == .string(status))
            #expect(answer.json?["data"]?["internet_speed"] == .number(2.2))
            #expect(server.application.store.event(of: "pibook-002", at: millis)?.filesSynced == 4)
        }
    }

    @Test("a failed sync is stored as failed")
    func failedStatus() async throws {
        try await RESTTestServer.with { server in
            let answer = try await server.post([
                "device_id": "pibox-042", "timestamp": 1_795_856_400_000, "total_files_synced": 0, "total_errors": 5,
                "internet_speed": 0,
            ])
            #expect(answer.status == 201 && answer.json?["data"]?["sync_status"] == .string("failed"))
        }
    }

    @Test("over the device's rate limit: 429, Retry-After, field device_id, nothing stored")
    func rateLimited() async throws {
        try await RESTTestServer.with({ $0.deviceRate = 0.001; $0.deviceBurst = 1 }) { server in
            #expect(try await server.post(Self.example).status == 201)
            let answer = try await server.post([
                "device_id": "pibook-001", "timestamp": 1_795_856_400_000, "total_files_synced": 1, "total_errors": 0,
                "internet_speed": 1,
            ])
            #expect(answer.status == 429)
            #expect(answer.errorCode == "RESOURCE_EXHAUSTED" && answer.errorField == "device_id")
            #expect(answer.header("Retry-After").flatMap(Int.init).map { $0 >= 1 } == true)
            #expect(answer.errorMessage.contains("rate limit"))
            #expect(server.application.store.event(of: "pibook-001", at: 1_795_856_400_000) == nil)
        }
    }
}

@Suite("REST gateway: durability", .timeLimit(.minutes(3)))
struct RESTDurabilityTests {
    @Test("a POST is answered only once its event is durable (--fsync always), as a RecordSync is acknowledged")
    func answeredWhenDurable() async throws {
        try await RESTTestServer.with { server in
            server.files.holdSyncs()
            let syncsBefore = server.files.syncs
            let post = Task { try await server.post(RESTRecordTests.example) }
            // Stored in memory (and appended to the log) but not synced: no answer yet.
            let stored = ContinuousClock.now.advanced(by: .seconds(20))
            while server.application.store.event(of: "pibook-001", at: RESTRecordTests.exampleMillis) == nil,
                ContinuousClock.now < stored
            {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(server.application.log.durableSequence < server.application.log.appendedSequence)
            try await Task.sleep(for: .milliseconds(300))
            #expect(server.application.log.durableSequence < server.application.log.appendedSequence)
            server.files.releaseSyncs()
            let answer = try await post.value
            #expect(answer.status == 201)
            #expect(server.files.syncs > syncsBefore)
            #expect(server.application.log.durableSequence >= server.application.log.appendedSequence)
        }
    }

    @Test("under every --fsync policy a POST is answered once its record is durable by that policy's rule",
          arguments: [FsyncPolicy.always, .interval, .never])
    func everyPolicy(_ policy: FsyncPolicy) async throws {
        try await RESTTestServer.with({ $0.fsync = policy }) { server in
            let answer = try await server.post(RESTRecordTests.example)
            #expect(answer.status == 201)
            #expect(server.application.log.durableSequence >= server.application.log.appendedSequence)
            let history = try await server.request("GET", "/api/device/pibook-001/sync-history")
            #expect(history.json?["total"] == 1)
        }
    }

    @Test("a failing disk answers 503 UNAVAILABLE with Retry-After, and the gateway recovers with the disk")
    func diskFault() async throws {
        try await RESTTestServer.with { server in
            server.files.failWrites(28)  // ENOSPC
            let refused = try await server.post(RESTRecordTests.example)
            #expect(refused.status == 503, "\(refused.text)")
            #expect(refused.errorCode == "UNAVAILABLE" && refused.header("Retry-After") == "1")
            #expect(refused.errorMessage.contains("retry later"))
            server.files.failWrites(0)
            var answer = refused
            let deadline = ContinuousClock.now.advanced(by: .seconds(30))
            while answer.status == 503, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                answer = try await server.post(RESTRecordTests.example)
            }
            // The first attempt may have been kept in memory before the fault was known: its
            // retry is then a duplicate, durable now.
            #expect(answer.status == 201 || (answer.status == 200 && answer.json?["duplicate"] == true), "\(answer.text)")
        }
    }
}
