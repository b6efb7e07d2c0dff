import Foundation

/// A real `pisync relay` process, from the binary `swift test` builds next to the test bundle,
/// with its log in a file, POSTing to `webhook` with short retry delays.
final class RelayProcess {
    let process = Process()
    let logPath: String
    let stateFile: String

    /// The `pisync` executable of this build.
    static var executable: URL { Bundle.main.bundleURL.appendingPathComponent("pisync") }

    /// Starts `pisync relay` against the server on `port`, its state file in `directory`.
    init(in directory: URL, port: Int, webhook: String, arguments: [String] = []) throws {
        logPath = directory.appendingPathComponent("relay-\(UUID().uuidString.prefix(8)).log").path
        stateFile = directory.appendingPathComponent("pisync-relay.state").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = Self.executable
        process.arguments = [
            "relay", "--webhook", webhook, "--server", "127.0.0.1:\(port)", "--state-file", stateFile,
            "--retry-initial-delay", "0.05", "--retry-max-delay", "0.2", "--webhook-timeout", "5",
        ] + arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PISYNC_") }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = log
        process.standardOutput = log
        try process.run()
    }

    /// Everything the relay has logged so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The sequence number in the state file, if it holds one.
    var delivered: UInt64? {
        (try? String(contentsOfFile: stateFile, encoding: .utf8)).flatMap { UInt64($0.trimmingCharacters(in: .newlines)) }
    }

    /// Polls (every 20 ms, up to `timeout`) until `condition` holds; throws with the log if not.
    func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline, process.isRunning else {
                throw RelayTestError("\(what) did not happen (relay running: \(process.isRunning)); log:\n\(log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends `signal` and waits (up to 20 s) for the process to exit; returns its status.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) async throws -> Int32 {
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw RelayTestError("the relay did not exit; log:\n\(log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
