import ArgumentParser
import Foundation
import NIOCore
import NIOSSL
import PiSyncProtocol

/// `pisync-bench load`: drives one server with pipelined requests and prints one result line.
struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive a server with pipelined RecordSyncs (or Redis SETs) and print throughput and latency.",
        discussion: """
            Prints one line of key=value pairs: requests and events per second over the measured \
            window, and round-trip percentiles in microseconds. scripts/bench-compare.sh runs it \
            against PiSync, the varint echo and Redis, and prints the ratios.
            """)

    @Option(help: "Server host.") var host = "127.0.0.1"
    @Option(help: "Server port.") var port: Int
    @Option(help: "What the server speaks: varint (PiSync or its echo) or resp (Redis).") var wire = "varint"
    @Option(help: "Connections.") var connections = 8
    @Option(help: "Requests in flight per connection.") var depth = 16
    @Option(help: "Events per RecordSync.") var batch = 1
    @Flag(help: "Give each event of a batch its own device id instead of naming one device per request.")
    var perEventDevices = false
    @Flag(help: "Count answers that are not a clean RecordSync acknowledgement (errors, rejections, duplicates).")
    var checkAcks = false
    @Option(help: "Connect over TLS, trusting this PEM CA (the server's name is not checked).") var tlsCa: String?
    @Option(help: "Authenticate each connection with the token in this file first (its answer is not counted).")
    var tokenFile: String?
    @Option(help: "Seconds of warm-up before measuring.") var warmup = 1.0
    @Option(help: "Seconds measured.") var seconds = 5.0
    @Option(help: "A tag in device ids and keys, distinct per run against the same server.") var run = String(
        UInt32.random(in: 0...UInt32.max), radix: 36)

    func validate() throws {
        guard RequestTemplate.Wire(rawValue: wire) != nil else { throw ValidationError("wire must be varint or resp") }
        guard connections > 0, depth > 0, batch > 0, seconds > 0, warmup >= 0 else {
            throw ValidationError("connections, depth, batch and seconds must be positive")
        }
    }

    func run() async throws {
        let wire = RequestTemplate.Wire(rawValue: wire) ?? .varint
        // Thirty days back: every timestamp of the run stays in the past and a 6-byte varint.
        let base = Int64(Date().timeIntervalSince1970 * 1000) - 30 * 86_400_000
        let templates = try (0..<connections).map {
            try RequestTemplate(wire: wire, connection: $0, run: run, batch: batch, perEventDevices: perEventDevices, base: base)
        }
        var settings = PipelinedLoad.Settings(port: port)
        settings.host = host
        settings.connections = connections
        settings.depth = depth
        settings.warmup = .milliseconds(Int64(warmup * 1000))
        settings.duration = .milliseconds(Int64(seconds * 1000))
        settings.checkAcknowledgements = checkAcks
        if let tlsCa {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(tlsCa))
            tls.certificateVerification = .noHostnameVerification
            settings.tls = tls
        }
        if let tokenFile {
            let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            var frame = ByteBuffer()
            FrameCodec.writeFrame(try Pisync_V1_Request.with { $0.id = 1; $0.authenticate = .with { $0.token = token } }.serializedBytes() as [UInt8], into: &frame)
            settings.preamble = Array(frame.readableBytesView)
        }
        let result = try await PipelinedLoad.run(settings, wire: wire, templates: templates)
        let micros = { (percentile: Double) in String(format: "%.1f", Double(result.latencies.valueAtPercentile(percentile)) / 1000) }
        print(
            "requests=\(result.requests) rps=\(String(format: "%.0f", result.perSecond)) "
                + "eps=\(String(format: "%.0f", result.perSecond * Double(templates[0].eventsPerRequest))) "
                + "p50_us=\(micros(50)) p99_us=\(micros(99)) p999_us=\(micros(99.9))"
                + (checkAcks ? " unexpected=\(result.unexpected)" : ""))
    }
}
