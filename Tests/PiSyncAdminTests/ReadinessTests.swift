import Foundation
import NIOCore
import NIOPosix
import PiSyncAdmin
import PiSyncClient
import Testing

/// `/healthz` and `/readyz` over real HTTP, and the same state in Ping, through recovery, a
/// failing disk and shutdown.
@Suite("Admin health and readiness", .serialized, .timeLimit(.minutes(2)))
struct ReadinessTests {
    @Test("the admin port is up during recovery and says so; ready once recovered")
    func recovering() async throws {
        try await AdminTestServer.with(holdRecovery: true) { server in
            let health = try await server.get("/healthz")
            #expect(health.status == 200)
            #expect(health.json["status"] as? String == "serving")
            #expect(health.json["phase"] as? String == "recovering")

            let ready = try await server.get("/readyz")
            #expect(ready.status == 503)
            #expect(ready.json["ready"] as? Bool == false)
            #expect(ready.json["reasons"] as? [String] == ["recovering the data directory"])
            #expect(try await server.metric("pisync_ready") == 0)

            server.files.releaseListings()
            #expect(try await server.waitUntil { try await server.get("/readyz").status == 200 })
            let after = try await server.get("/readyz")
            #expect(after.json["status"] as? String == "ready")
            #expect(after.json["reasons"] as? [String] == [])
            let client = try await server.client()
            defer { client.close() }
            let pong = try await client.ping()
            #expect(pong.hasHealth && pong.health.ready && pong.health.reasons.isEmpty)
        }
    }

    @Test("a failing disk makes /readyz 503 and Ping not ready until it writes again")
    func diskFault() async throws {
        try await AdminTestServer.with { server in
            let client = try await server.client()
            defer { client.close() }
            _ = try await client.recordSync(events: [AdminFixtures.event("pibox-disk", secondsAgo: 90)])
            server.files.failWrites(28)  // ENOSPC
            await #expect(throws: PiSyncError.self) {
                _ = try await client.recordSync(events: [AdminFixtures.event("pibox-disk", secondsAgo: 80)])
            }
            let ready = try await server.get("/readyz")
            #expect(ready.status == 503)
            let reasons = ready.json["reasons"] as? [String] ?? []
            #expect(reasons.count == 1 && reasons[0].contains("the event log cannot be written"))
            #expect(try await server.metric("pisync_log_degraded") == 1)
            let pong = try await client.ping()
            #expect(pong.hasHealth && !pong.health.ready)
            #expect(pong.health.reasons == reasons)

            server.files.failWrites(0)
            #expect(try await server.waitUntil { try await server.get("/readyz").status == 200 })
            #expect(try await client.ping().health.ready)
            #expect(try await server.metric("pisync_log_degraded") == 0)
        }
    }

    @Test("while the server drains on shutdown, /readyz says shutting down")
    func shuttingDown() async throws {
        try await AdminTestServer.with({ $0.shutdownGracePeriod = .seconds(30) }) { server in
            let application = try await server.launcher.recoveredApplication
            let port = try await application.server.localAddress.port ?? 0
            // A peer that keeps its side open after the server's last notice holds the drain.
            let lingering = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .connect(host: "127.0.0.1", port: port).get()
            #expect(try await server.waitUntil { try await server.metric("pisync_connections") == 1 })
            await server.beginShutdown()
            #expect(try await server.waitUntil { try await server.get("/readyz").status == 503 })
            let ready = try await server.get("/readyz")
            #expect(ready.json["reasons"] as? [String] == ["shutting down"])
            #expect(ready.json["phase"] as? String == "shutting_down")
            try await lingering.close()
        }
    }
}
