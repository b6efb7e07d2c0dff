import Foundation
import PiSyncProtocol
import Testing

@testable import pisync

/// The relay's parts on their own: backoff, Retry-After, the JSON body and the state file.
@Suite("pisync relay's parts")
struct RelayPartsTests {
    /// A fixed-seed generator, so that a failure can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("the backoff's cap doubles from the initial delay up to the maximum; each wait is drawn from 0 up to the cap")
    func backoff() {
        let backoff = RetryBackoff(initial: .seconds(1), maximum: .seconds(60))
        #expect((1...8).map { backoff.ceiling(attempt: $0) } == [1, 2, 4, 8, 16, 32, 60, 60].map { Duration.seconds($0) })
        #expect(backoff.ceiling(attempt: 10_000) == .seconds(60))
        var generator = SplitMix(state: 42)
        let waits = (0..<1000).map { _ in backoff.delay(attempt: 3, using: &generator) }
        #expect(waits.allSatisfy { $0 >= .zero && $0 <= .seconds(4) })
        #expect(waits.contains { $0 < .seconds(1) } && waits.contains { $0 > .seconds(3) }, "full jitter spreads the waits")
    }

    @Test("Retry-After is read as seconds or as an HTTP date, capped at an hour; anything else is ignored")
    func retryAfter() throws {
        #expect(RetryAfter.delay("120") == .seconds(120))
        #expect(RetryAfter.delay(" 0 ") == .zero)
        #expect(RetryAfter.delay("86400") == .seconds(3600))
        let now = try Date("2015-10-21T07:27:00Z", strategy: .iso8601)
        #expect(RetryAfter.delay("Wed, 21 Oct 2015 07:28:00 GMT", now: now) == .seconds(60))
        #expect(RetryAfter.delay("Wed, 21 Oct 2015 07:00:00 GMT", now: now) == .zero)
        #expect(RetryAfter.delay("soon") == nil)
        #expect(RetryAfter.delay("-5") == nil)
    }

    @Test("the JSON body: snake_case keys, ISO 8601 timestamps, and a text line; a notice has no sequence")
    func payload() throws {
        let recovered = Pisync_V1_DeviceRecovered.with {
            $0.sequence = 7
            $0.deviceID = "pibox-7"
            $0.recoveredTimestamp = 1_795_860_000_123
            $0.syncStatus = .partial
            $0.lastFailureTimestamp = 1_795_859_000_000
        }
        let body = try JSONSerialization.jsonObject(with: WebhookPayload(recovered, server: "h:1").json()) as? [String: Any]
        #expect(body?["kind"] as? String == "recovered" && body?["sequence"] as? Int == 7)
        #expect(body?["recovered_timestamp"] as? String == "2026-11-28T10:00:00.123Z")
        #expect(body?["last_failure_timestamp"] as? String == "2026-11-28T09:43:20.000Z")
        #expect(body?["sync_status"] as? String == "partial")
        #expect(body?["text"] as? String == "PiSync recovered #7: pibox-7 synced again (partial) at 2026-11-28T10:00:00.123Z")

        let notice = WebhookPayload(lost: 1, after: 9, lastSequence: 20, server: "h:1")
        let text = String(decoding: try notice.json(), as: UTF8.self)
        #expect(text.hasPrefix(#"{"alerts_lost":1,"from_sequence":9,"kind":"alerts_lost","last_sequence":20,"server":"h:1","text":"PiSync: 1 alert after #9 was lost"#), "\(text)")
        #expect(notice.label == "lost-alerts notice" && WebhookPayload(recovered, server: "").label == "recovered #7")
    }

    @Test("the state file: a missing file reads as none, writes replace it whole with no temporary left, a second holder is refused")
    func stateFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relay-state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("relay.state").path
        let state = try RelayStateFile(path: path)
        #expect(try state.read() == nil)
        try state.writeNow(12)
        try state.writeNow(3)
        #expect(try state.read() == 3)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "3\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["relay.state", "relay.state.lock"])
        #expect(throws: RelayStateError.self) { try RelayStateFile(path: path) }
        try "12abc".write(toFile: path, atomically: false, encoding: .utf8)
        #expect { try state.read() } throws: { "\($0)".contains("does not hold a sequence number (it holds '12abc')") }
    }
}
