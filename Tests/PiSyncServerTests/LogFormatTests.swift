import Foundation
import Testing

/// `pisync serve --log-format json` (issue 9): one JSON object per line, swift-log's metadata
/// as fields.
@Suite("Log format", .timeLimit(.minutes(1)))
struct LogFormatTests {
    @Test("--log-format json writes one JSON object per line, with a connection's metadata as fields; an unknown format is refused")
    func jsonLines() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await ServeProcess(
            in: directory, arguments: ["--data-dir", "data", "--log-format", "json", "--log-level", "debug"])
        let raw = try await RawConnection.connect(port: server.port)
        try await raw.sendBody([0xFF, 0xFF])  // not a Request: logged at debug with the connection's metadata
        _ = try await raw.next()
        await raw.close()
        #expect(try await server.stop() == 0)

        let lines = server.log.split(separator: "\n").filter { !$0.isEmpty }
        let objects = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        }
        #expect(objects.allSatisfy { $0["time"] is String && $0["level"] is String && $0["message"] is String })
        let listening = try #require(objects.first { ($0["message"] as? String)?.hasPrefix("pisync") == true && ($0["message"] as? String)?.contains("listening on") == true })
        #expect(listening["level"] as? String == "info" && listening["label"] as? String == "pisync")
        let undecodable = try #require(objects.first { $0["message"] as? String == "undecodable frame" })
        #expect(undecodable["connection"] is String && (undecodable["peer"] as? String)?.contains("127.0.0.1") == true)
        #expect(undecodable["error"] is String)

        let bad = try await ServeProcess(
            in: directory, arguments: ["--data-dir", "data2", "--log-format", "xml"], waitForListening: false)
        #expect(try await bad.waitForExit() != 0)
        #expect(bad.log.contains("log format 'xml' is not one of json, text"), "\(bad.log)")
    }
}
