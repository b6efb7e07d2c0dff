import PiSyncTestSupport
import PiSyncPersistence
import PiSyncStore
import Synchronization
import Testing

@Suite("Snapshot while recording")
struct SnapshotWhileRecordingTests {
    /// Loads the snapshot file of `directory` into a fresh store: its alerted streaks, the
    /// devices in it and the alert sequence it records.
    static func loadAlerted(_ file: SnapshotFile) throws -> (alerted: Int, devices: Int, summary: SnapshotSummary) {
        let loaded = SyncStore(configuration: StoreConfiguration(alertThreshold: 1))
        let summary = try #require(try file.load(into: loaded))
        let devices = (0..<loaded.shardCount).flatMap { loaded.devices(inShard: $0) }
        #expect(loaded.currentAlertSequence == summary.lastAlertSequence)
        return (devices.filter(\.streakAlerted).count, devices.count, summary)
    }

    // Regression (ported from the store tests): record() used to mark a streak alerted under
    // the shard lock but number the alert only after the whole batch, so a snapshot taken in
    // between held alerted streaks that its last alert sequence did not cover (restored, it
    // would reuse those numbers).
    @Test("a snapshot taken while recording never holds more alerted streaks than its alert sequence")
    func snapshotDuringRecordingIsConsistent() async throws {
        try await withAsyncScratch { directory in
            // Threshold 1 and one failure per device: every stored device raises exactly one alert.
            let store = SyncStore(configuration: StoreConfiguration(alertThreshold: 1))
            let file = SnapshotFile(directory: directory)
            let started = Atomic<Bool>(false)
            let done = Atomic<Bool>(false)
            let writer = Task.detached {
                // Start once the first snapshot is under way, so that snapshots overlap recording.
                while !started.load(ordering: .sequentiallyConsistent) { await Task.yield() }
                for round in 0..<40 {
                    store.record((0..<1000).map { event("r\(round)-\($0)", .failed, at: 1) }, now: testNow)
                }
                done.store(true, ordering: .sequentiallyConsistent)
            }
            var inconsistent: [(alerted: Int, sequence: UInt64)] = []
            while !done.load(ordering: .sequentiallyConsistent) {
                started.store(true, ordering: .sequentiallyConsistent)
                let written = try file.write(store, logSequence: 0, takenAt: testNow)
                let (alerted, devices, summary) = try Self.loadAlerted(file)
                #expect(summary.lastAlertSequence == written.lastAlertSequence)
                #expect(devices == written.devices)
                if alerted > Int(summary.lastAlertSequence) {
                    inconsistent.append((alerted, summary.lastAlertSequence))
                }
            }
            await writer.value
            #expect(inconsistent.isEmpty, "snapshots with more alerted streaks than their alert sequence: \(inconsistent.prefix(3))")

            // Once recording has stopped, the snapshot is consistent and complete.
            _ = try file.write(store, logSequence: 0, takenAt: testNow)
            let (alerted, devices, summary) = try Self.loadAlerted(file)
            #expect(alerted == 40_000)
            #expect(devices == 40_000)
            #expect(summary.lastAlertSequence == 40_000)
        }
    }
}
