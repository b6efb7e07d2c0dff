import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// `pisync serve --admin-port 0` as a process: the start log line names the port, the port
/// serves, SIGTERM stops both, and without the flag no admin port is opened.
@Suite("pisync serve's admin port", .serialized, .timeLimit(.minutes(2)))
struct AdminProcessTests {
    /// Runs `pisync serve --port 0 arguments` in a fresh directory until `body` returns, then
    /// sends SIGTERM and returns the exit status and the log.
    static func serve(
        _ arguments: [String], terminate: Bool = true, until body: (_ log: () -> String) async throws -> Void
    ) async throws -> (status: Int32, log: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pisync-admin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logURL = directory.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let process = Process()
        process.executableURL = Bundle.main.bundleURL.appendingPathComponent("pisync")
        process.arguments = ["serve", "--port", "0", "--data-dir", directory.appendingPathComponent("data").path] + arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PISYNC_") }
        let handle = try FileHandle(forWritingTo: logURL)
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        let log = { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
        do {
            try await body(log)
        } catch {
            process.terminate()
            process.waitUntilExit()
            throw error
        }
        if terminate && process.isRunning { process.terminate() }  // SIGTERM
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return (process.terminationStatus, log())
    }

    /// Waits for `pattern`'s first capture in the log.
    static func await(_ pattern: Regex<(Substring, Substring)>, in log: () -> String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let match = log().firstMatch(of: pattern) { return String(match.output.1) }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("no match in the log:\n\(log())")
        throw CancellationError()
    }

    @Test("--admin-port 0: the start line names the port, /readyz and /metrics answer, SIGTERM exits 0")
    func adminPortProcess() async throws {
        let (status, log) = try await Self.serve(["--admin-port", "0"]) { log in
            let port = try await Self.await(/admin port listening on http:\/\/127\.0\.0\.1:(\d+)/, in: log)
            _ = try await Self.await(/(listening on 127\.0\.0\.1):\d+ data_dir/, in: log)
            var ready = 0
            for _ in 0..<100 {
                let response = try await HTTPClient.shared.execute(
                    HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz"), timeout: .seconds(10))
                ready = Int(response.status.code)
                if ready == 200 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(ready == 200)
            let metrics = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(10))
            let body = String(buffer: try await metrics.body.collect(upTo: 1 << 20))
            #expect(body.contains("pisync_ready 1"))
        }
        #expect(status == 0, "log:\n\(log)")
        #expect(log.contains("admin port stopped"))
    }

    @Test("without --admin-port no admin port is opened")
    func offByDefault() async throws {
        let (status, log) = try await Self.serve([]) { log in
            _ = try await Self.await(/(listening on 127\.0\.0\.1):\d+ data_dir/, in: log)
        }
        #expect(status == 0)
        #expect(!log.contains("admin port"))
    }

    @Test("--rest without --admin-port is refused with a message naming both")
    func restNeedsAdminPort() async throws {
        let (status, log) = try await Self.serve(["--rest"], terminate: false) { _ in }
        #expect(status != 0)
        #expect(log.contains("--rest") && log.contains("--admin-port"))
    }

    @Test("--rest serves the seed's API on the admin port of a real server: POST, history, failures; off without it")
    func restOnAdminPort() async throws {
        let example = #"{"device_id":"pibook-001","timestamp":"2026-11-28T08:00:00.000Z","total_files_synced":12,"total_errors":0,"internet_speed":8.5}"#
        let (status, log) = try await Self.serve(["--admin-port", "0", "--rest"]) { log in
            let port = try await Self.await(/admin port listening on http:\/\/127\.0\.0\.1:(\d+)/, in: log)
            _ = try await Self.await(/(listening on 127\.0\.0\.1):\d+ data_dir/, in: log)
            var post = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/sync-event")
            post.method = .POST
            post.headers.add(name: "Content-Type", value: "application/json")
            post.body = .bytes(ByteBuffer(string: example))
            var created = try await HTTPClient.shared.execute(post, timeout: .seconds(10))
            for _ in 0..<100 where created.status == .serviceUnavailable {  // still recovering
                try await Task.sleep(for: .milliseconds(50))
                created = try await HTTPClient.shared.execute(post, timeout: .seconds(10))
            }
            #expect(created.status == .created)
            #expect(String(buffer: try await created.body.collect(upTo: 1 << 16)).contains(#""sync_status":"success""#))
            let history = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/device/pibook-001/sync-history"), timeout: .seconds(10))
            #expect(history.status == .ok)
            #expect(String(buffer: try await history.body.collect(upTo: 1 << 16)).contains("2026-11-28T08:00:00.000Z"))
            let failures = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/devices/repeated-failures"), timeout: .seconds(10))
            #expect(failures.status == .ok)
        }
        #expect(status == 0, "log:\n\(log)")
        let (_, _) = try await Self.serve(["--admin-port", "0"]) { log in
            let port = try await Self.await(/admin port listening on http:\/\/127\.0\.0\.1:(\d+)/, in: log)
            let missing = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/devices/repeated-failures"), timeout: .seconds(10))
            #expect(missing.status == .notFound)
        }
    }
}
