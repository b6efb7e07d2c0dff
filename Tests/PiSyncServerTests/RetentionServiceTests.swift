import Foundation
import PiSyncPersistence
import PiSyncProtocol
import PiSyncStore
import Testing

/// Retention through the whole application (snapshot service, archiver, store): a device that
/// keeps recording beyond its retention holds a flat number of events in memory, and the
/// archive holds exactly the events that left it.
@Suite("retention in a running server", .timeLimit(.minutes(2)))
struct RetentionServiceTests {
    static let base: Int64 = 1_795_852_800_000  // 2026-11-28T08:00:00Z

    @Test("memory stays flat while a device records beyond its retention; the archive holds what left")
    func memoryStaysFlat() async throws {
        try await TestApplication.with({
            $0.retainEventsPerDevice = 100
            $0.snapshotInterval = .seconds(1)
        }) { app in
            let client = try await app.client()
            defer { client.close() }
            var sent: [Pisync_V1_SyncEvent] = []
            var held: [Int] = []
            for round in 0..<8 {
                let batch = (0..<250).map { index in
                    Pisync_V1_SyncEvent.with {
                        $0.deviceID = "pibook-flat"
                        $0.timestamp = Self.base + Int64(round * 250 + index) * 1000
                        $0.totalFilesSynced = index % 5 == 0 ? 0 : 3
                        $0.totalErrors = index % 5 == 0 ? 1 : 0
                        $0.internetSpeed = 4
                    }
                }
                #expect(try await client.recordSync(events: batch).accepted == 250)
                sent += batch
                // A pass runs every second; wait for it rather than for a fixed time.
                let deadline = ContinuousClock.now + .seconds(30)
                while app.application.store.heldEventCount > 100, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                held.append(app.application.store.heldEventCount)
            }
            #expect(held == Array(repeating: 100, count: 8), "events held after each round: \(held)")

            let page = try await client.history(deviceID: "pibook-flat", limit: 100)
            #expect(page.total == 2000 && page.archived == 1900)
            #expect(page.archivedThrough == sent[1899].timestamp)
            let summary = try #require(app.application.store.summary(of: "pibook-flat"))
            #expect(summary.totalSyncs == 2000 && summary.failedSyncs == 400)

            var archived: [Int64] = []
            try ArchiveReader(dataDirectory: app.dataDirectory).read { archived.append($0.timestamp) }
            #expect(archived == sent[..<1900].map(\.timestamp))
            #expect(page.events.map(\.timestamp) == sent[1900...].reversed().map(\.timestamp))
        }
    }
}
