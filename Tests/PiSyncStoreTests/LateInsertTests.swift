import PiSyncStore
import PiSyncTestSupport
import Testing

/// Events arriving out of order land in timestamp order at any history length, and the
/// counters, pages and streak agree with a plain sorted model.
@Suite("Late inserts into long histories")
struct LateInsertTests {
    @Test("random arrival order over several blocks matches a sorted model", arguments: [1, 2, 3])
    func matchesModel(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        let store = SyncStore(configuration: StoreConfiguration(alertThreshold: 3, shardCount: 1))
        var model: [Int64: SyncStatus] = [:]
        // Mostly in order, with late ones anywhere: about 5,000 events, several blocks of 1,024.
        var next: Int64 = 0
        for _ in 0..<5000 {
            let late = Int.random(in: 0..<4, using: &generator) == 0 && next > 0
            let offset = late ? Int64.random(in: 0..<next, using: &generator) : next
            if !late { next += 1 }
            let status = [SyncStatus.success, .partial, .failed, .failed][Int.random(in: 0..<4, using: &generator)]
            let outcome = store.record([event("pi", status, at: offset * 1000)], now: testNow)
            #expect((outcome.accepted == 1) == (model[offset] == nil))
            if model[offset] == nil { model[offset] = status }
        }
        let ordered = model.keys.sorted()
        let summary = try #require(store.summary(of: "pi"))
        #expect(summary.totalSyncs == ordered.count)
        #expect(summary.failedSyncs == model.values.filter { $0 == .failed }.count)
        let streak = ordered.reversed().prefix { model[$0] == .failed }.count
        #expect(summary.consecutiveFailures == streak)
        for page in [1, 2, 7, 50, 100, (ordered.count + 99) / 100] {
            let history = try store.history(of: "pi", page: PageRequest(page: UInt32(page), limit: 100))
            let expected: [Int64] = ordered.reversed().dropFirst((page - 1) * 100).prefix(100).map { t0 + $0 * 1000 }
            let timestamps: [Int64] = history.events.map { $0.timestamp }
            #expect(timestamps == expected)
        }
        // Each stored event is found by its timestamp, first write kept; nothing between them.
        for offset in 0..<next {
            let found = store.event(of: "pi", at: t0 + offset * 1000)
            #expect(found?.status == model[offset] && found?.deviceID == "pi", "offset \(offset)")
            #expect(store.event(of: "pi", at: t0 + offset * 1000 + 1) == nil)
        }
        #expect(store.event(of: "pi", at: t0 - 1) == nil && store.event(of: "other", at: t0) == nil)
    }
}
