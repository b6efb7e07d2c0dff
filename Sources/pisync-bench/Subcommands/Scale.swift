import ArgumentParser
import Foundation
import Histogram
import NIOCore
import NIOPosix
import PiSyncClient
import PiSyncProtocol
import Synchronization

/// `pisync-bench scale`: the scale checks of docs/performance.md against a running server.
struct Scale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scale checks against a running server: idle connections' memory, subscribers' cost and alert latency.",
        subcommands: [IdleConnections.self, Subscribers.self])

    /// `scale idle-connections`: server RSS per idle connection.
    struct IdleConnections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "idle-connections",
            abstract: "Open N idle connections and report the server's resident memory per connection.")

        @Option(help: "Server port.") var port: Int
        @Option(help: "The server's process id (its RSS is read from /proc).") var serverPid: Int32
        @Option(help: "Connections to open (raise the server's --max-connections and both sides' ulimit -n).")
        var connections = 10_000

        func run() async throws {
            let before = try residentBytes(of: serverPid)
            var channels: [any Channel] = []
            channels.reserveCapacity(connections)
            for _ in 0..<connections {
                channels.append(try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: port).get())
            }
            try await Task.sleep(for: .seconds(2))
            let open = channels.filter(\.isActive).count
            let after = try residentBytes(of: serverPid)
            print("idle_connections=\(open) rss_before_kib=\(before / 1024) rss_after_kib=\(after / 1024) "
                  + "bytes_per_connection=\((after - before) / max(1, open))")
            for channel in channels { channel.close(promise: nil) }
        }
    }

    /// `scale subscribers`: ingestion with and without N subscribers, and alert latency.
    struct Subscribers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingestion with N subscribers connected against without, and alert delivery latency.",
            discussion: """
                Runs the pipelined RecordSync load, then opens the subscribers and runs it again \
                while a probe connection records, every 100 ms (--probe-interval-ms), three failed syncs of a new device \
                (an alert at the default threshold). Alert latency is each subscriber's receipt of \
                the alert less the probe's receipt of the acknowledgement that raised it.
                """)

        @Option(help: "Server port.") var port: Int
        @Option(help: "Subscribers.") var subscribers = 1000
        @Option(help: "Load connections.") var connections = 8
        @Option(help: "Requests in flight per load connection.") var depth = 16
        @Option(help: "Seconds measured per run.") var seconds = 5.0
        @Option(help: "Milliseconds between the probe's alerts.") var probeIntervalMs = 100

        func run() async throws {
            let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let base = Int64(Date().timeIntervalSince1970 * 1000) - 30 * 86_400_000
            var settings = PipelinedLoad.Settings(port: port)
            settings.connections = connections
            settings.depth = depth
            settings.duration = .milliseconds(Int64(seconds * 1000))
            func templates(_ tag: String) throws -> [RequestTemplate] {
                try (0..<connections).map {
                    try RequestTemplate(wire: .varint, connection: $0, run: tag, batch: 1, perEventDevices: false, base: base)
                }
            }
            let without = try await PipelinedLoad.run(settings, wire: .varint, templates: try templates(run + "a"))

            let arrivals = AlertArrivals()
            let channels = try await arrivals.connect(count: subscribers, port: port)
            try await Task.sleep(for: .seconds(1))  // every subscription confirmed
            let acknowledged = Mutex<[String: NIODeadline]>([:])
            let probe = Task {
                let client = try await PiSyncClient.connect(host: "127.0.0.1", port: port)
                defer { client.close() }
                var index = 0
                while !Task.isCancelled {
                    let device = "probe-\(run)-\(index)"
                    let events = (0..<3).map { offset in
                        Pisync_V1_SyncEvent.with {
                            $0.timestamp = base + Int64(offset)
                            $0.totalErrors = 1
                        }
                    }
                    _ = try await client.recordSync(deviceID: device, events: events)
                    acknowledged.withLock { $0[device] = .now() }
                    index += 1
                    try await Task.sleep(for: .milliseconds(probeIntervalMs))
                }
            }
            let with = try await PipelinedLoad.run(settings, wire: .varint, templates: try templates(run + "b"))
            probe.cancel()
            _ = await probe.result
            try await Task.sleep(for: .milliseconds(500))  // the last alerts in flight
            for channel in channels { channel.close(promise: nil) }

            var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
            let acks = acknowledged.withLock { $0 }
            for (device, arrived) in arrivals.all() {
                guard let ack = acks[device] else { continue }
                _ = latencies.record(UInt64(max(0, (arrived - ack).nanoseconds)))
            }
            let micros = { (percentile: Double) in String(format: "%.0f", Double(latencies.valueAtPercentile(percentile)) / 1000) }
            print("rps_without=\(String(format: "%.0f", without.perSecond)) rps_with=\(String(format: "%.0f", with.perSecond)) "
                  + "ratio=\(String(format: "%.2f", with.perSecond / without.perSecond)) subscribers=\(subscribers) "
                  + "alerts=\(acks.count) deliveries=\(latencies.totalCount) alert_p50_us=\(micros(50)) alert_p99_us=\(micros(99))")
        }
    }
}

/// Resident memory of a process, from /proc.
func residentBytes(of pid: Int32) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
    else { throw ValidationError("no VmRSS in /proc/\(pid)/status") }
    return kib * 1024
}

/// Subscribers that note when each alert reaches them.
final class AlertArrivals: Sendable {
    private let arrivals = Mutex<[(String, NIODeadline)]>([])

    func all() -> [(String, NIODeadline)] { arrivals.withLock { $0 } }

    func connect(count: Int, port: Int) async throws -> [any Channel] {
        try await AlertFanOut.connect(count: count, port: port, group: MultiThreadedEventLoopGroup.singleton) {
            Recorder(arrivals: self)
        }
    }

    fileprivate func record(_ device: String) {
        let now = NIODeadline.now()
        arrivals.withLock { $0.append((device, now)) }
    }

    private final class Recorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let arrivals: AlertArrivals

        init(arrivals: AlertArrivals) {
            self.arrivals = arrivals
        }

        func channelActive(context: ChannelHandlerContext) {
            AlertFanOut.subscribe(context)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            guard let response = try? Pisync_V1_Response(serializedBytes: frame.readableBytesSpan),
                case .failureAlert(let alert) = response.result
            else { return }
            arrivals.record(alert.deviceID)
        }
    }
}
