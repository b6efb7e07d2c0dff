import ArgumentParser
import PiSyncClient

/// `pisync ping`: checks the server is alive.
struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that the server answers.")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withClient { connection in
            let start = ContinuousClock.now
            let pong = try await connection.ping()
            let elapsed = ContinuousClock.now - start
            if client.json { return try Output.printJSON(pong) }
            let millis = elapsed.inSeconds * 1000
            print("pisync \(pong.version) up \(pong.uptimeMs / 1000) s, round trip \(String(format: "%.2f", millis)) ms")
            print("limits: \(pong.maxBatchSize) events per RecordSync, frames up to \(pong.maxFrameSize) bytes")
            print("auth: \(pong.authRequired ? "required" : "off")")
            if pong.hasHealth {
                let reasons = pong.health.reasons.joined(separator: "; ")
                print("ready: \(pong.health.ready ? "yes" : "no (\(reasons))")")
            }
        }
    }
}
