import ArgumentParser
import Foundation
import NIOCore
import PiSyncClient
import PiSyncProtocol

#if canImport(Glibc)
import Glibc
#endif

/// `pisync import FILE`: loads a `mongoexport` of the seed REST service's SyncEvent collection
/// into a running server (docs/operations.md, "Importing from the REST service").
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a mongoexport of the REST service's SyncEvent collection into a running server.",
        discussion: """
            FILE is JSON lines (mongoexport's default) or a JSON array (--jsonArray), in relaxed or \
            canonical Extended JSON. Rows are deduplicated on (device_id, timestamp): ones the server \
            already has, and repeats within the file, count as duplicates. The seed's sync_status is \
            ignored: PiSync derives it. Exit status: 0 when every row was imported or a duplicate, \
            1 when some were rejected (they are in the rejects file) or the server refused the import, \
            2 when the server cannot be reached or the connection is lost (running it again is safe).
            """)

    @Argument(help: "The mongoexport file.")
    var file: String

    @Option(name: .long, help: ArgumentHelp("Where to write the rejected rows, one JSON line each (default: FILE.rejects.jsonl).", valueName: "path"))
    var rejects: String?

    @Flag(name: .long, help: "Show the progress bar even when standard error is not a terminal.")
    var progress = false

    @OptionGroup var client: ClientOptions

    func run() async throws {
        let reader = try Self.validated { () throws(ImportError) in try MongoExportReader(path: file) }
        let rejectsPath = rejects ?? RejectsFile.defaultPath(for: file)
        guard Self.canonical(rejectsPath) != Self.canonical(file) else {
            throw ValidationError("--rejects names the input file \(file)")
        }
        // Next to a pipe such as <(mongoexport ...) there is nowhere to write.
        let rejectsFile = try Self.validated(rejects == nil ? " (give --rejects PATH)" : "") { () throws(ImportError) in
            try RejectsFile(path: rejectsPath)
        }
        let bar = progress || isatty(STDERR_FILENO) == 1 ? ImportProgress(totalBytes: reader.totalBytes) : nil
        do {
            try await importFile(reader, rejectsFile, progress: bar)
        } catch {
            try? rejectsFile.finish()  // an unreachable server leaves no empty rejects file behind
            throw error
        }
    }

    private func importFile(_ reader: MongoExportReader, _ rejectsFile: RejectsFile, progress bar: ImportProgress?) async throws {
        try await client.withClient { connection in
            let limits = try await connection.ping()
            let importer = Importer(
                file: file, reader: reader,
                sender: BatchSender { device, events in try await connection.recordSync(deviceID: device, events: events) },
                batchSize: Self.batchSize(limits), rejects: rejectsFile, progress: bar)
            var summary: ImportSummary
            do {
                summary = try await importer.run()
                try rejectsFile.finish()
            } catch {
                try? rejectsFile.finish()
                throw Self.stopped(by: error, importer.summary, rejectsFile)
            }
            summary.rejectsFile = rejectsFile.count > 0 ? rejectsFile.path : ""
            if client.json {
                print(String(decoding: try Output.json(summary), as: UTF8.self))
            } else {
                Self.printSummary(summary, rejectsFile)
            }
            if summary.rejected > 0 { throw ExitCode(1) }
        }
    }

    /// Events per RecordSync: the server's `max_batch_size`, and no more than fit its frame
    /// limit (an event without its device id takes at most 26 bytes; 40 leaves room).
    static func batchSize(_ limits: Pisync_V1_PingResponse) -> Int {
        let byFrame = max(1, Int(limits.maxFrameSize) / 40)
        return max(1, min(Int(limits.maxBatchSize == 0 ? 1000 : limits.maxBatchSize), byFrame))
    }

    static func printSummary(_ summary: ImportSummary, _ rejects: RejectsFile) {
        Output.printTable(
            ["DOCUMENTS", "IMPORTED", "DUPLICATES", "REJECTED", "SECONDS"],
            [["\(summary.documents)", "\(summary.imported)", "\(summary.duplicates)", "\(summary.rejected)",
              String(format: "%.2f", summary.seconds)]])
        for warning in summary.warnings { print("warning: \(warning)") }
        guard summary.rejected > 0 else { return }
        for rejection in rejects.first { print("rejected \(rejection.summaryLine)") }
        if summary.rejected > rejects.first.count {
            print("... and \(summary.rejected - rejects.first.count) more")
        }
        print("\(summary.rejected) rejected row\(summary.rejected == 1 ? "" : "s") with the reason for each: \(rejects.path)")
    }

    /// Says why the import stopped half-way and how far it got, and returns the exit status:
    /// 1 for a server error or an unreadable file, 2 for a lost connection.
    static func stopped(by error: any Error, _ summary: ImportSummary, _ rejects: RejectsFile) -> any Error {
        let status: Int32
        switch error {
        case let error as PiSyncError:
            printError("server error: \(error)")
            status = 1
        case let error as ImportError:
            printError(error.description)
            status = 1
        case is PiSyncClientError, is ChannelError, is IOError:
            printError("lost the connection to the server: \(error)")
            status = 2
        default:
            return error
        }
        var text = "import stopped after \(summary.documents) documents (\(summary.counts) acknowledged so far)"
        if rejects.count > 0 { text += "; rejected rows so far: \(rejects.path)" }
        FileHandle.standardError.write(Data((text + "\nrunning it again is safe: rows already imported count as duplicates\n").utf8))
        return ExitCode(status)
    }

    /// `body`'s result; its failure becomes a usage error, with `hint` appended.
    private static func validated<T>(_ hint: String = "", _ body: () throws(ImportError) -> T) throws(ValidationError) -> T {
        switch Result(catching: body) {
        case .success(let value): return value
        case .failure(let error): throw ValidationError(error.description + hint)
        }
    }

    private static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
