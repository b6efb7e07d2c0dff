import Foundation
import PiSyncClient
import Synchronization
import PiSyncProtocol
import Testing
import PiSyncTestSupport

/// The traps of acknowledging through a write-ahead log under `--fsync always`, each shown by
/// holding the log's fdatasync so a record stays not-yet-durable for as long as the test needs.
@Suite("Durability traps", .serialized, .timeLimit(.minutes(1)))
struct DurabilityTrapTests {
    static let base: Int64 = 1_764_000_000_000

    static func event(_ device: String, _ offset: Int64, failed: Bool = false) -> Pisync_V1_SyncEvent {
        .with {
            $0.deviceID = device
            $0.timestamp = base + offset
            $0.totalFilesSynced = failed ? 0 : 3
            $0.totalErrors = failed ? 2 : 0
            $0.internetSpeed = 4
        }
    }

    /// Whether `task` finishes within `time` (without waiting for it beyond that).
    static func finishes<T: Sendable>(_ task: Task<T, any Error>, within time: Duration) async -> Bool {
        let finished = Mutex(false)
        Task {
            _ = try? await task.value
            finished.withLock { $0 = true }
        }
        try? await Task.sleep(for: time)
        return finished.withLock { $0 }
    }

    @Test("a retry is not answered 'duplicate' before the first copy is durable")
    func duplicateWaitsForTheFirstCopy() async throws {
        try await TestApplication.with { app in
            let first = try await app.client()
            let retry = try await app.client()
            defer { first.close(); retry.close() }
            app.files.holdSyncs()
            let original = Task { try await first.recordSync(events: [Self.event("pibook-dup", 1)]) }
            // The first copy is in the store (and the log's buffer) once its shard has it.
            #expect(await eventually { app.application.store.summary(of: "pibook-dup") != nil })
            let duplicate = Task { try await retry.recordSync(events: [Self.event("pibook-dup", 1)]) }
            #expect(await !Self.finishes(duplicate, within: .milliseconds(300)), "answered before the record was durable")
            #expect(await !Self.finishes(original, within: .milliseconds(10)))
            app.files.releaseSyncs()
            #expect(try await original.value.accepted == 1)
            #expect(try await duplicate.value.duplicates == 1)
        }
    }

    @Test("an alert reaches subscribers only once the failures that raised it are durable")
    func alertWaitsForItsFailures() async throws {
        try await TestApplication.with { app in
            let watcher = try await app.client()
            let recorder = try await app.client()
            defer { watcher.close(); recorder.close() }
            let alerts = try await watcher.subscribeFailureAlerts()
            app.files.holdSyncs()
            let record = Task {
                try await recorder.recordSync(events: (1...3).map { Self.event("pibox-alert", $0, failed: true) })
            }
            #expect(await eventually { app.application.store.summary(of: "pibox-alert")?.consecutiveFailures == 3 })
            let next = Task { () -> Pisync_V1_FailureAlert? in
                for try await alert in alerts { return alert }
                return nil
            }
            #expect(await !Self.finishes(next, within: .milliseconds(300)), "alert published before its failures were durable")
            app.files.releaseSyncs()
            #expect(try await next.value?.deviceID == "pibox-alert")
            #expect(try await record.value.accepted == 3)
        }
    }

    @Test("GetHistory does not show an event that is not yet durable")
    func readsWaitForDurability() async throws {
        try await TestApplication.with { app in
            let writer = try await app.client()
            let reader = try await app.client()
            defer { writer.close(); reader.close() }
            _ = try await writer.recordSync(events: [Self.event("pibook-read", 1)])
            app.files.holdSyncs()
            let record = Task { try await writer.recordSync(events: [Self.event("pibook-read", 2)]) }
            #expect(await eventually { app.application.store.summary(of: "pibook-read")?.totalSyncs == 2 })
            let read = Task { try await reader.history(deviceID: "pibook-read") }
            #expect(await !Self.finishes(read, within: .milliseconds(300)), "a read showed an event that is not durable")
            app.files.releaseSyncs()
            #expect(try await read.value.total == 2)
            #expect(try await record.value.accepted == 1)
        }
    }

    @Test("responses on one connection go out in request order while the log holds the first")
    func responsesKeepRequestOrder() async throws {
        try await TestApplication.with { app in
            let raw = try await RawConnection.connect(port: app.port)
            app.files.holdSyncs()
            try await raw.send(.with { $0.id = 1; $0.recordSync = .with { $0.events = [Self.event("pibook-order", 1)] } })
            try await raw.send(.with { $0.id = 2; $0.ping = .init() })
            try await raw.send(.with { $0.id = 3; $0.getHistory = .with { $0.deviceID = "nobody" } })
            try await Task.sleep(for: .milliseconds(200))
            app.files.releaseSyncs()
            var ids: [UInt64] = []
            for _ in 0..<3 {
                guard let response = try await raw.next() else { break }
                ids.append(response.id)
            }
            #expect(ids == [1, 2, 3])
            await raw.close()
        }
    }

    @Test("thousands of pipelined requests on several connections are all answered, in order", arguments: ["always", "never"])
    func pipelinedUnderLoad(policy: String) async throws {
        try await TestApplication.with({ $0.fsync = policy == "always" ? .always : .never }) { app in
            try await withThrowingTaskGroup(of: [UInt64].self) { group in
                for connection in 0..<4 {
                    group.addTask {
                        let raw = try await RawConnection.connect(port: app.port)
                        for index in 1...2000 {
                            let request = Pisync_V1_Request.with {
                                $0.id = UInt64(index)
                                if index % 10 == 0 {
                                    $0.ping = .init()
                                } else {
                                    $0.recordSync = .with { $0.events = [Self.event("pipe-\(connection)", Int64(index))] }
                                }
                            }
                            try await raw.send(request)
                        }
                        var ids: [UInt64] = []
                        while ids.count < 2000, let response = try await raw.next() { ids.append(response.id) }
                        await raw.close()
                        return ids
                    }
                }
                for try await ids in group {
                    #expect(ids == Array(1...2000), "responses missing or out of order")
                }
            }
            #expect(app.application.store.summary(of: "pipe-3")?.totalSyncs == 1800)
        }
    }

    // Regression (review): a subscription whose confirmation waited behind a RecordSync was
    // added to the bus after its connection had closed, and stayed there.
    @Test("a subscription whose connection closes while its confirmation waits never joins the bus")
    func closedBeforeConfirmation() async throws {
        try await TestApplication.with { app in
            let raw = try await RawConnection.connect(port: app.port)
            app.files.holdSyncs()
            try await raw.send(.with { $0.id = 1; $0.recordSync = .with { $0.events = [Self.event("pibook-sub", 1)] } })
            try await raw.send(.with { $0.id = 2; $0.subscribeFailureAlerts = .init() })
            #expect(await eventually { app.application.store.summary(of: "pibook-sub") != nil })
            await raw.close()
            #expect(await eventually { app.application.server.connectionCount == 0 })
            app.files.releaseSyncs()
            try await Task.sleep(for: .milliseconds(200))
            #expect(app.application.bus.subscriberCount == 0)
        }
    }
}
