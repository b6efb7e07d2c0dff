import Foundation
import Hummingbird
import PiSyncAdmin
import Testing

/// The admin port with auth on: operator tokens, 401 and 403 with JSON bodies, `/metrics`
/// open on loopback, and routes mounted through `additionalRoutes` behind the same rules.
@Suite("Admin auth", .serialized, .timeLimit(.minutes(2)))
struct AdminAuthTests {
    static func withServer(_ body: (AdminTestServer) async throws -> Void) async throws {
        try await AdminTestServer.with(
            secrets: AdminFixtures.secrets,
            additionalRoutes: { router in router.get("/api/extra") { _, _ in "mounted" } }, { _ in }, body)
    }

    @Test("no token or a bad one: 401 with WWW-Authenticate: Bearer and a JSON error", arguments: [
        "/readyz", "/healthz", "/api/extra",
    ])
    func unauthenticated(path: String) async throws {
        try await Self.withServer { server in
            for answer in [
                try await server.get(path),
                try await server.get(path, token: "v1.k1.not-a-token"),
                try await server.get(path, authorization: "Basic b3BzOnNlY3JldA=="),
            ] {
                #expect(answer.status == 401)
                #expect(answer.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
                #expect(answer.headers["content-type"]?.hasPrefix("application/json") == true)
                let error = answer.json["error"] as? [String: Any]
                #expect(error?["code"] as? String == "UNAUTHENTICATED")
                #expect((error?["message"] as? String)?.isEmpty == false)
                #expect(!answer.body.contains("not-a-token"))  // the token is never echoed
            }
        }
    }

    @Test("a device token: 403; an operator token: through, on every route")
    func roles() async throws {
        try await Self.withServer { server in
            let device = try await server.get("/readyz", token: AdminFixtures.deviceToken)
            #expect(device.status == 403)
            #expect((device.json["error"] as? [String: Any])?["code"] as? String == "PERMISSION_DENIED")
            #expect(try await server.get("/api/extra", token: AdminFixtures.deviceToken).status == 403)

            #expect(try await server.waitUntil {
                try await server.get("/readyz", token: AdminFixtures.operatorToken).status == 200
            })
            #expect(try await server.get("/healthz", token: AdminFixtures.operatorToken).status == 200)
            let extra = try await server.get("/api/extra", token: AdminFixtures.operatorToken)
            #expect(extra.status == 200 && extra.body == "mounted")
        }
    }

    @Test("/metrics stays open to a loopback peer with auth on")
    func metricsOnLoopback() async throws {
        try await Self.withServer { server in
            let answer = try await server.get("/metrics")
            #expect(answer.status == 200)
            #expect(answer.body.contains("pisync_requests_total"))
        }
    }
}
