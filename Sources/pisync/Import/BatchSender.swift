import PiSyncClient
import PiSyncProtocol

/// Sends a ``DeviceBatch`` as RecordSync and turns the answer into a ``BatchOutcome``,
/// following the protocol's retry guidance (docs/protocol.md, "Retries and duplicates"):
///
/// - RESOURCE_EXHAUSTED (a rate limit): wait `retry_after_ms` (or back off) and resend;
///   nothing of the batch was stored.
/// - UNAVAILABLE or INTERNAL: back off with jitter and resend, up to `maxRetries` times.
/// - INVALID_ARGUMENT with field `"events"` (the batch is over a limit): send it in halves.
/// - INVALID_ARGUMENT with another field: every event was invalid, and the answer names only
///   the first; halves until each event has its own reason.
/// - PERMISSION_DENIED (a device token for another device): every row is rejected with it.
/// - Anything else ends the import.
struct BatchSender: Sendable {
    typealias Record = @Sendable (_ deviceID: String, _ events: [Pisync_V1_SyncEvent]) async throws -> Pisync_V1_RecordSyncResponse

    let record: Record
    var maxRetries = 8
    /// The first backoff; it doubles per attempt, up to `maxBackoff`.
    var backoff: Duration = .milliseconds(100)
    var maxBackoff: Duration = .seconds(5)

    func send(_ batch: DeviceBatch) async throws -> BatchOutcome {
        var attempt = 0
        while true {
            do {
                let response = try await record(batch.deviceID, batch.rows.map(\.event))
                return outcome(of: batch, response)
            } catch let error as PiSyncError {
                attempt += 1
                switch error.status {
                case .invalidArgument? where batch.rows.count > 1:
                    let (first, second) = batch.halves
                    return try await send(first) + send(second)
                case .invalidArgument? where error.field != "events", .permissionDenied?:
                    let message = error.message.hasPrefix("event 0: ") ? String(error.message.dropFirst(9)) : error.message
                    return BatchOutcome(rejections: batch.rows.map {
                        ImportRejection(position: $0.position, field: error.field, message: message, document: $0.document)
                    })
                case .resourceExhausted? where error.retryAfterMillis > 0 && attempt <= 100 * maxRetries:
                    try await Task.sleep(for: .milliseconds(Int(error.retryAfterMillis)) + jitter(.milliseconds(20)))
                case .resourceExhausted?, .unavailable?, .internal?:
                    guard attempt <= maxRetries else { throw error }
                    try await Task.sleep(for: delay(attempt))
                default:
                    throw error
                }
            }
        }
    }

    private func outcome(of batch: DeviceBatch, _ response: Pisync_V1_RecordSyncResponse) -> BatchOutcome {
        BatchOutcome(
            accepted: Int(response.accepted), duplicates: Int(response.duplicates),
            rejections: response.rejected.map { rejected in
                let row = batch.rows.indices.contains(Int(rejected.index)) ? batch.rows[Int(rejected.index)] : nil
                return ImportRejection(
                    position: row?.position ?? .line(0), field: rejected.field, message: rejected.message, document: row?.document ?? [])
            })
    }

    /// Exponential backoff with up to half of it again as jitter.
    private func delay(_ attempt: Int) -> Duration {
        let base = min(maxBackoff, backoff * (1 << min(attempt - 1, 20)))
        return base + jitter(base / 2)
    }

    private func jitter(_ upTo: Duration) -> Duration {
        upTo * Double.random(in: 0...1)
    }
}
