import NIOCore
import PiSyncProtocol

/// Builds a connection's request frames quickly: the frame is encoded once by swift-protobuf
/// with marker timestamps, and each request copies it and writes its own timestamps over the
/// markers (every timestamp near now is a 6-byte varint, so the frame's layout never changes).
/// For Redis the frame is a RESP `SET` whose key ends in fixed-width digits.
struct RequestTemplate: Sendable {
    /// What the target speaks.
    enum Wire: String, Sendable, CaseIterable {
        /// Varint-delimited protobuf: PiSync, or an echo of its frames.
        case varint
        /// Redis's RESP: `SET key value`.
        case resp
    }

    private let bytes: [UInt8]
    /// Where each patched field starts, and how each request's value for it is derived.
    private let patches: [Int]
    private let wire: Wire
    private let batch: Int
    private let perEventDevices: Bool
    private let base: Int64

    /// The timestamp field of `SyncEvent` (field 2, varint).
    private static let timestampTag: UInt8 = 2 << 3
    private static let keyDigits = 10

    /// A template for connection `connection` of the run tagged `run`: RecordSyncs of `batch`
    /// events, for one device named at request level or (`perEventDevices`) one device per event.
    init(wire: Wire, connection: Int, run: String, batch: Int, perEventDevices: Bool, base: Int64) throws {
        self.wire = wire
        self.batch = batch
        self.perEventDevices = perEventDevices
        self.base = base
        let device = "bench-\(run)-\(connection)"
        let request = Pisync_V1_Request.with {
            $0.id = 1
            $0.recordSync = .with {
                if !perEventDevices { $0.deviceID = device }
                $0.events = (0..<batch).map { index in
                    .with {
                        if perEventDevices { $0.deviceID = "\(device)-\(index)" }
                        $0.timestamp = base + Int64(index)  // markers, each found below
                        $0.totalFilesSynced = 3
                        $0.internetSpeed = 7.5
                    }
                }
            }
        }
        let body: [UInt8] = try request.serializedBytes()
        switch wire {
        case .varint:
            var framed = ByteBuffer()
            FrameCodec.writeFrame(body, into: &framed)
            let frame = Array(framed.readableBytesView)
            let prefix = frame.count - body.count
            var patches: [Int] = []
            for index in 0..<batch {
                var marker = ByteBuffer(integer: Self.timestampTag)
                FrameCodec.writeVarint(UInt64(base + Int64(index)), into: &marker)
                guard let at = Self.firstIndex(of: Array(marker.readableBytesView), in: frame, from: patches.last.map { $0 + 1 } ?? prefix) else {
                    throw LoadError.template("timestamp marker \(index) not found")
                }
                patches.append(at + 1)
            }
            self.bytes = frame
            self.patches = patches
        case .resp:
            let key = Array("pisync:\(run):\(connection):".utf8) + Array(repeating: UInt8(ascii: "0"), count: Self.keyDigits)
            let parts: [[UInt8]] = [Array("SET".utf8), key, body]
            var command = Array("*3\r\n".utf8)
            var keyAt = 0
            for (index, part) in parts.enumerated() {
                command += Array("$\(part.count)\r\n".utf8)
                if index == 1 { keyAt = command.count + part.count - Self.keyDigits }
                command += part + Array("\r\n".utf8)
            }
            self.bytes = command
            self.patches = [keyAt]
        }
    }

    /// The bytes of request `index` appended to `out`.
    func write(_ index: Int, into out: inout [UInt8]) {
        let start = out.count
        out += bytes
        switch wire {
        case .varint:
            for (event, offset) in patches.enumerated() {
                let timestamp = perEventDevices ? base + Int64(index) : base + Int64(index * batch + event)
                Self.writeVarint6(UInt64(timestamp), at: start + offset, in: &out)
            }
        case .resp:
            var value = index
            for position in stride(from: start + patches[0] + Self.keyDigits - 1, through: start + patches[0], by: -1) {
                out[position] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
    }

    /// Events each request carries.
    var eventsPerRequest: Int { wire == .varint ? batch : 1 }

    private static func writeVarint6(_ value: UInt64, at offset: Int, in out: inout [UInt8]) {
        precondition(value >> 35 != 0 && value >> 42 == 0, "timestamps must be 6-byte varints")
        var remaining = value
        for position in offset..<(offset + 6) {
            out[position] = UInt8(truncatingIfNeeded: remaining & 0x7F) | (position < offset + 5 ? 0x80 : 0)
            remaining >>= 7
        }
    }

    private static func firstIndex(of pattern: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= pattern.count else { return nil }
        for at in start...(bytes.count - pattern.count) where bytes[at..<(at + pattern.count)].elementsEqual(pattern) {
            return at
        }
        return nil
    }
}

enum LoadError: Error, CustomStringConvertible {
    case template(String)
    case connection(String)

    var description: String {
        switch self {
        case .template(let message): "cannot build the request template: \(message)"
        case .connection(let message): message
        }
    }
}
