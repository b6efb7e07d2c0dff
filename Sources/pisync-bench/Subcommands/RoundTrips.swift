import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import PiSyncProtocol
import PiSyncServer
import PiSyncStore
import ServiceLifecycle

/// `pisync-bench round-trips`: measures PiSync against baselines taken in the same run, as ratios.
struct RoundTrips: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "round-trips",
        abstract: "Benchmark RecordSync round trips against frame-echo baselines, and the store's sharding.",
        discussion: """
            Starts its own servers on loopback ports. Round trips are closed-loop (one request in \
            flight per connection). Compare the ratios, not the absolute numbers: these machines \
            are noisy, and a baseline measured in the same run cancels most of the noise.
            """)

    @Option(help: "Concurrent connections.") var connections = 4
    @Option(help: "Requests per connection.") var requests = 20_000
    @Option(help: "Events per RecordSync.") var batch = 1
    @Option(help: "Concurrent writers in the store benchmark.") var writers = 4
    @Option(help: "Events per writer in the store benchmark.") var storeEvents = 200_000
    @Option(help: "Devices in the failure index benchmark.") var fleet = 200_000
    @Option(help: "Subscribers in the alert fan-out benchmark.") var subscribers = 4
    @Option(help: "RecordSyncs in the alert fan-out benchmark (100 events each).") var alertRequests = 1000

    func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let base = Int64(Date().timeIntervalSince1970 * 1000) - 86_400_000
        let batch = batch
        let frame: @Sendable (Int, Int) -> [UInt8] = { connection, index in
            let request = Pisync_V1_Request.with {
                $0.id = UInt64(index + 1)
                $0.recordSync = .with {
                    $0.deviceID = "bench-\(connection)"
                    $0.events = (0..<batch).map { offset in
                        .with {
                            $0.timestamp = base + Int64(index * batch + offset)
                            $0.totalFilesSynced = 3
                            $0.internetSpeed = 7.5
                        }
                    }
                }
            }
            return (try? request.serializedBytes()) ?? []
        }
        print("closed loop: \(connections) connections x \(requests) requests, \(batch) event(s) per RecordSync")
        var rows: [(String, ClosedLoopLoad.Result)] = []

        let echo = try await FrameEchoServer.bindHandler(group: group)
        rows.append(("echo, handler on the event loop", try await load(echo.localAddress?.port ?? 0, frame)))
        try await echo.close()

        let bound = group.next().makePromise(of: Int.self)
        let asyncEcho = try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await FrameEchoServer.runAsyncChannel(group: group) { bound.succeed($0) } }
            defer { tasks.cancelAll() }
            return try await load(try await bound.futureResult.get(), frame)
        }
        rows.append(("echo, NIOAsyncChannel task per connection", asyncEcho))

        rows.append(("pisync RecordSync", try await withPiSyncServer(group: group) { try await load($0, frame) }))
        printRows(rows)

        try await alertFanOut(base: base)

        print("\nstore alone: \(writers) writers x \(storeEvents) single-event RecordSyncs")
        let single = await StoreScaling.eventsPerSecond(shards: 1, tasks: writers, events: storeEvents)
        let sharded = await StoreScaling.eventsPerSecond(shards: StoreConfiguration().shardCount, tasks: writers, events: storeEvents)
        MarkdownTable.print(
            ["STORE", "EVENTS/S", "VS 1 SHARD"],
            [["1 shard", String(format: "%.0f", single), "1.00"],
             ["\(StoreConfiguration().shardCount) shards", String(format: "%.0f", sharded), String(format: "%.2f", sharded / single)]])

        print("\nfailure index: first failures of \(fleet) devices, one writer")
        let inOrder = StoreScaling.failuresPerSecond(devices: fleet, inOrder: true)
        let shuffled = StoreScaling.failuresPerSecond(devices: fleet, inOrder: false)
        MarkdownTable.print(
            ["FAILURES", "EVENTS/S", "VS IN ORDER"],
            [["newest last", String(format: "%.0f", inOrder), "1.00"],
             ["shuffled timestamps", String(format: "%.0f", shuffled), String(format: "%.2f", shuffled / inOrder)]])
    }

    /// RecordSyncs whose 100 events each raise an alert, against the same RecordSyncs with
    /// no alerts, with subscribers on the recorder's event loop (a one-thread server).
    private func alertFanOut(base: Int64) async throws {
        let batch = 100
        print("\nalert fan-out: 1 connection x \(alertRequests) RecordSyncs of \(batch) new devices, "
              + "\(subscribers) subscribers, one server event loop")
        let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { serverGroup.shutdownGracefully { _ in } }
        let (rows, received) = try await withPiSyncServer(group: serverGroup, configure: { $0.alertThreshold = 1 }) { port in
            let group = MultiThreadedEventLoopGroup.singleton
            let (channels, counter) = try await AlertFanOut.subscribers(count: subscribers, port: port, group: group)
            while counter.frames.load(ordering: .relaxed) < subscribers {  // every subscription confirmed
                try await Task.sleep(for: .milliseconds(1))
            }
            var rows: [(String, ClosedLoopLoad.Result)] = []
            for (name, failed) in [("no alerts (successes)", false), ("\(batch) alerts each (failures)", true)] {
                _ = try await ClosedLoopLoad.run(port: port, connections: 1, requests: min(200, alertRequests), group: group,
                                                 frame: AlertFanOut.frame(run: "warm\(failed)", failed: failed, batch: batch, base: base))
                rows.append((name, try await ClosedLoopLoad.run(
                    port: port, connections: 1, requests: alertRequests, group: group,
                    frame: AlertFanOut.frame(run: "run\(failed)", failed: failed, batch: batch, base: base))))
            }
            try await Task.sleep(for: .milliseconds(200))  // the last alerts in flight
            for channel in channels { try? await channel.close() }
            return (rows, counter.frames.load(ordering: .relaxed) - subscribers)  // less the confirmations
        }
        printRows(rows, baselineName: "NO ALERTS")
        let expected = (min(200, alertRequests) + alertRequests) * batch * subscribers
        print("alerts received by subscribers: \(received) of \(expected)")
    }

    private func load(_ port: Int, _ frame: @escaping @Sendable (Int, Int) -> [UInt8]) async throws -> ClosedLoopLoad.Result {
        // A short warm-up, then the measured run.
        _ = try await ClosedLoopLoad.run(port: port, connections: connections, requests: min(1000, requests),
                                         group: MultiThreadedEventLoopGroup.singleton) { frame($0 + 1000, $1) }
        return try await ClosedLoopLoad.run(port: port, connections: connections, requests: requests,
                                            group: MultiThreadedEventLoopGroup.singleton, frame: frame)
    }

    private func withPiSyncServer<T>(
        group: any EventLoopGroup, configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (Int) async throws -> T
    ) async throws -> T {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configure(&configuration)
        let logger = Logger(label: "pisync-bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = PiSyncServer(configuration: configuration, logger: logger, group: group)
        let services = ServiceGroup(services: [server], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await services.run() }
            let result = try await body(try await server.localAddress.port ?? 0)
            await services.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    private func printRows(_ rows: [(String, ClosedLoopLoad.Result)], baselineName: String = "ECHO") {
        guard let baseline = rows.first?.1 else { return }
        let micro = { (value: UInt64) in String(format: "%.1f", Double(value) / 1000) }
        MarkdownTable.print(
            ["SCENARIO", "REQ/S", "P50_US", "P99_US", "P50 VS \(baselineName)"],
            rows.map { name, result in
                [name, String(format: "%.0f", result.perSecond), micro(result.latencies.valueAtPercentile(50)),
                 micro(result.latencies.valueAtPercentile(99)),
                 String(format: "%.2f", Double(result.latencies.valueAtPercentile(50)) / Double(baseline.latencies.valueAtPercentile(50)))]
            })
    }
}
