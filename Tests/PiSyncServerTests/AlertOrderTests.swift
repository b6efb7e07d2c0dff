import NIOPosix
import PiSyncClient
import PiSyncProtocol
import Testing

/// Subscribers see alerts in sequence order when they are raised on several event loops.
@Suite("Alert order across event loops", .serialized, .timeLimit(.minutes(1)))
struct AlertOrderTests {
    // Regression (review of issue 7's fan-out): an alert handed to another loop's subscribers
    // through a task could be overtaken by a later alert published on that loop itself, which
    // was written at once.
    @Test("alerts raised concurrently on two event loops reach every subscriber in order", arguments: 0..<5)
    func orderAcrossLoops(round: Int) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { group.shutdownGracefully { _ in } }
        // A buffer for every alert: this is about order, not about slow subscribers.
        try await TestServer.with({ $0.alertThreshold = 1; $0.subscriberBufferSize = 100_000 }, group: group) { server in
            var subscribers: [PiSyncClient] = []
            var streams: [FailureAlertStream] = []
            for _ in 0..<4 {
                let client = try await server.client()
                subscribers.append(client)
                streams.append(try await client.subscribeFailureAlerts())
            }
            let recorders = 4, requests = 30, batch = 20
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for recorder in 0..<recorders {
                    tasks.addTask {
                        let client = try await server.client()
                        defer { client.close() }
                        try await withThrowingTaskGroup(of: Void.self) { calls in
                            for request in 0..<requests {
                                calls.addTask {
                                    let events = (0..<batch).map { index in
                                        Pisync_V1_SyncEvent.with {
                                            $0.deviceID = "order-\(round)-\(recorder)-\(request)-\(index)"
                                            $0.timestamp = DurabilityTrapTests.base
                                            $0.totalErrors = 1
                                        }
                                    }
                                    _ = try await client.recordSync(events: events)
                                }
                            }
                            try await calls.waitForAll()
                        }
                    }
                }
                try await tasks.waitForAll()
            }
            let total = recorders * requests * batch
            for stream in streams {
                var sequences: [UInt64] = []
                for try await alert in stream {
                    sequences.append(alert.sequence)
                    if sequences.count == total { break }
                }
                let outOfOrder = zip(sequences, sequences.dropFirst()).first { $0 >= $1 }
                #expect(outOfOrder == nil, "alert \(outOfOrder.map { "\($0.1) after \($0.0)" } ?? "")")
                #expect(Set(sequences) == Set(1...UInt64(total)))
            }
            for client in subscribers { client.close() }
        }
    }
}
