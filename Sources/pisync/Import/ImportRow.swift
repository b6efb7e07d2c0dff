import PiSyncProtocol

/// A document read into an event, waiting to be sent, with what a rejection would report.
struct ImportRow: Sendable {
    let position: ExportPosition
    /// The event, its device id left to the batch (named once per RecordSync).
    let event: Pisync_V1_SyncEvent
    /// The document as it was in the file.
    let document: [UInt8]
}
