import NIOCore
import PiSyncProtocol
import PiSyncStore

/// What a connection writes: a response to encode, or an alert whose body was encoded once for
/// every subscriber (``EncodedAlert``).
enum OutboundFrame: Sendable {
    case response(Pisync_V1_Response)
    /// A `Response` with `id` = `subscriptionID` and `failure_alert` = the encoded alert.
    case alert(subscriptionID: UInt64, EncodedAlert)
}

/// A `pisync.v1.FailureAlert` serialized once, shared by every subscriber it goes to.
struct EncodedAlert: Sendable {
    /// The alert's sequence number.
    let sequence: UInt64
    /// The serialized `FailureAlert` message.
    let bytes: [UInt8]

    init(_ alert: FailureAlert) {
        sequence = alert.sequence
        // Serializing a message with no required fields and no unknown fields cannot fail.
        bytes = (try? Pisync_V1_FailureAlert(alert).serializedBytes()) ?? []
    }
}

/// Frames outbound messages: responses are serialized here; an alert's frame is its shared
/// body behind the two fields that differ per subscriber, the same bytes swift-protobuf would
/// write for the whole `Response`.
struct OutboundFrameEncoder: MessageToByteEncoder, Sendable {
    typealias OutboundIn = OutboundFrame

    /// `Response.id`: field 1, varint.
    private static let idTag: UInt8 = 1 << 3
    /// `Response.failure_alert`: field 7, length-delimited.
    private static let failureAlertTag: UInt8 = 7 << 3 | 2

    func encode(data: OutboundFrame, out: inout ByteBuffer) throws {
        switch data {
        case .response(let response):
            let body: [UInt8] = try response.serializedBytes()
            FrameCodec.writeFrame(body, into: &out)
        case .alert(let subscriptionID, let alert):
            let idLength = subscriptionID == 0 ? 0 : 1 + Self.varintLength(subscriptionID)
            let alertLength = alert.bytes.count
            let bodyLength = idLength + 1 + Self.varintLength(UInt64(alertLength)) + alertLength
            FrameCodec.writeVarint(UInt64(bodyLength), into: &out)
            if subscriptionID != 0 {
                out.writeInteger(Self.idTag)
                FrameCodec.writeVarint(subscriptionID, into: &out)
            }
            out.writeInteger(Self.failureAlertTag)
            FrameCodec.writeVarint(UInt64(alertLength), into: &out)
            out.writeBytes(alert.bytes)
        }
    }

    private static func varintLength(_ value: UInt64) -> Int {
        max(1, (64 - value.leadingZeroBitCount + 6) / 7)
    }
}
