import ArgumentParser

/// `pisync-bench`: the measurements behind docs/performance.md and docs/durability.md, kept
/// out of the shipped `pisync` binary.
@main
struct PiSyncBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pisync-bench",
        abstract: "Benchmarks and load tools for PiSync; compare ratios within one run, not absolute numbers.",
        subcommands: [Load.self, EchoServer.self, Scale.self, RoundTrips.self, PiSyncBenchCommand.Fill.self, PiSyncBenchCommand.SnapshotLatency.self])
}
