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
        let found = try? ProgramRun(URL(fileURLWithPath: "/bin/sh"), ["-c", "pkg-config --exists libprotobuf-c && command -v protoc && command -v make"])
        return found?.status == 0
    }()

    /// `make` of the tool, done once; its path, or why it failed.
    static let build: Result<URL, ProgramRunError> = {
        do {
            let make = try ProgramRun(
                URL(fileURLWithPath: "/usr/bin/env"), ["make", "-C", repository.appendingPathComponent("clients/c").path, "all"])
            guard make.status == 0 else { return .failure(ProgramRunError("make failed:\n\(make.output)")) }
            return .success(repository.appendingPathComponent("clients/c/build/pisync-device"))
        } catch {
            return .failure(ProgramRunError("cannot run make: \(error)"))
        }
    }()

    /// Runs `pisync-device arguments`.
    static func run(_ arguments: [String]) throws -> ProgramRun {
        try ProgramRun(try build.get(), arguments)
    }
}

/// A finished run of a program: its exit status and everything it printed.
struct ProgramRun {
    let status: Int32
    let output: String

    /// Runs `executable` to completion (stdout and stderr together in `output`).
    init(_ executable: URL, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
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
