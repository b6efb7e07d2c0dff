import PiSyncAdmin
import Testing

@Suite("REST gateway: refused requests name their field", .timeLimit(.minutes(3)))
struct RESTValidationTests {
    /// A refused POST: its body, the status, field and a fragment of the message expected.
    struct Case: Sendable, CustomStringConvertible {
        var body: String
        var status: Int = 400
        var field: String
        var message: String
        var contentType = "application/json"
        var description: String { "\(field): \(message)" }
    }

    static let good = #""device_id":"pibook-001","timestamp":"2026-11-28T08:00:00Z","total_files_synced":12"#
    static let cases: [Case] = [
        Case(body: "{\(good),\"internet_speed\":8.5}", field: "total_errors", message: "total_errors is required"),
        Case(body: "{\(good),\"total_errors\":null,\"internet_speed\":8.5}", field: "total_errors", message: "total_errors is required"),
        Case(body: "{\(good),\"total_errors\":\"0\",\"internet_speed\":8.5}", field: "total_errors",
             message: "total_errors must be a number, got a string"),
        Case(body: "{\(good),\"total_errors\":-1,\"internet_speed\":8.5}", field: "total_errors",
             message: "total_errors must be a whole number from 0 to 4294967295, got -1"),
        Case(body: "{\(good),\"total_errors\":1.5,\"internet_speed\":8.5}", field: "total_errors", message: "got 1.5"),
        Case(body: "{\(good),\"total_errors\":4294967296,\"internet_speed\":8.5}", field: "total_errors", message: "got 4294967296"),
        Case(body: #"{"device_id":42,"timestamp":1795852800000,"total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             field: "device_id", message: "device_id must be a string, got a number"),
        Case(body: #"{"device_id":"bad id","timestamp":1795852800000,"total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             field: "device_id", message: "device_id may contain only A-Z a-z 0-9 . _ : -"),
        Case(body: #"{"device_id":"","timestamp":1795852800000,"total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             field: "device_id", message: "device_id is required"),
        Case(body: #"{"device_id":"d","timestamp":"yesterday","total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             field: "timestamp", message: "timestamp 'yesterday' is not an ISO 8601 date-time"),
        Case(body: #"{"device_id":"d","timestamp":"2026-11-28T08:00:00","total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             field: "timestamp", message: "expected a time zone"),
        Case(body: #"{"device_id":"d","timestamp":"2026-02-30T08:00:00Z","total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             field: "timestamp", message: "day 30 does not exist in 2026-02"),
        Case(body: #"{"device_id":"d","timestamp":1795852800000.5,"total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             field: "timestamp", message: "whole Unix milliseconds"),
        Case(body: #"{"device_id":"d","timestamp":true,"total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             field: "timestamp", message: "got a boolean"),
        Case(body: #"{"device_id":"d","timestamp":"1999-12-31T23:59:59Z","total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             field: "timestamp", message: "is before the earliest accepted"),
        Case(body: #"{"device_id":"d","timestamp":"2999-01-01T00:00:00Z","total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             field: "timestamp", message: "in the future"),
        Case(body: "{\(good),\"total_errors\":0,\"internet_speed\":-3}", field: "internet_speed",
             message: "internet_speed must be a finite number >= 0 Mbps, got -3.0"),
        Case(body: "{\(good),\"total_errors\":0,\"internet_speed\":\"fast\"}", field: "internet_speed",
             message: "internet_speed must be a number (Mbps), got a string"),
        Case(body: "{\(good),\"total_errors\":0,\"internet_speed\":1e300}", field: "internet_speed", message: "out of range"),
        Case(body: "{\(good),", field: "body", message: "the body is not valid JSON"),
        Case(body: "", field: "body", message: "the body is not valid JSON"),
        Case(body: "[{\(good),\"total_errors\":0,\"internet_speed\":1}]", field: "body",
             message: "the body must be a JSON object (one sync event), got an array"),
        Case(body: "{\(good),\"total_errors\":0,\"internet_speed\":1}", status: 415, field: "Content-Type",
             message: "send Content-Type: application/json, got 'text/plain'", contentType: "text/plain"),
        Case(body: "{\"device_id\":\"\(String(repeating: "x", count: 200 * 1024))\"}", status: 413, field: "body",
             message: "over the limit of 102400 bytes"),
    ]

    @Test("a refused event gets its status, INVALID_ARGUMENT (or the limit's code) and the field; nothing is stored",
          arguments: cases)
    func refused(_ refused: Case) async throws {
        try await RESTTestServer.with { server in
            let answer = try await server.request(
                "POST", "/api/sync-event", body: refused.body, contentType: refused.contentType)
            #expect(answer.status == refused.status, "\(answer.text)")
            #expect(answer.errorField == refused.field, "\(answer.text)")
            #expect(answer.errorMessage.contains(refused.message), "\(answer.text)")
            #expect(answer.errorCode == (refused.status == 413 ? "RESOURCE_EXHAUSTED" : "INVALID_ARGUMENT"))
            #expect(server.application.store.changeCount == 0)
        }
    }

    @Test("a body with no Content-Type is refused with 415")
    func noContentType() async throws {
        try await RESTTestServer.with { server in
            let answer = try await server.request("POST", "/api/sync-event", body: "{}", contentType: String?.none)
            #expect(answer.status == 415 && answer.errorField == "Content-Type")
        }
    }

    @Test("unknown members are ignored, as the seed's schema did; application/json with a charset is JSON")
    func lenientInput() async throws {
        try await RESTTestServer.with { server in
            let answer = try await server.request(
                "POST", "/api/sync-event",
                body: "{\(Self.good),\"total_errors\":0,\"internet_speed\":1,\"sync_status\":\"failed\",\"_id\":\"x\"}",
                contentType: "application/json; charset=utf-8")
            #expect(answer.status == 201)
            #expect(answer.json?["data"]?["sync_status"] == .string("success"))
        }
    }
}
