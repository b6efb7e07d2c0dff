/// What the server made of a batch: events stored, already stored, and refused.
struct BatchOutcome: Sendable {
    var accepted = 0
    var duplicates = 0
    var rejections: [ImportRejection] = []

    static func + (lhs: BatchOutcome, rhs: BatchOutcome) -> BatchOutcome {
        BatchOutcome(
            accepted: lhs.accepted + rhs.accepted, duplicates: lhs.duplicates + rhs.duplicates,
            rejections: lhs.rejections + rhs.rejections)
    }
}
