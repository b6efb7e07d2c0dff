import PiSyncTestSupport
import PiSyncStore
import Testing

@Suite("Sync status derivation")
struct SyncStatusTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var files: UInt32
        var errors: UInt32
        var expected: SyncStatus
        var testDescription: String { "files \(files), errors \(errors) -> \(expected)" }
    }

    static let table: [Case] = [
        // errors == 0 -> success, whatever the file count.
        Case(files: 0, errors: 0, expected: .success),
        Case(files: 1, errors: 0, expected: .success),
        Case(files: 42, errors: 0, expected: .success),
        Case(files: .max, errors: 0, expected: .success),
        // errors > 0 and files > 0 -> partial.
        Case(files: 1, errors: 1, expected: .partial),
        Case(files: 10, errors: 3, expected: .partial),
        Case(files: .max, errors: 1, expected: .partial),
        Case(files: 1, errors: .max, expected: .partial),
        Case(files: .max, errors: .max, expected: .partial),
        // errors > 0 and files == 0 -> failed.
        Case(files: 0, errors: 1, expected: .failed),
        Case(files: 0, errors: 5, expected: .failed),
        Case(files: 0, errors: .max, expected: .failed),
    ]

    @Test("status is derived from the counts", arguments: table)
    func derivesStatus(_ row: Case) {
        #expect(SyncStatus(filesSynced: row.files, errors: row.errors) == row.expected)
        let event = SyncEvent(deviceID: "pi", timestamp: t0, filesSynced: row.files, errors: row.errors, internetSpeed: 1)
        #expect(event.status == row.expected)
    }

    @Test("the store counts exactly the derived failures", arguments: table)
    func storeUsesDerivedStatus(_ row: Case) throws {
        let store = SyncStore()
        let event = SyncEvent(deviceID: "pi", timestamp: t0, filesSynced: row.files, errors: row.errors, internetSpeed: 1)
        #expect(store.record([event], now: testNow).accepted == 1)
        let summary = try #require(store.summary(of: "pi"))
        #expect(summary.failedSyncs == (row.expected == .failed ? 1 : 0))
        #expect(summary.consecutiveFailures == (row.expected == .failed ? 1 : 0))
        #expect(summary.lastSuccessTimestamp == (row.expected == .success ? t0 : nil))
        let stored = try store.allHistory(of: "pi")
        #expect(stored == [event])
        #expect(stored.first?.status == row.expected)
    }
}
