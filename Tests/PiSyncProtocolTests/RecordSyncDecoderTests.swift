import NIOCore
import PiSyncProtocol
import PiSyncTestSupport
import SwiftProtobuf
import Testing

/// The hand-written RecordSync reader agrees with swift-protobuf on every frame it accepts, and
/// declines (leaving the frame to swift-protobuf) whatever is not the plain shape.
@Suite("RecordSync decoder")
struct RecordSyncDecoderTests {
    static func request(_ generator: inout SplitMix64) -> Pisync_V1_Request {
        .with {
            $0.id = Bool.random(using: &generator) ? 0 : UInt64.random(in: 0...UInt64.max, using: &generator)
            $0.recordSync = .with {
                if Bool.random(using: &generator) { $0.deviceID = "pibook-\(Int.random(in: 0...999, using: &generator))" }
                $0.events = (0..<Int.random(in: 0...5, using: &generator)).map { _ in
                    .with {
                        if Bool.random(using: &generator) { $0.deviceID = "dev-é-\(Int.random(in: 0...9, using: &generator))" }
                        $0.timestamp = Int64.random(in: Int64.min...Int64.max, using: &generator) >> Int64.random(in: 0...63, using: &generator)
                        $0.totalFilesSynced = UInt32.random(in: 0...UInt32.max, using: &generator) >> UInt32.random(in: 0...32, using: &generator)
                        $0.totalErrors = Bool.random(using: &generator) ? 0 : UInt32.random(in: 0...9, using: &generator)
                        $0.internetSpeed = Bool.random(using: &generator) ? 0 : Float.random(in: -1...1000, using: &generator)
                        if Int.random(in: 0..<4, using: &generator) == 0 { $0.syncStatus = .failed }
                    }
                }
            }
        }
    }

    /// What swift-protobuf reads, with the status a client may send (the server ignores it)
    /// cleared, as the fast reader does not keep it.
    static func reference(_ bytes: [UInt8]) -> (UInt64, Pisync_V1_RecordSyncRequest)? {
        guard let request = try? Pisync_V1_Request(serializedBytes: bytes), case .recordSync(var call) = request.call else {
            return nil
        }
        for index in call.events.indices { call.events[index].syncStatus = .unspecified }
        return (request.id, call)
    }

    @Test("generated RecordSyncs decode exactly as swift-protobuf decodes them")
    func agreesOnValidFrames() throws {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let bytes: [UInt8] = try Self.request(&generator).serializedBytes()
            let fast = try #require(RecordSyncDecoder.decode(ByteBuffer(bytes: bytes)))
            let reference = try #require(Self.reference(bytes))
            #expect(fast.id == reference.0)
            #expect(fast.call == reference.1)
        }
    }

    @Test("damaged frames: whatever the fast reader accepts, swift-protobuf reads the same")
    func agreesOnDamagedFrames() throws {
        var generator = SplitMix64(seed: 11)
        var accepted = 0
        for _ in 0..<20000 {
            var bytes: [UInt8] = try Self.request(&generator).serializedBytes()
            for _ in 0..<Int.random(in: 1...3, using: &generator) where !bytes.isEmpty {
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.remove(at: Int.random(in: 0..<bytes.count, using: &generator))
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: Int.random(in: 0...bytes.count, using: &generator))
                }
            }
            guard let fast = RecordSyncDecoder.decode(ByteBuffer(bytes: bytes)) else { continue }
            accepted += 1
            let reference = try #require(Self.reference(bytes), "fast reader accepted what swift-protobuf rejects: \(bytes)")
            #expect(fast.id == reference.0)
            #expect(fast.call == reference.1, "\(bytes)")
        }
        #expect(accepted > 1000, "the damaged frames should still exercise the fast path")
    }

    @Test("other calls, unknown fields and repeated fields are left to swift-protobuf")
    func declines() throws {
        let ping: [UInt8] = try Pisync_V1_Request.with { $0.id = 1; $0.ping = .init() }.serializedBytes()
        #expect(RecordSyncDecoder.decode(ByteBuffer(bytes: ping)) == nil)
        var withUnknown: [UInt8] = try Pisync_V1_Request.with { $0.id = 1; $0.recordSync = .init() }.serializedBytes()
        withUnknown += [0x78, 0x01]  // field 15, varint
        #expect(RecordSyncDecoder.decode(ByteBuffer(bytes: withUnknown)) == nil)
        let twice: [UInt8] = [0x08, 0x01, 0x08, 0x02, 0x12, 0x00]  // id twice: protobuf's last-wins
        #expect(RecordSyncDecoder.decode(ByteBuffer(bytes: twice)) == nil)
        #expect(RecordSyncDecoder.decode(ByteBuffer(bytes: [])) == nil)
        let badUTF8: [UInt8] = [0x12, 0x03, 0x0A, 0x01, 0xFF]  // record_sync.device_id = 0xFF
        #expect(RecordSyncDecoder.decode(ByteBuffer(bytes: badUTF8)) == nil)
    }
}
