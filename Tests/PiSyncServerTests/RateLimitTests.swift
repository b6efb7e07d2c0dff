import Foundation
import PiSyncProtocol
@testable import PiSyncServer
import PiSyncStore
import Testing

/// The per-device token bucket and the per-address connection limit (issue 8).
@Suite("Rate limits", .timeLimit(.minutes(1)))
struct RateLimitTests {
    static let second: UInt64 = 1_000_000_000

    @Test("a bucket spends its burst, then refuses with the time until enough has refilled")
    func bucket() {
        let limiter = RateLimiter(rate: 10, burst: 5)
        #expect(limiter.take(5, of: "d", now: 0) == .admitted)
        #expect(limiter.take(1, of: "d", now: 0) == .limited(key: "d", retryAfterMillis: 100))
        #expect(limiter.take(3, of: "d", now: Self.second / 10) == .limited(key: "d", retryAfterMillis: 200))
        #expect(limiter.take(1, of: "d", now: Self.second / 10) == .admitted)
        // Never more than the burst, however long it waited.
        #expect(limiter.take(5, of: "d", now: 100 * Self.second) == .admitted)
        #expect(limiter.take(1, of: "d", now: 100 * Self.second) == .limited(key: "d", retryAfterMillis: 100))
        #expect(limiter.take(6, of: "e", now: 0) == .overBurst(key: "e", burst: 5))
        // Another key has its own bucket.
        #expect(limiter.take(5, of: "f", now: 100 * Self.second) == .admitted)
    }

    @Test("a batch over several keys spends all or nothing")
    func allOrNothing() {
        let limiter = RateLimiter(rate: 1, burst: 4)
        #expect(limiter.take(3, of: "a", now: 0) == .admitted)
        #expect(limiter.take([(key: "b", count: 2), (key: "a", count: 2)], now: 0) == .limited(key: "a", retryAfterMillis: 1000))
        // b was not charged.
        #expect(limiter.take(4, of: "b", now: 0) == .admitted)
        #expect(limiter.check(1, of: "a", now: 0) == .admitted)
        #expect(limiter.check(2, of: "a", now: 0) == .limited(key: "a", retryAfterMillis: 1000))
    }

    @Test("a flood of distinct keys does not grow the table without bound")
    func boundedKeys() {
        let limiter = RateLimiter(rate: 1, burst: 2)
        for index in 0..<(RateLimiter.maxKeys + 10) {
            _ = limiter.take(1, of: "k\(index)", now: 0)
        }
        #expect(limiter.keyCount <= RateLimiter.maxKeys)
    }

    @Test("a device's burst is cut at the bucket with RESOURCE_EXHAUSTED and retry_after_ms; nothing of the refused batch is stored; after the wait it passes")
    func deviceBurstCut() async throws {
        // 1 event/s: the refused batch needs 3 tokens, 3 s of refill, so a loaded machine's gap
        // between two requests does not let it through (750 ms once did, with fuzzers running).
        try await TestServer.with({
            $0.deviceRate = 1
            $0.deviceBurst = 5
        }) { server in
            let raw = try await RawConnection.connect(port: server.port)
            let burst = (0..<5).map { AuthFixtures.event(secondsAgo: Int64(1 + $0)) }
            #expect(try await raw.call(AuthFixtures.record(1, device: "pibook-a", burst)).recordSync.accepted == 5)
            let more = (0..<3).map { AuthFixtures.event(secondsAgo: Int64(10 + $0)) }
            let refused = try await raw.call(AuthFixtures.record(2, device: "pibook-a", more))
            #expect(refused.error.code == StatusCode.resourceExhausted.rawValue)
            #expect(refused.error.field == "device_id")
            #expect(refused.error.retryAfterMs > 0 && refused.error.retryAfterMs <= 3000)
            #expect(try server.store.history(of: "pibook-a", page: PageRequest(page: 1, limit: 10)).total == 5)
            // Another device is not held back by this one.
            #expect(try await raw.call(AuthFixtures.record(3, device: "pibook-b", [AuthFixtures.event()])).recordSync.accepted == 1)
            // Honouring retry_after_ms is enough.
            try await Task.sleep(for: .milliseconds(Int(refused.error.retryAfterMs) + 5))
            let retried = try await raw.call(AuthFixtures.record(4, device: "pibook-a", more))
            #expect(retried.recordSync.accepted == 3, "\(retried)")
            // A batch larger than the burst can never pass: said plainly, not "retry".
            let tooBig = try await raw.call(AuthFixtures.record(5, device: "pibook-c", (0..<6).map { AuthFixtures.event(secondsAgo: Int64(20 + $0)) }))
            #expect(tooBig.error.code == StatusCode.invalidArgument.rawValue && tooBig.error.field == "events")
        }
    }

    @Test("with auth on the limit is on by default, keyed by the token's device; operator connections are not limited")
    func defaultsWithAuth() async throws {
        try await TestServer.with({
            $0.authSecrets = AuthFixtures.secrets
            $0.deviceBurst = 3
        }) { server in
            let device = try await RawConnection.connect(port: server.port)
            _ = try await device.call(AuthFixtures.authenticate(1, AuthFixtures.token(device: "pibook-a")))
            // Events naming no device are the token's device, and count against its bucket.
            let four = (0..<4).map { AuthFixtures.event(secondsAgo: Int64(10 + $0)) }
            let overBurst = try await device.call(AuthFixtures.record(2, four))
            #expect(overBurst.error.code == StatusCode.invalidArgument.rawValue && overBurst.error.field == "events")
            #expect(overBurst.error.message.contains("pibook-a"))

            let importer = try await RawConnection.connect(port: server.port)
            _ = try await importer.call(AuthFixtures.authenticate(1, AuthFixtures.token(operator: "importer")))
            let many = (0..<20).map { AuthFixtures.event("pibook-a", secondsAgo: Int64(100 + $0)) }
            #expect(try await importer.call(AuthFixtures.record(2, many)).recordSync.accepted == 20)
        }
        var configuration = ServerConfiguration()
        #expect(configuration.effectiveDeviceRate == 0)
        configuration.authSecrets = AuthFixtures.secrets
        #expect(configuration.effectiveDeviceRate == 100)
    }

    @Test("connections from one address beyond the per-address limit get RESOURCE_EXHAUSTED and are closed; a closed one frees its place")
    func perPeerConnections() async throws {
        try await TestServer.with({ $0.maxConnectionsPerPeer = 2 }) { server in
            let first = try await RawConnection.connect(port: server.port)
            let second = try await RawConnection.connect(port: server.port)
            #expect(try await first.call(.with { $0.id = 1; $0.ping = .init() }).ping.version.isEmpty == false)
            let third = try await RawConnection.connect(port: server.port)
            let notice = try #require(try await third.next())
            #expect(notice.id == 0 && notice.error.code == StatusCode.resourceExhausted.rawValue)
            #expect(notice.error.message.contains("127.0.0.1"))
            #expect(try await third.next() == nil)
            await second.close()
            #expect(await eventually { server.server.connectionCount == 1 })
            let fourth = try await RawConnection.connect(port: server.port)
            #expect(try await fourth.call(.with { $0.id = 1; $0.ping = .init() }).ping.version.isEmpty == false)
        }
    }
}
