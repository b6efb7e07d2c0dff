import Foundation
import PiSyncAuth
import Testing

/// `pisync relay` as an operator runs it: a real relay process between a real server and a
/// real HTTP receiver that fails the first attempts (issue 9).
@Suite("pisync relay", .timeLimit(.minutes(3)))
struct WebhookRelayTests {
    /// A fresh directory for a test's data and state files.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pisync-relay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The ISO 8601 text the relay sends for `second` after ``AlertSource/base``.
    static func iso(_ second: Int64) -> String {
        let millis = AlertSource.base + second * 1000
        let date = Date(timeIntervalSince1970: Double(millis / 1000))
        return date.formatted(.iso8601).dropLast() + ".\(String(millis % 1000 + 1000).dropFirst())Z"
    }

    @Test("alerts and recoveries arrive once each, in order, with their fields, through 500s, a dropped connection and a 429's Retry-After")
    func deliversThroughFailures() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script: [WebhookReceiver.Answer] = [.status(500), .status(503), .drop, .status(429, retryAfter: "1")]
        try await WebhookReceiver.with(script: script) { receiver in
            try await AlertSource.with(dataDirectory: directory.appendingPathComponent("data").path) { server in
                let relay = try RelayProcess(in: directory, port: server.port, webhook: receiver.url)
                try await relay.waitUntil("the first state write") { relay.delivered == 0 }
                try await server.fail("pibox-a", at: 0, expecting: 1)
                try await server.fail("pibox-b", at: 10, expecting: 2)
                try await server.recover("pibox-a", at: 20, expecting: 3)
                try await relay.waitUntil("three deliveries") { receiver.accepted.count == 3 && relay.delivered == 3 }

                let attempts = receiver.attempts
                #expect(attempts.count == 7, "4 failed attempts, then 3 accepted")
                #expect(attempts.prefix(5).allSatisfy { $0.json["sequence"] as? Int == 1 }, "nothing overtakes a message being retried")
                // The relay's own backoff is at most 0.2 s here: a second's gap is the Retry-After.
                #expect(attempts[4].at - attempts[3].at >= .milliseconds(950))

                let bodies = receiver.accepted
                #expect(bodies.map { $0["sequence"] as? Int } == [1, 2, 3])
                #expect(bodies.map { $0["kind"] as? String } == ["alert", "alert", "recovered"])
                let alert = bodies[0]
                #expect(alert["device_id"] as? String == "pibox-a" && alert["consecutive_failures"] as? Int == 2)
                #expect(alert["first_failure_timestamp"] as? String == Self.iso(0))
                #expect(alert["last_failure_timestamp"] as? String == Self.iso(1))
                #expect(alert["server"] as? String == "127.0.0.1:\(server.port)")
                #expect(
                    alert["text"] as? String
                        == "PiSync alert #1: pibox-a failed 2 syncs in a row (\(Self.iso(0)) .. \(Self.iso(1)))")
                #expect(Set(alert.keys) == [
                    "kind", "text", "server", "sequence", "device_id", "consecutive_failures",
                    "first_failure_timestamp", "last_failure_timestamp",
                ])
                let recovered = bodies[2]
                #expect(recovered["device_id"] as? String == "pibox-a" && recovered["sync_status"] as? String == "success")
                #expect(recovered["recovered_timestamp"] as? String == Self.iso(20))
                #expect(recovered["last_failure_timestamp"] as? String == Self.iso(1))
                #expect((recovered["text"] as? String)?.contains("pibox-a synced again (success)") == true)

                #expect(relay.log.contains("POST of alert #1 failed (attempt 1): HTTP 500"), "\(relay.log)")
                #expect(relay.log.contains("POST of alert #1 failed (attempt 3)"), "the dropped connection is retried too: \(relay.log)")
                #expect(try await relay.stop(SIGTERM) == 0, "SIGTERM is a clean stop")
                #expect(relay.log.contains("stopped; last delivered: #3"), "\(relay.log)")
            }
        }
    }

    @Test("a POST that outlives --webhook-timeout is retried; SIGTERM lets a POST in flight finish and records it")
    func timeoutAndStopInFlight() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await WebhookReceiver.with(script: [.slow(.seconds(3)), .accept, .slow(.milliseconds(700))]) { receiver in
            try await AlertSource.with(dataDirectory: directory.appendingPathComponent("data").path) { server in
                let relay = try RelayProcess(
                    in: directory, port: server.port, webhook: receiver.url, arguments: ["--webhook-timeout", "1.5"])
                try await relay.waitUntil("the first state write") { relay.delivered == 0 }
                try await server.fail("pibox-1", at: 0, expecting: 1)
                try await relay.waitUntil("the retry after the timeout") { relay.delivered == 1 }
                // The request's deadline or the read timeout, whichever fires first under load.
                let timedOut = ["deadline exceeded", "read timeout"].contains { relay.log.contains("POST of alert #1 failed (attempt 1): \($0)") }
                #expect(timedOut, "\(relay.log)")
                try await server.fail("pibox-2", at: 0, expecting: 2)
                try await relay.waitUntil("the slow POST arriving") { receiver.attempts.count == 3 }
                #expect(try await relay.stop(SIGTERM) == 0)
                #expect(relay.delivered == 2, "the POST in flight finished and was recorded: \(relay.log)")
                #expect(receiver.attempts.map { $0.json["sequence"] as? Int } == [1, 1, 2])
            }
        }
    }

    @Test("a relay stopped, or killed, resumes from its state file: alerts raised while it was down arrive after the restart, none twice")
    func resumesAfterRestart() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await WebhookReceiver.with { receiver in
            try await AlertSource.with(dataDirectory: directory.appendingPathComponent("data").path) { server in
                let first = try RelayProcess(in: directory, port: server.port, webhook: receiver.url)
                try await first.waitUntil("the first state write") { first.delivered == 0 }
                try await server.fail("pibox-1", at: 0, expecting: 1)
                try await server.fail("pibox-2", at: 0, expecting: 2)
                try await first.waitUntil("two deliveries") { first.delivered == 2 }
                // A second relay on the same state file would deliver everything twice.
                let intruder = try RelayProcess(in: directory, port: server.port, webhook: receiver.url)
                #expect(try await intruder.stop(0) == 1)
                #expect(intruder.log.contains("another pisync relay is using the state file"), "\(intruder.log)")
                #expect(try await first.stop(SIGTERM) == 0)

                try await server.fail("pibox-3", at: 0, expecting: 3)
                try await server.recover("pibox-1", at: 5, expecting: 4)
                let second = try RelayProcess(in: directory, port: server.port, webhook: receiver.url)
                try await second.waitUntil("the alerts raised while down") { second.delivered == 4 }
                #expect(second.log.contains("resuming after #2"), "\(second.log)")
                #expect(try await second.stop(SIGKILL) == SIGKILL)

                try await server.fail("pibox-4", at: 0, expecting: 5)
                let third = try RelayProcess(in: directory, port: server.port, webhook: receiver.url)
                try await third.waitUntil("the alert raised after a kill -9") { third.delivered == 5 }
                try await server.fail("pibox-5", at: 0, expecting: 6)
                try await third.waitUntil("a live alert") { third.delivered == 6 }
                #expect(receiver.accepted.map { $0["sequence"] as? Int } == [1, 2, 3, 4, 5, 6])
                #expect(receiver.attempts.count == 6)
                try await third.stop()
            }
        }
    }

    @Test("when the server restarts, the relay reconnects and resumes after the last delivered alert")
    func reconnectsAfterServerRestart() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data").path
        try await WebhookReceiver.with { receiver in
            let (relay, port) = try await AlertSource.with(dataDirectory: data) { server in
                let relay = try RelayProcess(in: directory, port: server.port, webhook: receiver.url)
                try await relay.waitUntil("the first state write") { relay.delivered == 0 }
                try await server.fail("pibox-1", at: 0, expecting: 1)
                try await relay.waitUntil("one delivery") { relay.delivered == 1 }
                return (relay, server.port)
            }
            try await relay.waitUntil("the relay noticing the server is gone") { relay.log.contains("reconnecting in") }
            try await AlertSource.with(dataDirectory: data, port: port) { server in
                try await server.fail("pibox-2", at: 0, expecting: 2)
                try await relay.waitUntil("the delivery after the restart") { relay.delivered == 2 }
            }
            #expect(receiver.accepted.map { $0["sequence"] as? Int } == [1, 2])
            try await relay.stop()
        }
    }

    @Test("alerts the server no longer holds are announced once, with how many, before the ones it still holds")
    func announcesLostAlerts() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await WebhookReceiver.with { receiver in
            try await AlertSource.with(dataDirectory: directory.appendingPathComponent("data").path, alertHistory: 2) { server in
                for device in 1...5 { try await server.fail("pibox-\(device)", at: 0, expecting: UInt64(device)) }
                try "1\n".write(to: directory.appendingPathComponent("pisync-relay.state"), atomically: true, encoding: .utf8)
                let relay = try RelayProcess(in: directory, port: server.port, webhook: receiver.url)
                try await relay.waitUntil("the held alerts") { relay.delivered == 5 }
                let bodies = receiver.accepted
                #expect(bodies.map { $0["kind"] as? String } == ["alerts_lost", "alert", "alert"])
                #expect(bodies.dropFirst().map { $0["sequence"] as? Int } == [4, 5])
                let notice = bodies[0]
                #expect(notice["alerts_lost"] as? Int == 2 && notice["from_sequence"] as? Int == 1 && notice["last_sequence"] as? Int == 5)
                #expect((notice["text"] as? String)?.hasPrefix("PiSync: 2 alerts after #1 were lost") == true, "\(notice)")
                #expect(notice["sequence"] == nil)
                try await relay.stop()
            }
        }
    }

    @Test("--device-prefix passes through: only those devices' alerts are posted; a malformed prefix stops the relay naming the field")
    func devicePrefix() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await WebhookReceiver.with { receiver in
            try await AlertSource.with(dataDirectory: directory.appendingPathComponent("data").path) { server in
                let relay = try RelayProcess(
                    in: directory, port: server.port, webhook: receiver.url, arguments: ["--device-prefix", "school1-"])
                try await relay.waitUntil("the first state write") { relay.delivered == 0 }
                try await server.fail("school1-a", at: 0, expecting: 1)
                try await server.fail("school2-a", at: 0, expecting: 2)
                try await server.fail("school1-b", at: 0, expecting: 3)
                try await relay.waitUntil("school1-b's alert") { relay.delivered == 3 }
                #expect(receiver.accepted.map { $0["device_id"] as? String } == ["school1-a", "school1-b"])
                #expect(try await relay.stop() == 0)
                let malformed = try RelayProcess(
                    in: directory, port: server.port, webhook: receiver.url, arguments: ["--device-prefix", "school 1"])
                #expect(try await malformed.stop(0) == 1)
                #expect(malformed.log.contains("INVALID_ARGUMENT (3) [device_id_prefix]"), "\(malformed.log)")
            }
        }
    }

    @Test("a refused message is retried (nothing is lost) unless --drop-after gives up on it", arguments: [0, 2])
    func refusedMessages(dropAfter: Int) async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await WebhookReceiver.with(script: [.status(400), .status(404)]) { receiver in
            try await AlertSource.with(dataDirectory: directory.appendingPathComponent("data").path) { server in
                let relay = try RelayProcess(
                    in: directory, port: server.port, webhook: receiver.url, arguments: ["--drop-after", "\(dropAfter)"])
                try await relay.waitUntil("the first state write") { relay.delivered == 0 }
                try await server.fail("pibox-1", at: 0, expecting: 1)
                try await server.fail("pibox-2", at: 0, expecting: 2)
                try await relay.waitUntil("both handled") { relay.delivered == 2 }
                #expect(relay.log.contains("the webhook refused alert #1 (attempt 1): HTTP 400"), "\(relay.log)")
                let delivered = receiver.accepted.map { $0["sequence"] as? Int }
                if dropAfter == 0 {
                    #expect(delivered == [1, 2])
                } else {
                    #expect(delivered == [2])
                    #expect(relay.log.contains("dropping alert #1: the webhook refused it 2 times"), "\(relay.log)")
                }
                try await relay.stop()
            }
        }
    }

    @Test("against a server with auth on, the relay needs an operator token: none or a device's stops it with the reason")
    func authenticates() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let secrets = AuthSecrets([(keyID: "k1", secret: Array("relay-test-secret-0123456789abcdef-012345".utf8))])
        func tokenFile(_ role: Identity.Role, _ name: String) throws -> String {
            let path = directory.appendingPathComponent("\(name).token").path
            try secrets.mint(role: role, name: name).write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        try await WebhookReceiver.with { receiver in
            try await AlertSource.with(dataDirectory: directory.appendingPathComponent("data").path, secrets: secrets) { server in
                let anonymous = try RelayProcess(in: directory, port: server.port, webhook: receiver.url)
                #expect(try await anonymous.stop(0) == 1)
                #expect(anonymous.log.contains("UNAUTHENTICATED"), "\(anonymous.log)")
                #expect(anonymous.log.contains("give --token-file PATH or set PISYNC_TOKEN_FILE"), "\(anonymous.log)")
                let device = try RelayProcess(
                    in: directory, port: server.port, webhook: receiver.url, arguments: ["--token-file", try tokenFile(.device, "pibox-1")])
                #expect(try await device.stop(0) == 1)
                #expect(device.log.contains("PERMISSION_DENIED"), "\(device.log)")

                let relay = try RelayProcess(
                    in: directory, port: server.port, webhook: receiver.url, arguments: ["--token-file", try tokenFile(.operator_, "anna")])
                try await relay.waitUntil("the first state write") { relay.delivered == 0 }
                try await server.fail("pibox-1", at: 0, expecting: 1)
                try await relay.waitUntil("one delivery") { relay.delivered == 1 }
                #expect(receiver.accepted.map { $0["device_id"] as? String } == ["pibox-1"])
                try await relay.stop()
            }
        }
    }

    @Test("bad settings are refused naming the flag, and a damaged state file names the file")
    func badSettings() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        func run(_ arguments: [String]) async throws -> (status: Int32, log: String) {
            let relay = try RelayProcess(in: directory, port: 1, webhook: "http://127.0.0.1:1/x", arguments: arguments)
            let status = try await relay.stop(0)
            return (status, relay.log)
        }
        let ftp = try await run(["--webhook", "ftp://example.org/x"])
        #expect(ftp.status != 0 && ftp.log.contains("--webhook 'ftp://example.org/x' is not an http:// or https:// URL"), "\(ftp.log)")
        let delays = try await run(["--retry-initial-delay", "5", "--retry-max-delay", "1"])
        #expect(delays.status != 0 && delays.log.contains("--retry-initial-delay (5.0) must not exceed --retry-max-delay"), "\(delays.log)")
        let timeout = try await run(["--webhook-timeout", "0"])
        #expect(timeout.status != 0 && timeout.log.contains("--webhook-timeout must be greater than 0"), "\(timeout.log)")
        try "seven\n".write(to: directory.appendingPathComponent("pisync-relay.state"), atomically: true, encoding: .utf8)
        let damaged = try await run([])
        #expect(damaged.status == 1 && damaged.log.contains("pisync-relay.state does not hold a sequence number (it holds 'seven')"), "\(damaged.log)")
    }
}
