import PiSyncClient
import PiSyncProtocol
@testable import pisync
import Synchronization
import Testing

/// How `pisync import` sends a device's batch: retries what the protocol says to retry, and
/// gets every rejected row its own reason.
@Suite("pisync import: sending batches")
struct BatchSenderTests {
    static func batch(speeds: [Float]) -> DeviceBatch {
        DeviceBatch(deviceID: "pibook-1", rows: speeds.enumerated().map { index, speed in
            ImportRow(
                position: .line(index + 1),
                event: .with { $0.timestamp = 1_795_852_800_000 + Int64(index); $0.internetSpeed = speed },
                document: Array("row \(index + 1)".utf8))
        })
    }

    /// A stand-in for the server's RecordSync rule: a negative speed is invalid, and a batch
    /// whose every event is invalid fails as a whole naming only the first.
    static func judge(_ events: [Pisync_V1_SyncEvent]) throws -> Pisync_V1_RecordSyncResponse {
        let rejected = events.indices.filter { events[$0].internetSpeed < 0 }
        if rejected.count == events.count {
            let message = "internet_speed must be a finite number >= 0 Mbps, got \(events[0].internetSpeed)"
            throw PiSyncError(
                code: 3, message: events.count == 1 ? "event 0: \(message)" : "all \(events.count) events rejected; event 0: \(message)",
                field: "internet_speed")
        }
        return .with {
            $0.accepted = UInt32(events.count - rejected.count)
            $0.rejected = rejected.map { index in
                .with { $0.index = UInt32(index); $0.code = 3; $0.field = "internet_speed"; $0.message = "got \(events[index].internetSpeed)" }
            }
        }
    }

    @Test("a batch whose every event is invalid is split until each row has its own reason")
    func everyEventInvalid() async throws {
        let calls = Mutex(0)
        let sender = BatchSender { _, events in
            calls.withLock { $0 += 1 }
            return try Self.judge(events)
        }
        let outcome = try await sender.send(Self.batch(speeds: [-1, -2, -3]))
        #expect(outcome.accepted == 0)
        #expect(outcome.rejections.map(\.position) == [.line(1), .line(2), .line(3)])
        #expect(outcome.rejections.map(\.field) == ["internet_speed", "internet_speed", "internet_speed"])
        #expect(outcome.rejections.map(\.message) == [-1, -2, -3].map { "internet_speed must be a finite number >= 0 Mbps, got \(Float($0))" })
        #expect(outcome.rejections.map { String(decoding: $0.document, as: UTF8.self) } == ["row 1", "row 2", "row 3"])
        let mixed = try await sender.send(Self.batch(speeds: [1, -2, 3]))
        #expect(mixed.accepted == 2 && mixed.rejections.map(\.position) == [.line(2)] && mixed.rejections[0].message == "got -2.0")
        #expect(calls.withLock { $0 } == 5 + 1)
    }

    @Test("RESOURCE_EXHAUSTED waits retry_after_ms and resends; nothing is lost or counted twice")
    func rateLimited() async throws {
        let calls = Mutex(0)
        let sender = BatchSender { _, events in
            let call = calls.withLock { $0 += 1; return $0 }
            if call <= 2 { throw PiSyncError(code: 8, message: "over the rate", field: "device_id", retryAfterMillis: 40) }
            return try Self.judge(events)
        }
        let start = ContinuousClock.now
        let outcome = try await sender.send(Self.batch(speeds: [1, 2]))
        #expect(ContinuousClock.now - start >= .milliseconds(80))
        #expect(outcome.accepted == 2 && outcome.rejections.isEmpty && calls.withLock { $0 } == 3)
    }

    @Test("a batch over the server's limit is sent in halves")
    func tooLarge() async throws {
        let sender = BatchSender { _, events in
            if events.count > 2 { throw PiSyncError(code: 3, message: "\(events.count) events exceed the limit of 2", field: "events") }
            return try Self.judge(events)
        }
        let outcome = try await sender.send(Self.batch(speeds: [1, 2, 3, 4, 5]))
        #expect(outcome.accepted == 5 && outcome.rejections.isEmpty)
    }

    @Test("PERMISSION_DENIED rejects the device's rows with the server's reason")
    func permissionDenied() async throws {
        let sender = BatchSender { _, _ in
            throw PiSyncError(code: 7, message: "this connection's token is for 'pibook-2'", field: "device_id")
        }
        let outcome = try await sender.send(Self.batch(speeds: [1, 2]))
        #expect(outcome.rejections.map(\.field) == ["device_id", "device_id"])
        #expect(outcome.rejections.allSatisfy { $0.message == "this connection's token is for 'pibook-2'" })
    }

    @Test("UNAVAILABLE is retried with backoff, then ends the import")
    func unavailable() async throws {
        let calls = Mutex(0)
        var sender = BatchSender { _, events in
            let call = calls.withLock { $0 += 1; return $0 }
            if call == 1 { throw PiSyncError(code: 14, message: "disk failing") }
            return try Self.judge(events)
        }
        sender.backoff = .milliseconds(1)
        #expect(try await sender.send(Self.batch(speeds: [1])).accepted == 1)
        var failing = BatchSender { _, _ in throw PiSyncError(code: 14, message: "disk failing") }
        failing.backoff = .milliseconds(1)
        failing.maxRetries = 3
        await #expect(throws: PiSyncError(code: 14, message: "disk failing")) { try await failing.send(Self.batch(speeds: [1])) }
        let unauthenticated = BatchSender { _, _ in throw PiSyncError(code: 16, message: "authenticate first") }
        await #expect(throws: PiSyncError(code: 16, message: "authenticate first")) { try await unauthenticated.send(Self.batch(speeds: [1])) }
    }

    @Test("rows are batched per device, and the rows held are bounded")
    func batcher() {
        var batcher = DeviceBatcher(batchSize: 2, maxPending: 3)
        let row = Self.batch(speeds: [1]).rows[0]
        #expect(batcher.add(row, deviceID: "a").isEmpty)
        #expect(batcher.add(row, deviceID: "b").isEmpty)
        #expect(batcher.add(row, deviceID: "a").map(\.deviceID) == ["a"])
        #expect(batcher.add(row, deviceID: "c").isEmpty)
        let drained = batcher.add(row, deviceID: "d")
        #expect(drained.map(\.deviceID) == ["b", "c", "d"] && drained.allSatisfy { $0.rows.count == 1 })
        #expect(batcher.drain().isEmpty)
    }

    @Test("the progress line shows the share of bytes read and an ETA")
    func progressLine() {
        let line = ImportProgress.line(bytes: 2_500_000, total: 10_000_000, documents: 12_345, elapsed: .seconds(5))
        #expect(line == "[######------------------]  25%  2.5/10.0 MB  12345 documents  ETA 0:15")
        #expect(ImportProgress.line(bytes: 0, total: 10, documents: 0, elapsed: .zero).hasSuffix("ETA --:--"))
        #expect(ImportProgress.line(bytes: 3_000_000, total: nil, documents: 1, elapsed: .seconds(61)) == "3.0 MB  1 document  1:01")
        #expect(ImportProgress.clock(3725) == "1:02:05")
    }
}
