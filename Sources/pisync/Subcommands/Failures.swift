import ArgumentParser
import PiSyncClient

/// `pisync failures`: devices with many failed syncs.
struct Failures: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List devices with more than --threshold failed syncs.")

    @Option(name: .long, help: "List devices with more failed syncs than this.")
    var threshold: UInt32 = 3

    @Option(name: .long, help: "Page number, from 1.")
    var page: UInt32 = 1

    @Option(name: .long, help: "Devices per page, 1-100.")
    var limit: UInt32 = 10

    @OptionGroup var client: ClientOptions

    func validate() throws {
        if threshold == 0 {
            throw ValidationError("--threshold must be at least 1 (0 means the default, 3, on the wire)")
        }
    }

    func run() async throws {
        try await client.withClient { connection in
            let result = try await connection.failures(threshold: threshold, page: page, limit: limit)
            if client.json { return try Output.printJSON(result) }
            Output.printTable(
                ["DEVICE", "FAILED", "TOTAL", "STREAK", "LAST_FAILURE", "LAST_SUCCESS"],
                result.devices.map {
                    [$0.deviceID, "\($0.failedSyncs)", "\($0.totalSyncs)", "\($0.consecutiveFailures)",
                     Output.time($0.lastFailureTimestamp), Output.time($0.lastSuccessTimestamp)]
                })
            print("\(result.total) \(result.total == 1 ? "device" : "devices") with more than \(result.threshold) failed syncs (page \(result.page))")
        }
    }
}
