import PiSyncTestSupport
@testable import PiSyncPersistence
import Testing

@Suite("CRC-32")
struct CRC32Tests {
    /// The textbook bit-at-a-time CRC-32 (reflected, polynomial 0xEDB88320), to check the
    /// slicing-by-8 implementation against.
    static func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
            }
        }
        return ~crc
    }

    /// Deterministic pseudo-random bytes (xorshift64).
    static func bytes(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }

    @Test("CRC-32 is the zlib/IEEE checksum")
    func knownAnswers() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(CRC32.checksum([UInt8](repeating: 0, count: 32)) == 0x190A_55AD)
        #expect(CRC32.checksum([UInt8](repeating: 0xFF, count: 32)) == 0xFF6C_AB0B)
        #expect(CRC32.checksum(Array(0...31 as ClosedRange<UInt8>)) == 0x91267E8A)
    }

    @Test("the reference agrees with the known answers")
    func referenceKnownAnswers() {
        #expect(Self.reference(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Self.reference(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    @Test("slicing-by-8 matches the bitwise reference at every length", arguments: [UInt64(1), 0xDEAD_BEEF, 42])
    func matchesReference(seed: UInt64) {
        // Lengths 0...300 cover every remainder mod 8 with and without full 8-byte steps.
        let data = Self.bytes(count: 300, seed: seed)
        var mismatches: [Int] = []
        for length in 0...data.count where CRC32.checksum(Array(data[..<length])) != Self.reference(Array(data[..<length])) {
            mismatches.append(length)
        }
        #expect(mismatches.isEmpty, "lengths with a wrong checksum: \(mismatches.prefix(10))")
    }

    @Test("unaligned input, incremental updates and non-contiguous sequences agree")
    func unalignedAndIncremental() {
        let data = Self.bytes(count: 1_000, seed: 7)
        for start in 0..<9 {
            let slice = data[start..<start + 200 + start]
            let expected = Self.reference(Array(slice))
            // An ArraySlice at an odd offset: the 8-byte loads are unaligned.
            #expect(CRC32.checksum(slice) == expected, "slice starting at \(start)")
            // A sequence with no contiguous storage goes through the copying path.
            #expect(CRC32.checksum(slice.lazy.map { $0 }) == expected, "lazy sequence starting at \(start)")
            // Extending a checksum over a second part equals the checksum of the whole.
            for split in [0, 1, 7, 8, 9, 100, slice.count] {
                let whole = slice.withUnsafeBytes { raw in
                    CRC32.update(
                        CRC32.update(0, UnsafeRawBufferPointer(rebasing: raw[..<split])),
                        UnsafeRawBufferPointer(rebasing: raw[split...]))
                }
                #expect(whole == expected, "split at \(split) of a slice starting at \(start)")
            }
        }
    }

    @Test("a large input matches the reference")
    func largeInput() {
        let data = Self.bytes(count: 1 << 20, seed: 99)
        #expect(CRC32.checksum(data) == Self.reference(data))
    }
}
