import PiSyncProtocol
import PiSyncStore
@testable import pisync
import Testing

/// `pisync import` reads the seed's SyncEvent documents in every form mongoexport writes them,
/// and says exactly what is wrong with a row it cannot read.
@Suite("pisync import: the seed's documents")
struct SeedDocumentTests {
    static let millis: Int64 = 1_795_852_800_000  // 2026-11-28T08:00:00.000Z

    static func event(_ json: String) throws -> Pisync_V1_SyncEvent {
        try SeedDocument.event(from: Array(json.utf8))
    }

    /// The violation `json` is refused with.
    static func violation(_ json: String) -> FieldViolation? {
        do {
            _ = try SeedDocument.event(from: Array(json.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test("the relaxed form mongoexport writes by default")
    func relaxed() throws {
        let event = try Self.event(
            #"{"_id":{"$oid":"6568a1f2c9e77c0012345678"},"device_id":"pibook-001","timestamp":{"$date":"2026-11-28T08:00:00.000Z"},"total_files_synced":12,"total_errors":0,"internet_speed":8.5,"sync_status":"success","createdAt":{"$date":"2026-11-28T08:00:01.000Z"},"updatedAt":{"$date":"2026-11-28T08:00:01.000Z"},"__v":0}"#)
        #expect(event.deviceID == "pibook-001" && event.timestamp == Self.millis)
        #expect(event.totalFilesSynced == 12 && event.totalErrors == 0 && event.internetSpeed == 8.5)
        #expect(event.syncStatus == .unspecified, "the seed's sync_status is ignored: the server derives it")
    }

    @Test("the canonical form: $numberLong dates and $numberInt/$numberDouble/$numberLong numbers")
    func canonical() throws {
        let event = try Self.event(
            #"{"_id":{"$oid":"6568a1f2c9e77c0012345678"},"device_id":"pibox-7","timestamp":{"$date":{"$numberLong":"1795852800123"}},"total_files_synced":{"$numberInt":"4"},"total_errors":{"$numberLong":"1"},"internet_speed":{"$numberDouble":"2.25"},"sync_status":"partial","__v":{"$numberInt":"0"}}"#)
        #expect(event.timestamp == Self.millis + 123)
        #expect(event.totalFilesSynced == 4 && event.totalErrors == 1 && event.internetSpeed == 2.25)
    }

    @Test(
        "every date form gives the same milliseconds",
        arguments: [
            #"{"$date":"2026-11-28T08:00:00.000Z"}"#, #"{"$date":"2026-11-28T08:00:00Z"}"#,
            #"{"$date":"2026-11-28T09:00:00.000+01:00"}"#, #"{"$date":"2026-11-28T03:30:00-0430"}"#,
            #"{"$date":{"$numberLong":"1795852800000"}}"#, #"{"$date":1795852800000}"#, #"{"$date":1.7958528e12}"#,
            #""2026-11-28T08:00:00.000Z""#, "1795852800000",
        ])
    func dates(_ date: String) throws {
        let event = try Self.event(#"{"device_id":"d1","timestamp":\#(date),"total_files_synced":1,"total_errors":0,"internet_speed":1}"#)
        #expect(event.timestamp == Self.millis)
    }

    @Test("fractions of a second are exact to the millisecond", arguments: [(".1", 100), (".12", 120), (".123", 123), (".1239", 123)])
    func fractions(_ fraction: String, _ millis: Int64) throws {
        let event = try Self.event(
            #"{"device_id":"d1","timestamp":{"$date":"2026-11-28T08:00:00\#(fraction)Z"},"total_files_synced":1,"total_errors":0,"internet_speed":1}"#)
        #expect(event.timestamp == Self.millis + millis)
    }

    @Test("whole numbers in any spelling; NaN and Infinity reach the server to be judged")
    func numbers() throws {
        let event = try Self.event(
            #"{"device_id":"d1","timestamp":1795852800000,"total_files_synced":12.0,"total_errors":1e1,"internet_speed":{"$numberDouble":"NaN"}}"#)
        #expect(event.totalFilesSynced == 12 && event.totalErrors == 10 && event.internetSpeed.isNaN)
        let infinite = try Self.event(
            #"{"device_id":"d1","timestamp":1795852800000,"total_files_synced":0,"total_errors":{"$numberDecimal":"3"},"internet_speed":{"$numberDouble":"-Infinity"}}"#)
        #expect(infinite.internetSpeed == -.infinity && infinite.totalErrors == 3)
        let negative = try Self.event(#"{"device_id":"d1","timestamp":1795852800000,"total_files_synced":0,"total_errors":0,"internet_speed":-3}"#)
        #expect(negative.internetSpeed == -3, "the server refuses it with its own message")
    }

    @Test(
        "a bad row names its field and says why",
        arguments: [
            (#"{"timestamp":1795852800000,"total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             "device_id", "device_id is missing"),
            (#"{"device_id":null,"timestamp":1795852800000,"total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             "device_id", "device_id is null"),
            (#"{"device_id":42,"timestamp":1795852800000,"total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             "device_id", "device_id must be a string, got a number 42"),
            (#"{"device_id":"pi book","timestamp":1795852800000,"total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             "device_id", "device_id may contain only A-Z a-z 0-9 . _ : - (invalid byte at position 2)"),
            (#"{"device_id":"d1","total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             "timestamp", "timestamp is missing"),
            (#"{"device_id":"d1","timestamp":{"$date":"2026-02-30T08:00:00Z"},"total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             "timestamp", #"timestamp must be an Extended JSON date such as {"$date":"2026-11-28T08:00:00.000Z"}, got {"$date":"2026-02-30T08:00:00Z"}"#),
            (#"{"device_id":"d1","timestamp":{"$date":"yesterday"},"total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             "timestamp", #"timestamp must be an Extended JSON date such as {"$date":"2026-11-28T08:00:00.000Z"}, got {"$date":"yesterday"}"#),
            (#"{"device_id":"d1","timestamp":true,"total_files_synced":1,"total_errors":0,"internet_speed":1}"#,
             "timestamp", #"timestamp must be an Extended JSON date such as {"$date":"2026-11-28T08:00:00.000Z"}, got true"#),
            (#"{"device_id":"d1","timestamp":1795852800000,"total_files_synced":1,"total_errors":0}"#,
             "internet_speed", "internet_speed is missing"),
            (#"{"device_id":"d1","timestamp":1795852800000,"total_files_synced":1,"total_errors":0,"internet_speed":"fast"}"#,
             "internet_speed", #"internet_speed must be a number, got a string "fast""#),
            (#"{"device_id":"d1","timestamp":1795852800000,"total_files_synced":-1,"total_errors":0,"internet_speed":1}"#,
             "total_files_synced", "total_files_synced must be a whole number from 0 to 4294967295, got -1"),
            (#"{"device_id":"d1","timestamp":1795852800000,"total_files_synced":1,"total_errors":2.5,"internet_speed":1}"#,
             "total_errors", "total_errors must be a whole number from 0 to 4294967295, got 2.5"),
            (#"{"device_id":"d1","timestamp":1795852800000,"total_files_synced":{"$numberLong":"4294967296"},"total_errors":0,"internet_speed":1}"#,
             "total_files_synced", #"total_files_synced must be a whole number from 0 to 4294967295, got {"$numberLong":"4294967296"}"#),
            (#"{"device_id":"d1","timestamp":1795852800000,"total_files_synced":1,"total_errors":0,"internet_speed":1"#,
             "", "invalid JSON at byte 103: expected ',' or '}' after a member, found end of input"),
            (#"{"device_id":"d1",}"#, "", "invalid JSON at byte 19: expected a member name in double quotes, found '}'"),
            (#"{"device_id":'d1'}"#, "", "invalid JSON at byte 14: expected a value, found '''"),
            (#"{"device_id":"d1"} x"#, "", "invalid JSON at byte 20: unexpected 'x' after the end of the document"),
            (#"{"n":01}"#, "", "invalid JSON at byte 7: a number may not have a leading zero"),
            (#"{"s":"a\qb"}"#, "", #"invalid JSON at byte 9: invalid escape in a string: '\' followed by 'q'"#),
            (#"[1,2]"#, "", "a document must be a JSON object, got an array"),
        ])
    func badRows(_ json: String, _ field: String, _ message: String) {
        let violation = Self.violation(json)
        #expect(violation?.field == field)
        #expect(violation?.message == message)
    }

    @Test("strings: escapes and surrogate pairs are decoded")
    func strings() throws {
        let value = try JSONParser.parse(Array(#"{"a":"x\"\\\/\n\u00e9\ud83d\ude00"}"#.utf8))
        #expect(value == .object(["a": .string("x\"\\/\né😀")]))
    }

    @Test("nesting is bounded rather than recursed without limit")
    func deepNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(Array(deep.utf8)) }
        #expect(Self.violation(deep)?.message.contains("nested deeper than 64 levels") == true)
    }
}
