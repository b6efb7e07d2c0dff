import PiSyncClient
import PiSyncProtocol
import Testing

@Suite("Record, history and failures through the client", .timeLimit(.minutes(2)))
struct RecordAndQueryTests {
    static let base: Int64 = 1_764_000_000_000

    static func event(_ offset: Int, files: UInt32, errors: UInt32) -> Pisync_V1_SyncEvent {
        event("", offset, files: files, errors: errors)
    }

    static func event(_ device: String, _ offset: Int, files: UInt32, errors: UInt32) -> Pisync_V1_SyncEvent {
        .with {
            $0.deviceID = device
            $0.timestamp = base + Int64(offset)
            $0.totalFilesSynced = files
            $0.totalErrors = errors
            $0.internetSpeed = 4.5
        }
    }

    @Test("record, then read the history, then list the failures")
    func recordHistoryFailures() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            defer { client.close() }
            // pibook-1: 5 failures then a partial; pibox-2: 4 failures; pibook-3: one failure.
            let first = try await client.recordSync(
                deviceID: "pibook-1",
                events: (0..<5).map { Self.event($0 * 1000, files: 0, errors: 1) } + [Self.event(9000, files: 3, errors: 1)])
            #expect(first.accepted == 6 && first.duplicates == 0 && first.rejected.isEmpty)
            _ = try await client.recordSync(events: (0..<4).map { Self.event("pibox-2", $0 * 1000, files: 0, errors: 2) })
            _ = try await client.recordSync(events: [Self.event("pibook-3", 0, files: 0, errors: 1)])

            let history = try await client.history(deviceID: "pibook-1", limit: 4)
            #expect(history.total == 6 && history.page == 1 && history.limit == 4)
            #expect(history.events.map(\.timestamp) == [9000, 4000, 3000, 2000].map { Self.base + $0 })
            #expect(history.events.first?.syncStatus == .partial)
            #expect(history.events.dropFirst().allSatisfy { $0.syncStatus == .failed && $0.deviceID == "pibook-1" })

            let failures = try await client.failures()
            #expect(failures.threshold == 3 && failures.total == 2)
            #expect(failures.devices.map(\.deviceID) == ["pibook-1", "pibox-2"])
            let pibook = try #require(failures.devices.first)
            #expect(pibook.failedSyncs == 5 && pibook.totalSyncs == 6 && pibook.consecutiveFailures == 0)
            #expect(pibook.lastFailureTimestamp == Self.base + 4000 && pibook.lastSuccessTimestamp == 0)
            #expect(failures.devices.last?.consecutiveFailures == 4)
            #expect(try await client.failures(threshold: 4).devices.map(\.deviceID) == ["pibook-1"])
        }
    }

    @Test("a retried batch is acknowledged as duplicates and stored once")
    func retriesAreIdempotent() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            defer { client.close() }
            let batch = (0..<3).map { Self.event($0, files: 1, errors: 0) }
            #expect(try await client.recordSync(deviceID: "pibook-9", events: batch).accepted == 3)
            let retry = try await client.recordSync(deviceID: "pibook-9", events: batch + [Self.event(99, files: 1, errors: 0)])
            #expect(retry.accepted == 1 && retry.duplicates == 3)
            #expect(try await client.history(deviceID: "pibook-9").total == 4)
        }
    }

    @Test("a partly invalid batch stores the valid events and reports the others by index")
    func partialRejection() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            defer { client.close() }
            var badSpeed = Self.event(1, files: 1, errors: 0)
            badSpeed.internetSpeed = -1
            let result = try await client.recordSync(
                deviceID: "pibook-4",
                events: [Self.event(0, files: 1, errors: 0), badSpeed, Self.event("pibox-5", 2, files: 1, errors: 0)])
            #expect(result.accepted == 1)
            #expect(result.rejected.map(\.index) == [1, 2])
            #expect(result.rejected.map(\.field) == ["internet_speed", "device_id"])
            #expect(result.rejected.allSatisfy { $0.code == StatusCode.invalidArgument.rawValue })
        }
    }

    @Test("an all-invalid request is INVALID_ARGUMENT naming the field")
    func allInvalid() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            defer { client.close() }
            let error = await #expect(throws: PiSyncError.self) {
                try await client.recordSync(events: [Self.event("pibook-1", -Int(Self.base), files: 1, errors: 0)])
            }
            #expect(error?.status == .invalidArgument && error?.field == "timestamp")
            let empty = await #expect(throws: PiSyncError.self) { try await client.recordSync(events: []) }
            #expect(empty?.field == "events")
        }
    }

    @Test("an unknown device is NOT_FOUND and a limit over 100 is refused")
    func historyErrors() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            defer { client.close() }
            let missing = await #expect(throws: PiSyncError.self) { try await client.history(deviceID: "ghost") }
            #expect(missing?.status == .notFound && missing?.field == "device_id")
            _ = try await client.recordSync(events: [Self.event("pibook-1", 0, files: 1, errors: 0)])
            let tooMany = await #expect(throws: PiSyncError.self) { try await client.history(deviceID: "pibook-1", limit: 101) }
            #expect(tooMany?.status == .invalidArgument && tooMany?.field == "limit")
            #expect(try await client.history(deviceID: "pibook-1", page: 5).events.isEmpty)
        }
    }

    @Test("a batch over the configured maximum is refused whole; Ping tells the limits")
    func batchLimit() async throws {
        try await TestServer.with({ $0.maxBatchSize = 5; $0.maxFrameSize = 4096 }) { server in
            let client = try await server.client()
            defer { client.close() }
            let pong = try await client.ping()
            #expect(pong.maxBatchSize == 5 && pong.maxFrameSize == 4096)
            let error = await #expect(throws: PiSyncError.self) {
                try await client.recordSync(deviceID: "pibook-1", events: (0..<6).map { Self.event($0, files: 1, errors: 0) })
            }
            #expect(error?.field == "events")
            #expect(try await client.recordSync(deviceID: "pibook-1", events: (0..<5).map { Self.event($0, files: 1, errors: 0) }).accepted == 5)
        }
    }

    @Test("many concurrent calls pipelined on one connection each get their own answer")
    func pipelining() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            defer { client.close() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let device = "pibox-\(index)"
                        _ = try await client.recordSync(events: [Self.event(device, index, files: 1, errors: 0)])
                        let history = try await client.history(deviceID: device)
                        #expect(history.events.map(\.timestamp) == [Self.base + Int64(index)])
                    }
                }
                try await group.waitForAll()
            }
            let pong = try await client.ping()
            #expect(!pong.version.isEmpty)
        }
    }
}
