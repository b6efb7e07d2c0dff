import ArgumentParser
import Foundation
import PiSyncPersistence
import PiSyncStore

/// `pisync archive read`: prints archived events, reading the data directory's archive files
/// directly (no server needed; safe while one runs).
struct ArchiveRead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Print archived events, by day, each device's oldest first.",
        discussion: """
            Reads DIR/archive/YYYY-MM-DD.pisync directly: it works with the server stopped or \
            running. A day is the UTC day of the event's timestamp.
            """)

    @Option(help: "Only this device's events.") var device: String?
    @Option(help: "Only the events of this UTC day, YYYY-MM-DD.") var day: String?
    @Option(help: "The data directory (PISYNC_DATA_DIR; default ./pisync-data).") var dataDir: String?
    @Flag(help: "One JSON object per event, fields under their proto names.") var json = false

    func run() throws {
        let directory = try SettingsSource.current().value(dataDir, "DATA_DIR") ?? "./pisync-data"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("data-dir '\(directory)' is not a directory")
        }
        let selectedDay = try day.map { text throws(ValidationError) in
            guard let parsed = ArchiveDay(text) else { throw ValidationError("day must be a date YYYY-MM-DD, got '\(text)'") }
            return parsed
        }
        var rows: [[String]] = []
        var count = 0
        try ArchiveReader(dataDirectory: directory).read(day: selectedDay, deviceID: device) { event in
            count += 1
            if json {
                print(String(decoding: try Output.json(event.jsonView), as: UTF8.self))
            } else {
                rows.append([
                    event.deviceID, Output.time(event.timestamp), event.status.label, "\(event.filesSynced)",
                    "\(event.errors)", "\(event.internetSpeed)",
                ])
            }
        }
        guard !json else { return }
        Output.printTable(["DEVICE", "TIMESTAMP", "STATUS", "FILES", "ERRORS", "SPEED_MBPS"], rows)
        print("\(count) archived \(count == 1 ? "event" : "events") in \(directory)/archive")
    }
}

extension SyncEvent {
    /// The event as `--json` prints a wire event.
    var jsonView: JSONView.Event {
        .init(
            deviceId: deviceID, timestamp: timestamp, totalFilesSynced: filesSynced, totalErrors: errors,
            internetSpeed: internetSpeed, syncStatus: "SYNC_STATUS_" + status.label.uppercased())
    }
}

extension SyncStatus {
    /// The status in lower case, as `history` prints it.
    var label: String {
        switch self {
        case .success: "success"
        case .partial: "partial"
        case .failed: "failed"
        }
    }
}
