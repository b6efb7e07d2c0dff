import ArgumentParser
import Foundation
import PiSyncClient

/// `pisync watch`: streams failure alerts.
struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print failure alerts as they arrive, until Ctrl-C or the server ends the stream.")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withClient { connection in
            let alerts = try await connection.subscribeFailureAlerts()
            if !client.json {
                print("watching for \(alerts.confirmation.alertThreshold) consecutive failures (Ctrl-C to stop)")
                fflush(nil)
            }
            for try await alert in alerts {
                if client.json {
                    try Output.printJSON(alert)
                } else {
                    print(
                        "alert #\(alert.sequence): \(alert.deviceID) failed \(alert.consecutiveFailures) syncs in a row "
                            + "(\(Output.time(alert.firstFailureTimestamp)) .. \(Output.time(alert.lastFailureTimestamp)))")
                }
                fflush(nil)  // live output even when piped
            }
        }
    }
}
