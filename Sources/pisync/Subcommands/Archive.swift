import ArgumentParser

/// `pisync archive`: the events retention moved out of the server's memory.
struct Archive: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the archive of events retention moved out of memory.",
        subcommands: [ArchiveRead.self])
}
