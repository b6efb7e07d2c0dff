import Foundation
import PiSyncAdmin
import PiSyncTestSupport
import Testing

@Suite("ISO 8601 timestamps, exactly")
struct ISOTimestampTests {
    @Test(
        "parses to the exact millisecond",
        arguments: [
            ("2026-11-28T08:00:00.000Z", Int64(1_795_852_800_000)),
            ("2026-11-28T08:00:00Z", 1_795_852_800_000),
            ("2026-11-28t08:00:00z", 1_795_852_800_000),
            ("2026-11-28T08:00:00.5Z", 1_795_852_800_500),
            ("2026-11-28T08:00:00.0019Z", 1_795_852_800_001),
            ("2026-11-28T09:30:00+01:30", 1_795_852_800_000),
            ("2026-11-28T06:00:00-0200", 1_795_852_800_000),
            ("2000-02-29T00:00:00Z", 951_782_400_000),
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59.999Z", -1),
        ])
    func parses(text: String, millis: Int64) throws {
        #expect(try ISOTimestamp.parse(text) == millis)
    }

    @Test(
        "refuses what is not a date-time with a zone, saying why",
        arguments: [
            ("2026-11-28", "expected 'T'"), ("2026-11-28T08:00:00", "expected a time zone"),
            ("2026-13-01T00:00:00Z", "month 13"), ("2025-02-29T00:00:00Z", "day 29 does not exist in 2025-02"),
            ("2026-11-28T24:00:00Z", "out of range"), ("2026-11-28T08:00:00.Z", "digits after the '.'"),
            ("2026-11-28T08:00:00Zjunk", "unexpected text"), ("26-11-28T08:00:00Z", "year as 4 digits"),
            ("2026-11-28T08:00:00+25:00", "offset is out of range"),
        ])
    func refuses(text: String, reason: String) {
        #expect {
            try ISOTimestamp.parse(text)
        } throws: { error in
            (error as? ISOTimestamp.ParseError)?.reason.contains(reason) == true
        }
    }

    @Test("formats UTC with three fraction digits, and reads back what it writes")
    func formats() throws {
        #expect(ISOTimestamp.format(1_795_852_800_007) == "2026-11-28T08:00:00.007Z")
        #expect(ISOTimestamp.format(-1) == "1969-12-31T23:59:59.999Z")
        var generator = SplitMix64(seed: 0x150)
        for _ in 0..<1000 {
            let millis = Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &generator)
            #expect(try ISOTimestamp.parse(ISOTimestamp.format(millis)) == millis)
        }
        // Agrees with Foundation on whole seconds.
        let seconds: Int64 = 1_795_852_800
        #expect(ISOTimestamp.format(seconds * 1000).hasPrefix(Date(timeIntervalSince1970: Double(seconds)).formatted(.iso8601).dropLast()))
    }
}
