/// Writes protobuf's binary wire format by hand, for the one hot record the log writes
/// (``LogRecordCodec``); everything else goes through swift-protobuf.
struct ProtobufWriter {
    enum WireType: UInt8 {
        case varint = 0
        case lengthDelimited = 2
    }

    var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    mutating func tag(_ field: Int, _ type: WireType) {
        varint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    mutating func varint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    /// A packed repeated varint field; nothing when `values` is empty (as proto3 writes it).
    mutating func packedVarints(_ field: Int, _ values: some Collection<UInt64>) {
        guard !values.isEmpty else { return }
        tag(field, .lengthDelimited)
        varint(UInt64(values.reduce(0) { $0 + Self.varintLength($1) }))
        for value in values { varint(value) }
    }

    static func varintLength(_ value: UInt64) -> Int {
        max(1, (64 - value.leadingZeroBitCount + 6) / 7)
    }
}
