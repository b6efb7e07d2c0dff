import NIOCore

/// Reads the one request that arrives by the hundred thousand a second, a RecordSync, straight
/// from its bytes, without swift-protobuf's generic decoder (about four fifths of its cost per
/// one-event request went to that machinery).
///
/// It reads only the plain shape: a `Request` of `id` and `record_sync`, each field once,
/// events of the known fields with their proto wire types, valid UTF-8 ids. Anything else (an
/// unknown or repeated field, another call, a length that runs past the frame) returns `nil`
/// and the caller decodes with swift-protobuf as before, so the result is the same whichever
/// path reads a frame (tests compare both on generated and on damaged frames).
public enum RecordSyncDecoder {
    /// The request's id and its RecordSync call, or `nil` when the frame is not a RecordSync
    /// of the plain shape.
    public static func decode(_ frame: ByteBuffer) -> (id: UInt64, call: Pisync_V1_RecordSyncRequest)? {
        frame.withUnsafeReadableBytes { bytes in
            var reader = Reader(bytes: bytes)
            var id: UInt64 = 0
            var call: Pisync_V1_RecordSyncRequest?
            var seenID = false
            while !reader.atEnd {
                guard let (field, wireType) = reader.tag() else { return nil }
                switch (field, wireType) {
                case (1, 0) where !seenID:
                    guard let value = reader.varint() else { return nil }
                    id = value
                    seenID = true
                case (2, 2) where call == nil:
                    guard let body = reader.lengthDelimited(), let decoded = recordSync(body) else { return nil }
                    call = decoded
                default:
                    return nil
                }
            }
            guard let call else { return nil }
            return (id, call)
        }
    }

    private static func recordSync(_ bytes: UnsafeRawBufferPointer) -> Pisync_V1_RecordSyncRequest? {
        var reader = Reader(bytes: bytes)
        var request = Pisync_V1_RecordSyncRequest()
        var seenDevice = false
        while !reader.atEnd {
            guard let (field, wireType) = reader.tag() else { return nil }
            switch (field, wireType) {
            case (1, 2) where !seenDevice:
                guard let device = reader.string() else { return nil }
                request.deviceID = device
                seenDevice = true
            case (2, 2):
                guard let body = reader.lengthDelimited(), let event = event(body) else { return nil }
                request.events.append(event)
            default:
                return nil
            }
        }
        return request
    }

    private static func event(_ bytes: UnsafeRawBufferPointer) -> Pisync_V1_SyncEvent? {
        var reader = Reader(bytes: bytes)
        var event = Pisync_V1_SyncEvent()
        var seen: UInt8 = 0
        while !reader.atEnd {
            guard let (field, wireType) = reader.tag(), field >= 1, field <= 6 else { return nil }
            let bit = UInt8(1) << UInt8(field)
            guard seen & bit == 0 else { return nil }
            seen |= bit
            switch (field, wireType) {
            case (1, 2):
                guard let device = reader.string() else { return nil }
                event.deviceID = device
            case (2, 0):
                guard let value = reader.varint() else { return nil }
                event.timestamp = Int64(bitPattern: value)
            case (3, 0):
                guard let value = reader.varint(), let files = UInt32(exactly: value) else { return nil }
                event.totalFilesSynced = files
            case (4, 0):
                guard let value = reader.varint(), let errors = UInt32(exactly: value) else { return nil }
                event.totalErrors = errors
            case (5, 5):
                guard let bits = reader.fixed32() else { return nil }
                event.internetSpeed = Float(bitPattern: bits)
            case (6, 0):
                // Derived by the server; a client's value is ignored, but an unknown enum value
                // is kept by swift-protobuf as such: leave those to it.
                guard let value = reader.varint(), value <= 3 else { return nil }
            default:
                return nil
            }
        }
        return event
    }

    /// A cursor over protobuf's wire format.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 64 {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 {
                    // The 10th byte may only carry the top bit; longer is malformed.
                    if shift == 63 && byte > 1 { return nil }
                    return value
                }
                shift += 7
            }
            return nil
        }

        mutating func tag() -> (field: UInt64, wireType: UInt64)? {
            guard let key = varint(), key >> 3 > 0, key >> 3 <= UInt64(UInt32.max) else { return nil }
            return (key >> 3, key & 7)
        }

        mutating func lengthDelimited() -> UnsafeRawBufferPointer? {
            guard let length = varint(), length <= UInt64(bytes.count - offset) else { return nil }
            let start = offset
            offset += Int(length)
            return UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
        }

        mutating func string() -> String? {
            guard let body = lengthDelimited() else { return nil }
            // swift-protobuf rejects invalid UTF-8; so does this (and leaves it to swift-protobuf).
            return String(validating: body, as: UTF8.self)
        }

        mutating func fixed32() -> UInt32? {
            guard bytes.count - offset >= 4 else { return nil }
            var value: UInt32 = 0
            for index in 0..<4 {
                value |= UInt32(bytes[offset + index]) << (8 * UInt32(index))
            }
            offset += 4
            return value
        }
    }
}
