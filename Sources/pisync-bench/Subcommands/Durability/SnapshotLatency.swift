import ArgumentParser
import Foundation
import Histogram
import Logging
import NIOPosix
import PiSyncPersistence
import PiSyncProtocol
import PiSyncServer
import ServiceLifecycle
import Synchronization

/// Request numbers for the latency load, and whether the snapshot it races has finished.
final class LoadProgress: Sendable {
    private let state = Mutex((next: 0, snapshotFinished: false))

    func next() -> Int {
        state.withLock { state in
            state.next += 1
            return state.next - 1
        }
    }
    func finishSnapshot() { state.withLock { $0.snapshotFinished = true } }
    var snapshotFinished: Bool { state.withLock { $0.snapshotFinished } }
}

extension PiSyncBenchCommand {
    /// RecordSync latency with and without a snapshot of a large store being written, in one
    /// process, one run.
    struct SnapshotLatency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "RecordSync p50/p99 while a snapshot of a large store is written, against without one.")

        @Option(help: "Events in the store before measuring.") var events = 10_000_000
        @Option(help: "Devices.") var devices = 10_000
        @Option(help: "Concurrent connections recording.") var connections = 8
        @Option(help: "fsync policy: always, interval, never.") var fsync = "always"
        @Option(help: "Snapshots written back to back while recording is measured.") var snapshots = 10

        func run() async throws {
            guard let policy = FsyncPolicy(rawValue: fsync) else { throw ValidationError("fsync must be always, interval or never") }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pisync-snapbench-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            var configuration = ServerConfiguration()
            configuration.port = 0
            configuration.dataDirectory = directory
            configuration.fsync = policy
            configuration.snapshotInterval = .seconds(86_400)
            configuration.snapshotLogBytes = Int.max / 2
            let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
            let application = try PiSyncApplication(configuration: configuration, logger: logger)
            let filler = FleetFiller(devices: devices)
            filler.record(0..<events, into: application.store, now: filler.base + 86_400_000 * 60)
            let group = ServiceGroup(services: application.services, logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let port = try await application.server.localAddress.port ?? 0
                try await measure(application, port: port, base: filler.base + 86_400_000 * 2)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }

        private func measure(_ application: PiSyncApplication, port: Int, base: Int64) async throws {
            let counter = LoadProgress()
            let frame: @Sendable (Int, Int) -> [UInt8] = { connection, _ in
                let index = counter.next()
                let request = Pisync_V1_Request.with {
                    $0.id = UInt64(index + 1)
                    $0.recordSync = .with {
                        $0.deviceID = "latency-\(connection)"
                        $0.events = [.with { $0.timestamp = base + Int64(index); $0.totalFilesSynced = 2; $0.internetSpeed = 3 }]
                    }
                }
                return (try? request.serializedBytes()) ?? []
            }
            let group = MultiThreadedEventLoopGroup.singleton
            _ = try await ClosedLoopLoad.run(port: port, connections: connections, requests: 500, group: group, frame: frame)
            let clock = ContinuousClock()
            // As many requests without a snapshot as we then run during one, in rounds of 2000.
            let snapshot = Task { [snapshots] () -> Duration in
                let started = clock.now
                defer { counter.finishSnapshot() }
                for _ in 0..<snapshots { try await application.snapshots.write() }
                return (clock.now - started) / snapshots
            }
            var during = ClosedLoopLoad.emptyLatencies()
            var rounds = 0
            repeat {
                during.add(try await ClosedLoopLoad.run(port: port, connections: connections, requests: 2000 / connections, group: group, frame: frame).latencies)
                rounds += 1
            } while !counter.snapshotFinished
            let took = try await snapshot.value
            var without = ClosedLoopLoad.emptyLatencies()
            for _ in 0..<rounds {
                without.add(try await ClosedLoopLoad.run(port: port, connections: connections, requests: 2000 / connections, group: group, frame: frame).latencies)
            }
            func micro(_ nanoseconds: UInt64) -> String { String(format: "%.0f", Double(nanoseconds) / 1000) }
            print("store: \(events) events of \(devices) devices; \(snapshots) snapshots, each took \(took) on average; fsync \(fsync); \(connections) connections, 1 event per RecordSync")
            MarkdownTable.print(
                ["PHASE", "REQUESTS", "P50_US", "P99_US", "MAX_US"],
                [
                    ["without snapshot", "\(without.totalCount)", micro(without.valueAtPercentile(50)), micro(without.valueAtPercentile(99)), micro(without.max)],
                    ["during snapshot", "\(during.totalCount)", micro(during.valueAtPercentile(50)), micro(during.valueAtPercentile(99)), micro(during.max)],
                ])
            print(String(format: "p99 ratio during/without: %.2f", Double(during.valueAtPercentile(99)) / Double(max(1, without.valueAtPercentile(99)))))
        }
    }
}
