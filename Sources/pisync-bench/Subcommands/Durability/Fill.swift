import ArgumentParser
import Logging
import PiSyncPersistence
import PiSyncServer

extension PiSyncBenchCommand {
    /// Fills a data directory as a long-running server would leave it after a crash: a
    /// snapshot, then log records after it.
    struct Fill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fill a data directory with a snapshot plus log (for restart measurements).")

        @Option(help: "The data directory to create (must not hold data).") var dataDir: String
        @Option(help: "Events in all.") var events = 10_000_000
        @Option(help: "Devices.") var devices = 10_000
        @Option(help: "Events recorded after the snapshot, so only in the log.") var logged = 1_000_000

        func run() async throws {
            var configuration = ServerConfiguration()
            configuration.dataDirectory = dataDir
            configuration.fsync = .never
            let logger = Logger(label: "fill", factory: { _ in SwiftLogNoOpLogHandler() })
            let before = FleetFiller.residentBytes()
            let application = try PiSyncApplication(configuration: configuration, logger: logger)
            guard application.store.changeCount == 0, application.recovery.lastSequence == 0 else {
                throw ValidationError("\(dataDir) already holds data")
            }
            let filler = FleetFiller(devices: devices)
            let now = filler.base + 86_400_000 * 60
            let clock = ContinuousClock()
            let started = clock.now
            filler.record(0..<(events - logged), into: application.store, now: now)
            try await application.snapshots.write()
            filler.record((events - logged)..<events, into: application.store, now: now)
            await application.log.close()
            let resident = FleetFiller.residentBytes()
            print("filled \(dataDir): \(events) events of \(devices) devices (\(logged) only in the log) in \(clock.now - started)")
            print("rss_bytes=\(resident) rss_growth_bytes=\(resident - before) bytes_per_event=\(Double(resident - before) / Double(events))")
        }
    }
}
