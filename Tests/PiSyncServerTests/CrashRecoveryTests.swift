import Foundation
import PiSyncClient
import PiSyncProtocol
import Synchronization
import Testing

/// `kill -9` of a real `pisync serve` while writers record: every acknowledged event must be
/// there after the restart, and nothing that was never sent. `PISYNC_CRASH_CYCLES` sets the
/// number of cycles per policy (default 20) for longer local runs.
@Suite("kill -9 crash recovery", .serialized, .timeLimit(.minutes(5)))
struct CrashRecoveryTests {
    static let writers = 4
    static let cycles = Int(ProcessInfo.processInfo.environment["PISYNC_CRASH_CYCLES"] ?? "") ?? 20
    static let base: Int64 = 1_764_000_000_000

    /// What one writer sent and had acknowledged: timestamps `base + 0..<sent`, acknowledged in order.
    final class Ledger: Sendable {
        let device: String
        private let counts = Mutex((sent: 0, acknowledged: 0))
        init(device: String) { self.device = device }
        var sent: Int { counts.withLock { $0.sent } }
        var acknowledged: Int { counts.withLock { $0.acknowledged } }

        /// Records events one at a time until the connection fails (the server was killed).
        func run(port: Int) async {
            guard let client = try? await PiSyncClient.connect(host: "127.0.0.1", port: port) else { return }
            defer { client.close() }
            while !Task.isCancelled {
                let index = counts.withLock { counts in
                    counts.sent += 1
                    return counts.sent - 1
                }
                let failed = index % 4 == 3  // some failures, so streaks and alerts are replayed too
                let event = Pisync_V1_SyncEvent.with {
                    $0.deviceID = device
                    $0.timestamp = CrashRecoveryTests.base + Int64(index)
                    $0.totalFilesSynced = failed ? 0 : 5
                    $0.totalErrors = failed ? 1 : 0
                    $0.internetSpeed = 2
                }
                guard let answer = try? await client.recordSync(events: [event]), answer.accepted == 1 else { return }
                counts.withLock { $0.acknowledged += 1 }
            }
        }
    }

    @Test("no acknowledged event is lost across kill -9 cycles", arguments: ["always", "interval"])
    func killNineCycles(policy: String) async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Small log and segment thresholds, so snapshots and segment deletion happen mid-run.
        let arguments = [
            "--data-dir", directory.appendingPathComponent("data").path, "--fsync", policy,
            "--snapshot-log-bytes", "20000", "--snapshot-interval", "1",
        ]
        var totalAcknowledged = 0
        for cycle in 0..<Self.cycles {
            let server = try await ServeProcess(in: directory, arguments: arguments)
            let ledgers = (0..<Self.writers).map { Ledger(device: "crash-\(policy)-c\(cycle)-w\($0)") }
            let port = server.port
            let writers = ledgers.map { ledger in Task { await ledger.run(port: port) } }
            try await Task.sleep(for: .milliseconds(Int.random(in: 150...700)))
            try await server.stop(SIGKILL)
            for writer in writers { await writer.value }

            let restarted = try await ServeProcess(in: directory, arguments: arguments)
            let client = try await PiSyncClient.connect(host: "127.0.0.1", port: restarted.port)
            for ledger in ledgers {
                let stored = try await Self.timestamps(of: ledger.device, client)
                let acknowledged = Set((0..<ledger.acknowledged).map { Self.base + Int64($0) })
                let sent = Set((0..<ledger.sent).map { Self.base + Int64($0) })
                #expect(acknowledged.isSubset(of: stored), "cycle \(cycle) \(ledger.device): lost \(acknowledged.subtracting(stored).sorted().prefix(5)); log:\n\(restarted.log)")
                #expect(stored.isSubset(of: sent), "cycle \(cycle) \(ledger.device): invented \(stored.subtracting(sent).sorted().prefix(5))")
                totalAcknowledged += ledger.acknowledged
            }
            client.close()
            try await restarted.stop(SIGKILL)
        }
        #expect(totalAcknowledged > Self.cycles * Self.writers, "the writers barely wrote; the test proves little")
        print("kill -9 (\(policy)): \(Self.cycles) cycles, \(totalAcknowledged) acknowledged events, none lost")
    }

    /// Every stored timestamp of `device` (empty when it is unknown).
    static func timestamps(of device: String, _ client: PiSyncClient) async throws -> Set<Int64> {
        var stored: Set<Int64> = []
        var page: UInt32 = 1
        while true {
            let history: Pisync_V1_GetHistoryResponse
            do {
                history = try await client.history(deviceID: device, page: page, limit: 100)
            } catch let error as PiSyncError where error.status == .notFound {
                return stored
            }
            stored.formUnion(history.events.map(\.timestamp))
            if history.events.count < 100 { return stored }
            page += 1
        }
    }
}
