import PiSyncTestSupport
import PiSyncStore
import Testing

@Suite("Event validation")
struct EventValidatorTests {
    let validator = EventValidator()

    func sample(device: String = "pi-1", timestamp: Int64 = t0, speed: Float = 10) -> SyncEvent {
        SyncEvent(deviceID: device, timestamp: timestamp, filesSynced: 1, errors: 0, internetSpeed: speed)
    }

    static let badDeviceIDs: [String] = [
        "",
        String(repeating: "a", count: 129),
        "pi 1",
        "pi/1",
        "pié",
        "é",
        "pi\n",
        "pi\u{0}",
        "pi+1",
        "pi@lab",
        String(repeating: "b", count: 200),
        String(repeating: "é", count: 10),
    ]

    @Test("bad device ids are rejected on device_id", arguments: badDeviceIDs)
    func rejectsDeviceID(_ deviceID: String) throws {
        let violation = try #require(validator.violation(in: sample(device: deviceID), now: testNow))
        #expect(violation.field == "device_id")
        #expect(violation.kind == .invalidArgument)
        #expect(!violation.message.isEmpty)
        #expect(EventValidator.deviceIDViolation(deviceID) != nil)
    }

    static let goodDeviceIDs: [String] = [
        "a",
        "Z",
        "0",
        String(repeating: "a", count: 128),
        String(repeating: "9", count: 127) + "-",
        "._:-",
        "Pi-01.lab_2:classroom",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    ]

    @Test("valid device ids are accepted", arguments: goodDeviceIDs)
    func acceptsDeviceID(_ deviceID: String) {
        #expect(validator.violation(in: sample(device: deviceID), now: testNow) == nil)
        #expect(EventValidator.deviceIDViolation(deviceID) == nil)
    }

    static let timestampCases: [(Int64, Bool)] = [
            (EventValidator.year2000, true),
            (Int64(946_684_800_000), true),
            (Int64(946_684_799_999), false),
            (Int64(0), false),
            (Int64(-1), false),
            (Int64.min, false),
            (testNow, true),
            (testNow + 300_000, true),
            (testNow + 300_001, false),
            (Int64.max, false),
    ]

    @Test("timestamp bounds: not before 2000-01-01, not more than 5 minutes ahead", arguments: timestampCases)
    func timestampBounds(timestamp: Int64, valid: Bool) {
        let violation = validator.violation(in: sample(timestamp: timestamp), now: testNow)
        if valid {
            #expect(violation == nil)
        } else {
            #expect(violation?.field == "timestamp")
            #expect(violation?.kind == .invalidArgument)
        }
    }

    static let customCases: [(Int64, Bool)] = [(999, false), (1000, true), (testNow, true), (testNow + 1, false)]

    @Test("custom limits replace the defaults", arguments: customCases)
    func customLimits(timestamp: Int64, valid: Bool) {
        let strict = EventValidator(minTimestamp: 1000, maxFutureSkewMillis: 0)
        let violation = strict.violation(in: sample(timestamp: timestamp), now: testNow)
        #expect((violation == nil) == valid)
        if !valid { #expect(violation?.field == "timestamp") }
    }

    @Test("a generous skew allows later timestamps")
    func customSkew() {
        let lenient = EventValidator(minTimestamp: 0, maxFutureSkewMillis: 3_600_000)
        #expect(lenient.violation(in: sample(timestamp: 1), now: testNow) == nil)
        #expect(lenient.violation(in: sample(timestamp: testNow + 3_600_000), now: testNow) == nil)
        #expect(lenient.violation(in: sample(timestamp: testNow + 3_600_001), now: testNow)?.field == "timestamp")
    }

    static let speedCases: [(Float, Bool)] = [
        (0, true), (0.001, true), (1000, true), (Float.greatestFiniteMagnitude, true),
        (-0.001, false), (-1, false), (Float.nan, false), (Float.infinity, false), (-Float.infinity, false),
        (-Float.greatestFiniteMagnitude, false),
    ]

    @Test("internet_speed must be finite and >= 0", arguments: speedCases)
    func internetSpeed(speed: Float, valid: Bool) {
        let violation = validator.violation(in: sample(speed: speed), now: testNow)
        if valid {
            #expect(violation == nil)
        } else {
            #expect(violation?.field == "internet_speed")
        }
    }

    @Test("fields are checked in order device_id, timestamp, internet_speed")
    func firstProblemIsReported() {
        #expect(validator.violation(in: sample(device: "", timestamp: 0, speed: .nan), now: testNow)?.field == "device_id")
        #expect(validator.violation(in: sample(timestamp: 0, speed: .nan), now: testNow)?.field == "timestamp")
        #expect(validator.violation(in: sample(speed: -1), now: testNow)?.field == "internet_speed")
    }

    @Test("a mixed batch stores the valid events and reports each rejected index")
    func mixedBatchThroughStore() throws {
        let store = SyncStore()
        let batch = [
            event("good", .success, at: 1),  // 0
            SyncEvent(deviceID: "bad id", timestamp: t0, filesSynced: 1, errors: 0, internetSpeed: 1),  // 1
            event("good", .failed, at: 2),  // 2
            SyncEvent(deviceID: "good", timestamp: 946_684_799_999, filesSynced: 1, errors: 0, internetSpeed: 1),  // 3
            SyncEvent(deviceID: "good", timestamp: testNow + 300_001, filesSynced: 1, errors: 0, internetSpeed: 1),  // 4
            event("other", .success, at: 3, speed: .nan),  // 5
            event("other", .partial, at: 4),  // 6
        ]
        let outcome = store.record(batch, now: testNow)

        #expect(outcome.accepted == 3)
        #expect(outcome.duplicates == 0)
        #expect(outcome.rejected.map(\.index) == [1, 3, 4, 5])
        #expect(outcome.rejected.map(\.violation.field) == ["device_id", "timestamp", "timestamp", "internet_speed"])
        #expect(try store.allHistory(of: "good") == [batch[2], batch[0]])
        #expect(try store.allHistory(of: "other") == [batch[6]])
        #expect(store.summary(of: "bad id") == nil)
    }

    @Test("the store applies its configured validator and the given clock")
    func storeUsesConfiguredValidator() {
        let store = SyncStore(configuration: StoreConfiguration(validator: EventValidator(minTimestamp: 0, maxFutureSkewMillis: 0)))
        let early = SyncEvent(deviceID: "pi", timestamp: 5, filesSynced: 1, errors: 0, internetSpeed: 1)
        let late = SyncEvent(deviceID: "pi", timestamp: 2_001, filesSynced: 1, errors: 0, internetSpeed: 1)
        let outcome = store.record([early, late], now: 2_000)
        #expect(outcome.accepted == 1)
        #expect(outcome.rejected.map(\.index) == [1])
        // The same event is fine once the clock has moved on.
        #expect(store.record([late], now: 2_001).accepted == 1)
    }

    @Test("an all-invalid batch stores nothing")
    func allInvalidBatch() {
        let store = SyncStore()
        let outcome = store.record([sample(device: ""), sample(timestamp: 1)], now: testNow)
        #expect(outcome.accepted == 0)
        #expect(outcome.rejected.map(\.index) == [0, 1])
        #expect(store.changeCount == 0)
    }
}
