import Foundation
import PiSyncClient
import PiSyncProtocol
import Synchronization
import Testing

/// Recording goes on while a snapshot of a sizeable store is written, and the snapshot plus
/// the log still hold every acknowledged event after a restart.
@Suite("Snapshot during load", .serialized, .timeLimit(.minutes(2)))
struct SnapshotDuringLoadTests {
    /// Round-trip times of single-event RecordSyncs on `connections` connections until `stop`.
    final class Recorder: Sendable {
        private let state = Mutex((latencies: [Duration](), acknowledged: [Int64](), next: Int64(0)))
        var latencies: [Duration] { state.withLock { $0.latencies } }
        var acknowledged: [Int64] { state.withLock { $0.acknowledged } }

        func run(_ client: PiSyncClient, while running: @Sendable () -> Bool) async throws {
            let clock = ContinuousClock()
            while running() {
                let timestamp = state.withLock { state in
                    state.next += 1
                    return DurabilityTrapTests.base + 10_000_000 + state.next
                }
                let started = clock.now
                let answer = try await client.recordSync(events: [.with {
                    $0.deviceID = "under-load"
                    $0.timestamp = timestamp
                    $0.totalFilesSynced = 1
                }])
                let took = clock.now - started
                if answer.accepted == 1 { state.withLock { $0.latencies.append(took); $0.acknowledged.append(timestamp) } }
            }
        }

        func reset() { state.withLock { $0.latencies = [] } }
    }

    static func percentile(_ values: [Duration], _ p: Double) -> Duration {
        let sorted = values.sorted()
        return sorted.isEmpty ? .zero : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    @Test("recording continues during a snapshot; latency before and during is reported")
    func recordingContinues() async throws {
        let scratch = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let data = scratch.appendingPathComponent("data").path
        let recorder = Recorder()
        try await TestApplication.with(dataDirectory: data, { $0.fsync = .never }) { app in
            // A store big enough that writing it takes a while: 300k events of 3000 devices.
            let loader = try await app.client()
            for round in 0..<100 {
                let events = (0..<3000).map { device in
                    Pisync_V1_SyncEvent.with {
                        $0.deviceID = "fleet-\(device)"
                        $0.timestamp = DurabilityTrapTests.base + Int64(round)
                        $0.totalFilesSynced = 2
                    }
                }
                for chunk in stride(from: 0, to: events.count, by: 1000) {
                    _ = try await loader.recordSync(events: Array(events[chunk..<min(chunk + 1000, events.count)]))
                }
            }
            loader.close()

            let phase = Mutex(0)  // 0: before, 1: during the snapshot, 2: done
            let client = try await app.client()
            defer { client.close() }
            let recording = Task { try await recorder.run(client) { phase.withLock { $0 } < 2 } }
            try await Task.sleep(for: .milliseconds(300))
            let before = recorder.latencies
            recorder.reset()
            phase.withLock { $0 = 1 }
            let clock = ContinuousClock()
            let started = clock.now
            try await app.application.snapshots.write()
            let snapshotTook = clock.now - started
            phase.withLock { $0 = 2 }
            try await recording.value
            let during = recorder.latencies
            #expect(!during.isEmpty, "no RecordSync completed while the snapshot was written")
            print(
                "snapshot of 300k events took \(snapshotTook); RecordSync p50/p99 before: "
                    + "\(Self.percentile(before, 0.5))/\(Self.percentile(before, 0.99)) (\(before.count)), during: "
                    + "\(Self.percentile(during, 0.5))/\(Self.percentile(during, 0.99)) (\(during.count))")
        }
        // After a restart (snapshot + log), every acknowledged event is there.
        try await TestApplication.with(dataDirectory: data) { app in
            #expect(app.application.recovery.snapshot?.events ?? 0 >= 300_000)
            #expect(app.application.store.summary(of: "under-load")?.totalSyncs == recorder.acknowledged.count)
            #expect(app.application.store.summary(of: "fleet-2999")?.totalSyncs == 100)
        }
    }
}
