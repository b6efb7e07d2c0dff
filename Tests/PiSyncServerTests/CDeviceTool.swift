import Foundation

/// The C device client's command-line tool (clients/c), built once per test run with its
/// Makefile, and a way to run any program and collect its output.
enum CDeviceTool {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Whether this machine has what the C client builds with. Under CI=true the C tests
    /// always run, so a missing package fails them instead of skipping them.
    static let isAvailable: Bool = {
        if ProcessInfo.processInfo.environment["CI"] == "true" { return true }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/bin/sh")
        probe.arguments = ["-c", "pkg-config --exists libprotobuf-c && command -v protoc && command -v make"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    /// `make` of the tool, started once on first use; the tool's path, or why it failed.
    static let build = Task<URL, any Error> {
        let make = try await ProgramRun.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["make", "-C", repository.appendingPathComponent("clients/c").path, "all"])
        guard make.status == 0 else { throw ProgramRunError("make failed:\n\(make.output)") }
        return repository.appendingPathComponent("clients/c/build/pisync-device")
    }

    /// Runs `pisync-device arguments`.
    static func run(_ arguments: [String]) async throws -> ProgramRun {
        try await ProgramRun.run(try await build.value, arguments)
    }
}

/// A finished run of a program: its exit status and everything it printed.
struct ProgramRun {
    let status: Int32
    let output: String

    /// Runs `executable` to completion (stdout and stderr together in `output`), waiting on a
    /// thread of its own so that a long run (the first `make`) never holds one of the few
    /// threads Swift concurrency runs the other tests on.
    static func run(
        _ executable: URL, _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]
    ) async throws -> ProgramRun {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try ProgramRun(executable, arguments, in: directory, environment: environment) })
            }
        }
    }

    /// Runs `executable` to completion, blocking the calling thread.
    private init(_ executable: URL, _ arguments: [String], in directory: URL?, environment: [String: String]) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        // The programs under test read PISYNC_* settings; the tests say what they mean.
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PISYNC_") }
            .merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        status = process.terminationStatus
        output = String(decoding: data, as: UTF8.self)
    }
}

struct ProgramRunError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
