import ArgumentParser
import PiSyncClient
import PiSyncProtocol

/// `pisync history`: a device's syncs, newest first.
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a device's sync history, newest first.")

    @Argument(help: "The device id.")
    var device: String

    @Option(name: .long, help: "Page number, from 1.")
    var page: UInt32 = 1

    @Option(name: .long, help: "Events per page, 1-100.")
    var limit: UInt32 = 10

    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withClient { connection in
            let result = try await connection.history(deviceID: device, page: page, limit: limit)
            if client.json { return try Output.printJSON(result) }
            Output.printTable(
                ["TIMESTAMP", "STATUS", "FILES", "ERRORS", "SPEED_MBPS"],
                result.events.map {
                    [Output.time($0.timestamp), $0.syncStatus.label, "\($0.totalFilesSynced)", "\($0.totalErrors)",
                     "\($0.internetSpeed)"]
                })
            let held = result.total - min(result.archived, result.total)
            let pages = max(1, (held + UInt64(result.limit) - 1) / UInt64(result.limit))
            print("device \(device): page \(result.page) of \(pages), \(result.total) \(result.total == 1 ? "event" : "events")")
            if result.archived > 0 {
                print(
                    "the oldest \(result.archived) (up to \(Output.time(result.archivedThrough))) are archived, in no page: "
                        + "pisync archive read --device \(device)")
            }
        }
    }
}

extension Pisync_V1_SyncStatus {
    /// The status in lower case, as the seed API printed it.
    var label: String {
        switch self {
        case .success: "success"
        case .partial: "partial"
        case .failed: "failed"
        default: "unspecified"
        }
    }
}
