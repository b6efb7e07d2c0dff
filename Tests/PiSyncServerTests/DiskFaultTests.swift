import Foundation
import PiSyncClient
import PiSyncProtocol
import Testing
import PiSyncTestSupport

/// A disk that fills up or fails under a running server: writes are refused with UNAVAILABLE
/// and never acknowledged, reads and pings go on, and writes come back without a restart.
@Suite("Disk faults", .serialized, .timeLimit(.minutes(1)))
struct DiskFaultTests {
    static func event(_ offset: Int64) -> Pisync_V1_SyncEvent {
        DurabilityTrapTests.event("pibox-disk", offset)
    }

    /// The status code a RecordSync of `events` gets.
    static func status(_ client: PiSyncClient, _ events: [Pisync_V1_SyncEvent]) async -> UInt32 {
        do {
            _ = try await client.recordSync(events: events)
            return 0
        } catch let error as PiSyncError {
            return error.code
        } catch {
            return 999
        }
    }

    @Test("a failing write or fsync answers UNAVAILABLE, keeps serving reads, and recovers", arguments: ["write", "fsync"])
    func faultAndRecovery(what: String) async throws {
        let scratch = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let data = scratch.appendingPathComponent("data").path
        try await TestApplication.with(dataDirectory: data) { app in
            let client = try await app.client()
            defer { client.close() }
            #expect(await Self.status(client, [Self.event(1)]) == 0)

            if what == "write" { app.files.failWrites(28) } else { app.files.failSyncs(5) }  // ENOSPC, EIO
            #expect(await Self.status(client, [Self.event(2)]) == 14)
            #expect(await Self.status(client, [Self.event(3)]) == 14)
            // Reads and pings go on while the disk fails.
            _ = try await client.ping()
            #expect(try await client.history(deviceID: "pibox-disk").events.map(\.timestamp).contains(Self.event(1).timestamp))

            app.files.failWrites(0)
            app.files.failSyncs(0)
            #expect(await eventually(timeout: .seconds(10)) { await Self.status(client, [Self.event(4)]) == 0 })
            // The events refused while the disk failed are taken when the device retries.
            #expect(await Self.status(client, [Self.event(2), Self.event(3)]) == 0)
        }
        // Everything acknowledged is on disk, once, and the log reads back whole.
        try await TestApplication.with(dataDirectory: data) { app in
            #expect(app.application.recovery.tornTail == nil)
            let client = try await app.client()
            defer { client.close() }
            let history = try await client.history(deviceID: "pibox-disk", limit: 100)
            #expect(history.events.map(\.timestamp).sorted() == (1...4).map { Self.event($0).timestamp })
        }
    }

    // Regression (review): while the log was failing, each queued acknowledgement was answered
    // through an already-failed future, one stack frame deeper each; 20,000 pipelined
    // RecordSyncs on one connection overflowed the stack and took the server down.
    @Test("thousands of acknowledgements failing at once are all answered UNAVAILABLE, in order")
    func longQueueFailsWithoutRecursion() async throws {
        // The server would stop reading at --max-pipelined-requests; let the queue grow long.
        try await TestApplication.with({ $0.maxPipelinedRequests = 30_000 }) { app in
            let raw = try await RawConnection.connect(port: app.port)
            app.files.holdSyncs()
            let count = 20_000
            for index in 1...count {
                try await raw.send(.with {
                    $0.id = UInt64(index)
                    $0.recordSync = .with { $0.events = [DurabilityTrapTests.event("pibox-queue", Int64(index))] }
                })
            }
            #expect(await eventually(timeout: .seconds(30)) {
                app.application.store.summary(of: "pibox-queue")?.totalSyncs == count
            })
            app.files.failSyncs(5)
            app.files.releaseSyncs()
            var ids: [UInt64] = []
            var unavailable = 0
            while ids.count < count, let response = try await raw.next() {
                ids.append(response.id)
                if case .error(let error) = response.result, error.code == 14 { unavailable += 1 }
            }
            #expect(ids == Array(1...UInt64(count)))
            #expect(unavailable > 0)
            app.files.failSyncs(0)
            await raw.close()
        }
    }
}
