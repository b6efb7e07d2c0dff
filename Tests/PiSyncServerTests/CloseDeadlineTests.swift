import PiSyncClient
import PiSyncProtocol
import PiSyncStore
import Testing

/// A connection closed with a last notice is closed even when the peer never reads it.
@Suite("Close deadline", .timeLimit(.minutes(1)))
struct CloseDeadlineTests {
    // Regression (issue 7): the idle notice waited behind megabytes of responses a peer never
    // read, so the connection stayed open, counted against --max-connections, for good.
    @Test("an idle connection whose peer never reads is closed once the close timeout passes")
    func peerThatNeverReads() async throws {
        try await TestServer.with({
            $0.idleTimeout = .milliseconds(300)
            $0.closeTimeout = .milliseconds(500)
        }) { server in
            // Straight into the store: a client connection could itself hit the 300 ms idle
            // timeout on a loaded machine before it sends.
            let events = (0..<100).map { offset in
                SyncEvent(deviceID: "pibook-wide", timestamp: DurabilityTrapTests.base + Int64(offset), filesSynced: 3, errors: 0, internetSpeed: 4)
            }
            #expect(server.store.record(events, now: DurabilityTrapTests.base + 1_000_000).accepted == 100)

            let stalled = try await RawConnection.connect(port: server.port, autoRead: false, receiveBuffer: 4096)
            // Not awaited: the server stops reading a connection that does not read its answers.
            try stalled.pipeline((1...3000).map { index in
                .with {
                    $0.id = UInt64(index)
                    $0.getHistory = .with { $0.deviceID = "pibook-wide"; $0.limit = 100 }
                }
            })
            #expect(await eventually(timeout: .seconds(10)) { server.server.connectionCount == 0 },
                    "the stalled connection is still open")
            await stalled.close()
        }
    }
}
