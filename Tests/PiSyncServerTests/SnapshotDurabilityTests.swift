import Foundation
import PiSyncPersistence
import PiSyncServer
import PiSyncStore
import PiSyncTestSupport
import Testing

/// A snapshot never holds what the log could still lose (review of issue 9): it copies the
/// alert history after the devices, so an alert raised meanwhile was in it while its events'
/// log record was not yet durable; after a kill -9 the restarted server replayed that alert,
/// and the device's retry raised it a second time.
@Suite("Snapshots wait for the log", .timeLimit(.minutes(1)))
struct SnapshotDurabilityTests {
    @Test("a snapshot is not put in place until the log records it copied are durable")
    func waitsForTheLog() async throws {
        try await TestApplication.with({ $0.alertThreshold = 1; $0.snapshotInterval = .seconds(3600) }) { app in
            let snapshot = SnapshotFile(directory: app.dataDirectory)
            app.files.holdSyncs()
            let event = SyncEvent(deviceID: "pibox-held", timestamp: testNow - 1000, filesSynced: 0, errors: 2, internetSpeed: 1)
            let outcome = app.application.store.record([event], now: testNow)
            #expect(outcome.alerts.count == 1)  // numbered and appended, not yet durable
            let writing = Task { try await app.application.snapshots.write() }
            try await Task.sleep(for: .milliseconds(500))
            #expect(!FileManager.default.fileExists(atPath: snapshot.path), "the snapshot replaced the old one first")
            app.files.releaseSyncs()
            try await writing.value
            let restored = SyncStore(configuration: StoreConfiguration(alertThreshold: 1))
            _ = try snapshot.load(into: restored)
            #expect(restored.alertHistory.alerts.map(\.deviceID) == ["pibox-held"])
            #expect(app.application.log.durableSequence >= 1)
        }
    }
}
