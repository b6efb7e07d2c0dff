import Foundation
import PiSyncAdmin
import PiSyncProtocol
import Testing

@Suite("REST gateway: one store with the binary protocol, restarts, its documents", .timeLimit(.minutes(3)))
struct RESTGatewayTests {
    @Test("an event recorded over the binary protocol is in the REST history, and a REST retry of it is a duplicate")
    func binaryToREST() async throws {
        try await RESTTestServer.with { server in
            let client = try await server.client()
            defer { client.close() }
            let recorded = try await client.recordSync(events: [.with {
                $0.deviceID = "pibox-7"
                $0.timestamp = 1_795_856_400_000
                $0.totalFilesSynced = 3
                $0.totalErrors = 1
                $0.internetSpeed = 1.5
            }])
            #expect(recorded.accepted == 1)
            let history = try await server.request("GET", "/api/device/pibox-7/sync-history")
            #expect(history.json?["events"] == [[
                "device_id": "pibox-7", "timestamp": "2026-11-28T09:00:00.000Z", "total_files_synced": 3,
                "total_errors": 1, "internet_speed": .number(1.5), "sync_status": "partial",
            ]])
            let retry = try await server.post([
                "device_id": "pibox-7", "timestamp": "2026-11-28T09:00:00Z", "total_files_synced": 9, "total_errors": 0,
                "internet_speed": 1,
            ])
            #expect(retry.status == 200 && retry.json?["duplicate"] == true)
            #expect(retry.json?["data"]?["total_files_synced"] == 3)
        }
    }

    @Test("an event posted over REST survives a restart of the application")
    func survivesRestart() async throws {
        let scratch = try RESTTestServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let data = scratch.appendingPathComponent("data").path
        try await RESTTestServer.with(dataDirectory: data) { server in
            let first = try await server.post(RESTRecordTests.example)
            #expect(first.status == 201)
        }
        try await RESTTestServer.with(dataDirectory: data) { server in
            let history = try await server.request("GET", "/api/device/pibook-001/sync-history")
            #expect(history.json?["total"] == 1)
            #expect(history.json?["events"]?.firstEvent?["timestamp"] == "2026-11-28T08:00:00.000Z")
            let client = try await server.client()
            defer { client.close() }
            #expect(try await client.history(deviceID: "pibook-001").events.first?.totalFilesSynced == 12)
            #expect(try await server.post(RESTRecordTests.example).status == 200)
        }
    }

    @Test("/openapi.json is OpenAPI 3 JSON describing every route, its bodies and errors")
    func openAPI() async throws {
        try await RESTTestServer.with { server in
            let answer = try await server.request("GET", "/openapi.json")
            #expect(answer.status == 200 && answer.header("Content-Type")?.hasPrefix("application/json") == true)
            let document = try #require(answer.json)
            #expect(document["openapi"] == "3.0.3")
            guard case .object(let paths) = document["paths"] else { Issue.record("no paths"); return }
            let routes = paths.flatMap { path, item -> [String] in
                guard case .object(let operations) = item else { return [] }
                return operations.map { "\($0.key.uppercased()) \(path)" }
            }
            #expect(Set(routes) == [
                "POST /api/sync-event", "GET /api/device/{id}/sync-history", "GET /api/devices/repeated-failures",
                "GET /openapi.json", "GET /api-docs",
            ])
            let post = document["paths"]?["/api/sync-event"]?["post"]
            guard case .object(let responses) = post?["responses"] else { Issue.record("no responses"); return }
            #expect(Set(responses.map(\.key)) == ["200", "201", "400", "413", "415", "429", "503"])
            // Every $ref names a schema the document defines.
            for reference in answer.text.matches(of: /"\$ref": "#\/components\/schemas\/(\w+)"/) {
                #expect(document["components"]?["schemas"]?[String(reference.1)] != nil, "\(reference.1)")
            }
            #expect(document["components"]?["schemas"]?["SyncEventInput"]?["required"]?.strings
                == ["device_id", "timestamp", "total_files_synced", "total_errors", "internet_speed"])
        }
    }

    @Test("/api-docs is a self-contained HTML page describing each route")
    func apiDocs() async throws {
        try await RESTTestServer.with { server in
            let answer = try await server.request("GET", "/api-docs")
            #expect(answer.status == 200 && answer.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(answer.text.hasPrefix("<!DOCTYPE html>") && answer.text.contains("</html>"))
            for path in ["/api/sync-event", "/api/device/{id}/sync-history", "/api/devices/repeated-failures"] {
                #expect(answer.text.contains("<code>\(path)</code>"), "\(path)")
            }
            #expect(answer.text.contains("total_errors") && answer.text.contains("INVALID_ARGUMENT"))
            // Nothing fetched from elsewhere: no scripts, no external style sheets or images.
            #expect(!answer.text.contains("<script") && !answer.text.contains("src=") && !answer.text.contains("<link"))
        }
    }
}

extension JSONValue {
    /// The first element of an array.
    var firstEvent: JSONValue? { if case .array(let elements) = self { elements.first } else { nil } }

    /// The strings of an array of strings.
    var strings: [String] {
        guard case .array(let elements) = self else { return [] }
        return elements.compactMap { if case .string(let text) = $0 { text } else { nil } }
    }
}
