import Foundation
import PiSyncProtocol
import Testing

/// `pisync watch --json`: a script reading the lines learns of lost alerts too.
@Suite("pisync watch --json", .timeLimit(.minutes(2)))
struct WatchJSONTests {
    @Test("a resume older than the server holds prints the lost-alert notice as a JSON line, before the replayed alerts")
    func lostNotice() async throws {
        let watcher: Task<ProgramRun, any Error> = try await TestServer.with({ $0.alertThreshold = 1; $0.alertHistory = 2 }) { server in
            let client = try await server.client()
            defer { client.close() }
            try await AlertResumeTests.raise(1...5, through: client)
            #expect(await eventually { server.store.currentAlertSequence == 5 })
            let port = server.port
            let watcher = Task { try await CLITests.pisync(["watch", "--from", "1", "--json"], port: port) }
            #expect(await eventually(timeout: .seconds(20)) { server.bus.subscriberCount == 1 })
            return watcher
        }
        let run = try await watcher.value
        let lines = run.output.split(separator: "\n").map(String.init)
        #expect(lines.first == #"{"alerts_lost":2,"from_sequence":1,"last_sequence":5}"#, "\(run.output)")
        let replayed = lines.dropFirst().prefix(2).compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["sequence"] as? Int
        }
        #expect(replayed == [4, 5], "\(run.output)")
    }
}
