import Foundation
import PiSyncAdmin
import PiSyncClient
import PiSyncProtocol
import PiSyncStore
import Testing

/// `/metrics` over real HTTP, against a real server recording over the binary protocol.
@Suite("Admin /metrics", .serialized, .timeLimit(.minutes(2)))
struct MetricsEndpointTests {
    @Test("RecordSync moves the event counters, the request counters by code and the latency histogram")
    func recordSyncCounters() async throws {
        try await AdminTestServer.with { server in
            let client = try await server.client()
            defer { client.close() }
            let first = AdminFixtures.event("pibook-001", secondsAgo: 60)
            _ = try await client.recordSync(events: [first])
            _ = try await client.recordSync(events: [first])  // a retry: duplicate
            var invalid = AdminFixtures.event("pibook-001", secondsAgo: 30)
            invalid.internetSpeed = -1
            // One good, one bad: the batch is answered OK with one rejection.
            _ = try await client.recordSync(events: [AdminFixtures.event("pibook-002", secondsAgo: 50), invalid])
            // All bad: INVALID_ARGUMENT.
            await #expect(throws: PiSyncError.self) { _ = try await client.recordSync(events: [invalid]) }
            _ = try await client.ping()

            let answer = try await server.get("/metrics")
            #expect(answer.status == 200)
            #expect(answer.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = MetricsText(answer.body)
            #expect(text.value("pisync_events_total", #"outcome="accepted""#) == 2)
            #expect(text.value("pisync_events_total", #"outcome="duplicate""#) == 1)
            #expect(text.value("pisync_events_total", #"outcome="rejected""#) == 2)
            #expect(text.value("pisync_requests_total", #"call="record_sync",code="OK""#) == 3)
            #expect(text.value("pisync_requests_total", #"call="record_sync",code="INVALID_ARGUMENT""#) == 1)
            #expect(text.value("pisync_requests_total", #"call="ping",code="OK""#) == 1)
            #expect(text.value("pisync_record_sync_duration_seconds_count") == 4)
            #expect((text.value("pisync_record_sync_duration_seconds_sum") ?? 0) > 0)
            #expect(text.value("pisync_record_sync_duration_seconds_bucket", #"le="+Inf""#) == 4)
            #expect(text.value("pisync_log_appends_total") == 2)  // two batches stored something
            #expect(text.value("pisync_stored_devices") == 2)
            #expect(text.value("pisync_stored_events") == 2)
            #expect(text.value("pisync_ready") == 1)
            // No device id is ever a label.
            #expect(!answer.body.contains("pibook-001"))
        }
    }

    // Regressions (review of issue 9): the REST gateway's calls, which go through UnaryCalls,
    // were missing from pisync_requests_total; and pisync_stored_events counted archived
    // events, though it means events held in memory (what retention bounds).
    @Test("calls through UnaryCalls (the REST gateway) are counted by code; stored_events leaves out archived events")
    func unaryCallsAndArchivedEvents() async throws {
        try await AdminTestServer.with { server in
            let application = try await server.launcher.recoveredApplication
            let calls = application.server.unaryCalls
            let events = (1...5).map { AdminFixtures.event("pibook-rest", secondsAgo: Int64(60 - $0)) }
            _ = await calls.recordSync(.with { $0.events = events })
            _ = await calls.getHistory(.with { $0.deviceID = "pibook-unknown" })
            #expect(try await server.metric("pisync_requests_total", #"call="record_sync",code="OK""#) == 1)
            #expect(try await server.metric("pisync_requests_total", #"call="get_history",code="NOT_FOUND""#) == 1)
            let store = application.store
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            store.archive(store.dueForArchive(RetentionPolicy(retainEventsPerDevice: 2), now: now), cycle: store.archiveCycle + 1)
            #expect(try await server.metric("pisync_stored_events") == 2)
        }
    }

    @Test("the connections and subscribers gauges follow clients, and alerts raised and delivered are counted")
    func gaugesAndAlerts() async throws {
        try await AdminTestServer.with { server in
            #expect(try await server.metric("pisync_connections") == 0)
            let subscriber = try await server.client()
            defer { subscriber.close() }
            let stream = try await subscriber.subscribeFailureAlerts()
            #expect(try await server.metric("pisync_connections") == 1)
            #expect(try await server.metric("pisync_subscribers") == 1)

            let recorder = try await server.client()
            let failures = (0..<3).map { AdminFixtures.event("pibox-007", secondsAgo: 300 - Int64($0), failed: true) }
            _ = try await recorder.recordSync(events: failures)
            var alerts = stream.makeAsyncIterator()
            _ = try await alerts.next()  // the alert arrived
            #expect(try await server.metric("pisync_alerts_raised_total", #"kind="alert""#) == 1)
            #expect(try await server.metric("pisync_alerts_delivered_total") == 1)
            #expect(try await server.metric("pisync_connections") == 2)
            recorder.close()

            try await subscriber.cancel(subscriptionID: stream.id)
            #expect(try await server.waitUntil { try await server.metric("pisync_subscribers") == 0 })
            #expect(try await server.waitUntil { try await server.metric("pisync_connections") == 1 })
        }
    }

    @Test("two servers in one process keep their own numbers")
    func registryPerServer() async throws {
        try await AdminTestServer.with { first in
            let client = try await first.client()
            defer { client.close() }
            _ = try await client.recordSync(events: [AdminFixtures.event("pibook-001")])
            try await AdminTestServer.with { (second: AdminTestServer) async throws in
                #expect(try await second.metric("pisync_events_total", #"outcome="accepted""#) == 0)
            }
            #expect(try await first.metric("pisync_events_total", #"outcome="accepted""#) == 1)
        }
    }
}
