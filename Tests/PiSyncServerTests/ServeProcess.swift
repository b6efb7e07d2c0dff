import Foundation

/// A real `pisync serve` process, started from the binary `swift test` builds next to the
/// test bundle, with its log in a file.
final class ServeProcess {
    let process = Process()
    let logPath: String
    private(set) var port = 0

    /// The `pisync` executable of this build.
    static var executable: URL { Bundle.main.bundleURL.appendingPathComponent("pisync") }

    /// Starts `pisync serve --port 0 <arguments>` in `directory` and waits until it listens.
    init(
        in directory: URL, arguments: [String], environment: [String: String] = [:], waitForListening: Bool = true
    ) async throws {
        logPath = directory.appendingPathComponent("serve-\(UUID().uuidString.prefix(8)).log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = Self.executable
        process.arguments = ["serve", "--port", "0"] + arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PISYNC_") }
            .merging(environment) { $1 }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = log
        process.standardOutput = log
        try process.run()
        if waitForListening { port = try await waitForPort() }
    }

    /// Everything the process has logged so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits (up to 20 s) for the process to exit; returns its status.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) async throws -> Int32 {
        kill(process.processIdentifier, signal)
        return try await waitForExit()
    }

    /// Waits (up to 20 s) for the process to exit by itself; returns its status.
    func waitForExit() async throws -> Int32 {
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw ServeProcessError.timeout("process did not exit; log:\n\(log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Polls the log without blocking a thread of the test's executor.
    private func waitForPort() async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let range = log.range(of: #"listening on 127\.0\.0\.1:(\d+) data_dir"#, options: .regularExpression) {
                // The server's own start line ("... listening on 127.0.0.1:N data_dir=..."), not
                // the admin port's, which also says "listening on".
                let address = log[range].split(separator: " ").dropLast().last ?? ""
                if let port = Int(address.split(separator: ":").last ?? "") { return port }
            }
            guard process.isRunning else { throw ServeProcessError.exited(log) }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ServeProcessError.timeout("no 'listening on' line; log:\n\(log)")
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

enum ServeProcessError: Error, CustomStringConvertible {
    case exited(String)
    case timeout(String)

    var description: String {
        switch self {
        case .exited(let log): "pisync serve exited early; log:\n\(log)"
        case .timeout(let what): what
        }
    }
}

/// A fresh temporary directory.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pisync-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
