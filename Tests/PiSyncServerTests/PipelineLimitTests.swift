import PiSyncProtocol
import Testing
import PiSyncTestSupport

/// A connection's requests waiting for answers are capped by --max-pipelined-requests.
@Suite("Pipelined request limit", .timeLimit(.minutes(1)))
struct PipelineLimitTests {
    @Test("while the log holds answers back, the server stops reading at the limit, then answers all")
    func stopsReadingAtLimit() async throws {
        try await TestApplication.with({ $0.maxPipelinedRequests = 100 }) { app in
            let raw = try await RawConnection.connect(port: app.port)
            app.files.holdSyncs()
            let count = 1000
            try raw.pipeline((1...count).map { index in
                .with {
                    $0.id = UInt64(index)
                    $0.recordSync = .with { $0.events = [DurabilityTrapTests.event("pibox-pipeline", Int64(index))] }
                }
            })
            // The first requests are handled and wait for the log; the rest are not read.
            #expect(await eventually { app.application.store.summary(of: "pibox-pipeline")?.totalSyncs ?? 0 >= 100 })
            try await Task.sleep(for: .milliseconds(300))
            let stored = app.application.store.summary(of: "pibox-pipeline")?.totalSyncs ?? 0
            #expect(stored < 300, "\(stored) requests handled while 100 may wait")

            app.files.releaseSyncs()
            var ids: [UInt64] = []
            while ids.count < count, let response = try await raw.next() {
                ids.append(response.id)
                #expect(response.recordSync.accepted == 1)
            }
            #expect(ids == Array(1...UInt64(count)))
            await raw.close()
        }
    }
}
