import ArgumentParser
import PiSyncPersistence

/// `pisync repair`: truncates a damaged write-ahead log at its first damage so the server can
/// start, and reports what that dropped. Run it with the server stopped.
struct Repair: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Truncate a damaged write-ahead log so the server can start (run with the server stopped).",
        discussion: """
            The server refuses to start when a log record before the end of the log is damaged. \
            This command cuts the log at that record, deletes the segments after it, and prints \
            the sequence numbers and the number of events dropped. Events in dropped records are \
            lost unless the devices send them again.
            """)

    @Option(help: "The data directory (PISYNC_DATA_DIR; default ./pisync-data).") var dataDir: String?

    func run() throws {
        let directory = try SettingsSource.current().value(dataDir, "DATA_DIR") ?? "./pisync-data"
        let lock = try DataDirectoryLock(directory: directory)  // refuses while a server runs on it
        let report = try withExtendedLifetime(lock) { try LogRepair.repair(directory: directory) }
        print(report)
    }
}
