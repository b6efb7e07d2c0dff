import ArgumentParser
import Foundation
import PiSyncClient
import PiSyncProtocol

/// `pisync record`: reports one sync.
struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Record one sync event.")

    @Option(name: .long, help: "Device id: 1-128 characters from A-Z a-z 0-9 . _ : -")
    var device: String

    @Option(name: .long, help: "Files synced.")
    var files: UInt32

    @Option(name: .long, help: "Errors during the sync.")
    var errors: UInt32

    // Unconditional, so that a negative value reaches the server and gets its precise error.
    @Option(name: .long, parsing: .unconditional, help: "Internet speed in Mbps.")
    var speed: Float

    @Option(
        name: .long, parsing: .unconditional,
        help: "When the sync happened: ISO 8601 or Unix milliseconds (default: now).")
    var timestamp: String?

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let millis = try timestamp.map(Self.parseTimestamp) ?? Int64(Date().timeIntervalSince1970 * 1000)
        let event = Pisync_V1_SyncEvent.with {
            $0.deviceID = device
            $0.timestamp = millis
            $0.totalFilesSynced = files
            $0.totalErrors = errors
            $0.internetSpeed = speed
        }
        try await client.withClient { connection in
            let result = try await connection.recordSync(events: [event])
            if client.json { return try Output.printJSON(result) }
            Output.printTable(
                ["ACCEPTED", "DUPLICATES", "REJECTED", "TIMESTAMP"],
                [["\(result.accepted)", "\(result.duplicates)", "\(result.rejected.count)", Output.time(millis)]])
            for rejection in result.rejected {
                print("rejected event \(rejection.index) [\(rejection.field)]: \(rejection.message)")
            }
        }
    }

    /// Reads Unix milliseconds or an ISO 8601 date (with or without fractional seconds).
    static func parseTimestamp(_ text: String) throws -> Int64 {
        if let millis = Int64(text) { return millis }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime],
        ] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) {
                return Int64((date.timeIntervalSince1970 * 1000).rounded())
            }
        }
        throw ValidationError("--timestamp '\(text)' is neither Unix milliseconds nor ISO 8601 (2026-11-29T10:00:00Z)")
    }
}
