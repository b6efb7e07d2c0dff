import ArgumentParser

/// `pisync`: the PiSync server and its operator CLI.
@main
struct PiSyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pisync",
        abstract: "Sync-event backend for fleets of offline-first learning devices.",
        subcommands: [
            Serve.self, Record.self, History.self, Failures.self, Watch.self, Relay.self, Ping.self, Import.self, Archive.self,
            Repair.self, Token.self,
        ]
    )
}
