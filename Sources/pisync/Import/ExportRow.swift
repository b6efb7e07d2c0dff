import PiSyncStore

/// One document as ``MongoExportReader`` found it: its position and its bytes, or why it
/// cannot be read at all (too large, cut off by the end of the file).
struct ExportRow: Sendable {
    let position: ExportPosition
    /// The document's JSON, without surrounding whitespace (empty when too large to keep).
    let document: [UInt8]
    /// Set when the row is refused before parsing.
    let problem: FieldViolation?

    init(_ position: ExportPosition, _ document: [UInt8], problem: FieldViolation? = nil) {
        self.position = position
        self.document = document
        self.problem = problem
    }
}
