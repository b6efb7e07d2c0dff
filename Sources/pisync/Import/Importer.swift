import PiSyncProtocol
import PiSyncStore

/// Reads an export, parses each document, groups the events by device and sends them with
/// up to `window` RecordSyncs in flight on the connection, writing every rejected row to the
/// rejects file. Memory stays bounded: a chunk of the file, `maxPending` rows waiting for
/// their batch, and `window` batches in flight.
final class Importer {
    let reader: MongoExportReader
    let sender: BatchSender
    let rejects: RejectsFile
    let progress: ImportProgress?
    var window = 16
    private var batcher: DeviceBatcher
    private(set) var summary: ImportSummary

    init(
        file: String, reader: MongoExportReader, sender: BatchSender, batchSize: Int, rejects: RejectsFile,
        progress: ImportProgress?, maxPending: Int = 50_000
    ) {
        self.reader = reader
        self.sender = sender
        self.rejects = rejects
        self.progress = progress
        batcher = DeviceBatcher(batchSize: batchSize, maxPending: maxPending)
        summary = ImportSummary(file: file)
    }

    /// Imports the whole file; ``summary`` tells how far it got when this throws.
    func run() async throws -> ImportSummary {
        let start = ContinuousClock.now
        defer { progress?.finish() }
        try await withThrowingTaskGroup(of: BatchOutcome.self) { group in
            var inFlight = 0
            func submit(_ batches: [DeviceBatch]) async throws {
                for batch in batches {
                    if inFlight >= window, let outcome = try await group.next() {
                        try record(outcome)
                        inFlight -= 1
                    }
                    group.addTask { [sender] in try await sender.send(batch) }
                    inFlight += 1
                }
            }
            while let row = try reader.next() {
                summary.documents += 1
                if summary.documents & 0xFF == 1 {
                    progress?.update(bytes: reader.bytesConsumed, documents: summary.documents)
                }
                do {
                    let event = try Self.event(of: row)
                    var withoutDevice = event
                    withoutDevice.deviceID = ""
                    try await submit(batcher.add(ImportRow(position: row.position, event: withoutDevice, document: row.document), deviceID: event.deviceID))
                } catch let violation as FieldViolation {
                    try reject(ImportRejection(position: row.position, field: violation.field, message: violation.message, document: row.document))
                }
            }
            try await submit(batcher.drain())
            while let outcome = try await group.next() {
                try record(outcome)
            }
        }
        progress?.update(bytes: reader.bytesConsumed, documents: summary.documents, last: true)
        summary.format = reader.format?.rawValue ?? ""
        summary.warnings = reader.warnings
        summary.seconds = (ContinuousClock.now - start).inSeconds
        return summary
    }

    private static func event(of row: ExportRow) throws(FieldViolation) -> Pisync_V1_SyncEvent {
        if let problem = row.problem { throw problem }
        return try SeedDocument.event(from: row.document)
    }

    private func record(_ outcome: BatchOutcome) throws {
        summary.imported += outcome.accepted
        summary.duplicates += outcome.duplicates
        for rejection in outcome.rejections { try reject(rejection) }
    }

    private func reject(_ rejection: ImportRejection) throws {
        summary.rejected += 1
        try rejects.append(rejection)
    }
}
