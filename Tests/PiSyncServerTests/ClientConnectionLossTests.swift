import PiSyncClient
import PiSyncProtocol
import Testing

/// A client whose connection the server has closed gets an error from its next call.
@Suite("Client after the connection is lost", .timeLimit(.minutes(1)))
struct ClientConnectionLossTests {
    // Regression: a request written after the connection closed registered its response
    // promise, the write failed, and nothing ever completed the promise: the caller hung (and
    // a debug build trapped on the leaked promise). The kill -9 crash test found it.
    @Test("a call on a connection the server closed throws instead of hanging")
    func callAfterServerClosed() async throws {
        try await TestServer.with({ $0.idleTimeout = .milliseconds(100) }) { server in
            let client = try await server.client()
            defer { client.close() }
            _ = try? await client.ping()  // on a busy machine the idle timeout may already have won
            #expect(await eventually { server.server.connectionCount == 0 })
            try await Task.sleep(for: .milliseconds(100))
            await #expect(throws: (any Error).self) { _ = try await client.ping() }
            await #expect(throws: (any Error).self) { _ = try await client.subscribeFailureAlerts() }
        }
    }
}
