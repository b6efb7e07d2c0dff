import ArgumentParser

/// `pisync durability-bench`: the measurements behind docs/durability.md that need millions of
/// events: filling a data directory, and RecordSync latency while a snapshot is written.
struct DurabilityBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "durability-bench",
        abstract: "Measure restart and snapshot costs at scale (see docs/durability.md).",
        subcommands: [Fill.self, SnapshotLatency.self])
}
