import NIOPosix
import PiSyncClient
import Synchronization
import Testing
import PiSyncTestSupport

/// An event loop never waits for the log's writer thread, whose fsync may hang on a slow disk.
@Suite("Write-through and a hanging fsync", .timeLimit(.minutes(1)))
struct WriteThroughStallTests {
    // Regression (review of issue 7's write-through): an event loop ending a burst took the
    // writer's lock while the writer thread held it through an fdatasync, so a hanging disk
    // froze every connection on that loop, even those that only asked for a Ping.
    @Test("while the interval fsync hangs, the event loop still answers other connections")
    func loopStaysFree() async throws {
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)  // every connection on one loop
        defer { loop.shutdownGracefully { _ in } }
        try await TestApplication.with(group: loop, {
            $0.fsync = .interval
            $0.fsyncInterval = .milliseconds(20)
        }) { app in
            let writer = try await app.client()
            let other = try await app.client()
            defer { writer.close(); other.close() }
            app.files.holdSyncs()
            _ = try await writer.recordSync(events: [DurabilityTrapTests.event("pibox-stall", 1)])
            try await Task.sleep(for: .milliseconds(200))  // the interval fsync of it now hangs
            let acknowledged = Task { try await writer.recordSync(events: [DurabilityTrapTests.event("pibox-stall", 2)]) }
            try await Task.sleep(for: .milliseconds(100))
            let answered = Atomic<Bool>(false)
            let ping = Task {
                _ = try await other.ping()
                answered.store(true, ordering: .relaxed)
            }
            #expect(await eventually(timeout: .seconds(2)) { answered.load(ordering: .relaxed) },
                    "the event loop waited for the writer thread's fsync")
            app.files.releaseSyncs()
            _ = try await ping.value
            #expect(try await acknowledged.value.accepted == 1)
        }
    }
}
