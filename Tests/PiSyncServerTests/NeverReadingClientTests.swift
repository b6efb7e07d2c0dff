import Foundation
import NIOCore
import PiSyncClient
import PiSyncProtocol
import Testing

/// A client that sends requests and never reads their answers holds a bounded amount of the
/// server's memory, and other connections are served meanwhile.
@Suite("A client that never reads", .serialized, .timeLimit(.minutes(2)))
struct NeverReadingClientTests {
    /// The server's resident set, from /proc.
    static func residentBytes(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        else { throw ServeProcessError.exited("no VmRSS in /proc/\(pid)/status") }
        return kib * 1024
    }

    // Regression (issue 7): the server answered every pipelined request and buffered every
    // answer; one connection pipelining GetHistory(limit 100) without reading took it from
    // 26 MiB to 1.5 GiB in 20 s.
    @Test("pipelined GetHistory without reading: server memory stays within the connection's bound")
    func boundedMemory() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await ServeProcess(
            in: directory, arguments: ["--data-dir", directory.appendingPathComponent("data").path, "--fsync", "never"])
        let client = try await PiSyncClient.connect(host: "127.0.0.1", port: server.port)
        _ = try await client.recordSync(events: (0..<100).map { DurabilityTrapTests.event("pibook-wide", Int64($0)) })
        let before = try Self.residentBytes(of: server.process.processIdentifier)

        // 20,000 requests whose answers (~3.5 KB each) add up to about 70 MB.
        let stalled = try await RawConnection.connect(port: server.port, autoRead: false, receiveBuffer: 4096)
        // Not awaited: once the server stops reading, these bytes wait in the kernel.
        try stalled.pipeline((1...20_000).map { index in
            .with {
                $0.id = UInt64(index)
                $0.getHistory = .with { $0.deviceID = "pibook-wide"; $0.limit = 100 }
            }
        })

        // Meanwhile another connection is answered promptly, again and again, for long enough
        // that a server answering everything (a debug build, ~7k such requests a second) would
        // have answered them all; the server's memory is sampled as it goes.
        var latencies: [Duration] = []
        var peak = before
        for _ in 0..<100 {
            let start = ContinuousClock.now
            _ = try await client.history(deviceID: "pibook-wide", limit: 10)
            latencies.append(ContinuousClock.now - start)
            peak = max(peak, try Self.residentBytes(of: server.process.processIdentifier))
            try await Task.sleep(for: .milliseconds(50))
        }
        let grown = peak - before
        #expect(grown < 24 << 20, "server RSS grew by \(grown >> 20) MiB (from \(before >> 20) MiB)")
        // Loose bounds: the whole test suite shares these 2 cores with this server.
        latencies.sort()
        #expect(latencies[latencies.count / 2] < .milliseconds(250), "another connection's median: \(latencies[latencies.count / 2])")
        #expect(latencies[latencies.count - 1] < .seconds(5), "another connection waited \(latencies[latencies.count - 1])")

        // Reading again, the stalled client gets every answer, in order.
        try await stalled.startReading()
        var expected: UInt64 = 1
        for try await response in stalled.responses {
            #expect(response.id == expected)
            guard response.id == expected else { break }
            #expect(response.getHistory.events.count == 100)
            expected += 1
            if expected > 20_000 { break }
        }
        #expect(expected == 20_001)
        await stalled.close()
        client.close()
        try await server.stop()
    }
}
