import NIOCore
import PiSyncProtocol
import PiSyncStore

/// What a connection writes: a response to encode, or an alert whose body was encoded once for
/// every subscriber (``EncodedAlert``).
enum OutboundFrame: Sendable {
    case response(Pisync_V1_Response)
    /// A `Response` with `id` = `subscriptionID` and `failure_alert` = the encoded alert.
    case alert(subscriptionID: UInt64, EncodedAlert)
    /// `Response{id, record_sync: {accepted, duplicates}}` with no rejections: the answer to
    /// almost every RecordSync, encoded by hand without building the message.
    case acknowledgement(id: UInt64, accepted: UInt32, duplicates: UInt32)
    /// Frames encoded already (a burst's answers, coalesced into one buffer by the connection).
    case encoded(ByteBuffer)

    /// The id of the request it answers (0 for coalesced frames).
    var id: UInt64 {
        switch self {
        case .response(let response): response.id
        case .alert(let subscriptionID, _): subscriptionID
        case .acknowledgement(let id, _, _): id
        case .encoded: 0
        }
    }

    /// The frame as a message (tests, logs).
    var asResponse: Pisync_V1_Response {
        switch self {
        case .response(let response):
            return response
        case .alert(let subscriptionID, let alert):
            return .with {
                $0.id = subscriptionID
                $0.failureAlert = (try? .init(serializedBytes: alert.bytes)) ?? .init()
            }
        case .acknowledgement(let id, let accepted, let duplicates):
            return .with {
                $0.id = id
                $0.recordSync = .with { $0.accepted = accepted; $0.duplicates = duplicates }
            }
        case .encoded(var buffer):
            // The first frame of the buffer.
            guard let body = try? FrameCodec.readFrame(from: &buffer, maxFrameSize: .max) else { return .init() }
            return (try? Pisync_V1_Response(serializedBytes: Array(body.readableBytesView))) ?? .init()
        }
    }
}

/// A `pisync.v1.FailureAlert` serialized once, shared by every subscriber it goes to.
struct EncodedAlert: Sendable {
    /// The alert's sequence number.
    let sequence: UInt64
    /// The alerting device (subscriptions may filter on it).
    let deviceID: String
    /// The serialized `FailureAlert`, or `DeviceRecovered`, message.
    let bytes: [UInt8]
    /// Its field number in `Response`.
    let field: UInt8

    static let failureAlertField: UInt8 = 7
    static let recoveredField: UInt8 = 11

    init(_ alert: FailureAlert) {
        sequence = alert.sequence
        deviceID = alert.deviceID
        // Serializing a message with no required fields and no unknown fields cannot fail.
        if let recovery = alert.recovery {
            field = Self.recoveredField
            bytes = (try? Pisync_V1_DeviceRecovered(alert, recovery).serializedBytes()) ?? []
        } else {
            field = Self.failureAlertField
            bytes = (try? Pisync_V1_FailureAlert(alert).serializedBytes()) ?? []
        }
    }
}

/// Frames outbound messages: responses are serialized here; an alert's frame is its shared
/// body behind the two fields that differ per subscriber, the same bytes swift-protobuf would
/// write for the whole `Response`.
struct OutboundFrameEncoder: MessageToByteEncoder, Sendable {
    typealias OutboundIn = OutboundFrame

    /// `Response.id`: field 1, varint.
    private static let idTag: UInt8 = 1 << 3
    /// `Response.record_sync`: field 3, length-delimited.
    private static let recordSyncTag: UInt8 = 3 << 3 | 2
    /// `RecordSyncResponse.accepted` and `.duplicates`: fields 1 and 2, varint.
    private static let acceptedTag: UInt8 = 1 << 3
    private static let duplicatesTag: UInt8 = 2 << 3

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
            out.writeInteger(alert.field << 3 | 2)  // length-delimited
            FrameCodec.writeVarint(UInt64(alertLength), into: &out)
            out.writeBytes(alert.bytes)
        case .encoded(var buffer):
            out.writeBuffer(&buffer)
        case .acknowledgement(let id, let accepted, let duplicates):
            // Fields at their default are left out, as swift-protobuf does.
            let acceptedLength = accepted == 0 ? 0 : 1 + Self.varintLength(UInt64(accepted))
            let duplicatesLength = duplicates == 0 ? 0 : 1 + Self.varintLength(UInt64(duplicates))
            let innerLength = acceptedLength + duplicatesLength
            let idLength = id == 0 ? 0 : 1 + Self.varintLength(id)
            FrameCodec.writeVarint(UInt64(idLength + 2 + innerLength), into: &out)  // inner < 128 bytes
            if id != 0 {
                out.writeInteger(Self.idTag)
                FrameCodec.writeVarint(id, into: &out)
            }
            out.writeInteger(Self.recordSyncTag)
            out.writeInteger(UInt8(innerLength))
            if accepted != 0 {
                out.writeInteger(Self.acceptedTag)
                FrameCodec.writeVarint(UInt64(accepted), into: &out)
            }
            if duplicates != 0 {
                out.writeInteger(Self.duplicatesTag)
                FrameCodec.writeVarint(UInt64(duplicates), into: &out)
            }
        }
    }

    private static func varintLength(_ value: UInt64) -> Int {
        max(1, (64 - value.leadingZeroBitCount + 6) / 7)
    }
}
