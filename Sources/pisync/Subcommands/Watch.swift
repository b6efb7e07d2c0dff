import ArgumentParser
import Foundation
import PiSyncClient

/// `pisync watch`: streams failure alerts.
struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print failure alerts and recoveries as they arrive, until Ctrl-C or the server ends the stream.")

    @Option(name: .long, help: "Resume after this alert's sequence number: first print every later alert the server still holds (0: all it holds).")
    var from: UInt64?

    @Option(name: .long, help: "Only alerts of devices whose id starts with this.")
    var devicePrefix: String = ""

    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withClient { connection in
            let alerts = try await connection.subscribeFailureAlerts(fromSequence: from, deviceIDPrefix: devicePrefix)
            let confirmation = alerts.confirmation
            if client.json {
                if confirmation.alertsLost > 0 {
                    let notice = JSONView.AlertsLost(
                        alertsLost: confirmation.alertsLost, fromSequence: from ?? 0, lastSequence: confirmation.lastSequence)
                    print(String(decoding: try Output.json(notice), as: UTF8.self))
                }
            } else {
                print("watching for \(confirmation.alertThreshold) consecutive failures (Ctrl-C to stop)")
                if let from, confirmation.lastSequence > from {
                    print("replaying the alerts after #\(from) up to #\(confirmation.lastSequence)")
                }
                if confirmation.alertsLost > 0 {
                    print("\(confirmation.alertsLost) alerts after #\(from ?? 0) are no longer held by the server and were lost")
                }
            }
            fflush(nil)
            for try await event in alerts.events {
                switch event {
                case .alert(let alert):
                    if client.json {
                        try Output.printJSON(alert)
                    } else {
                        print(
                            "alert #\(alert.sequence): \(alert.deviceID) failed \(alert.consecutiveFailures) syncs in a row "
                                + "(\(Output.time(alert.firstFailureTimestamp)) .. \(Output.time(alert.lastFailureTimestamp)))")
                    }
                case .recovered(let recovered):
                    if client.json {
                        try Output.printJSON(recovered)
                    } else {
                        print(
                            "recovered #\(recovered.sequence): \(recovered.deviceID) synced again (\(recovered.syncStatus.label)) "
                                + "at \(Output.time(recovered.recoveredTimestamp))")
                    }
                }
                fflush(nil)  // live output even when piped
            }
        }
    }
}
