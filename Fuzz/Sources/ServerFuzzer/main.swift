import Foundation

// The libFuzzer entry points; libFuzzer's runtime (linked by --sanitize=fuzzer) has `main`.

/// Serves one input as one connection and checks the invariants (``ConnectionRun``).
@_cdecl("LLVMFuzzerTestOneInput")
public func serverFuzzerTestOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    ConnectionRun(input: FuzzInput(UnsafeRawBufferPointer(start: start, count: count))).run()
    return 0
}

/// With PISYNC_FUZZ_WRITE_SEEDS=DIR (and PISYNC_FUZZ_GOLDEN=DIR, the golden vectors), writes
/// the starting corpus into DIR and exits instead of fuzzing.
@_cdecl("LLVMFuzzerInitialize")
public func serverFuzzerInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    let environment = ProcessInfo.processInfo.environment
    guard let directory = environment["PISYNC_FUZZ_WRITE_SEEDS"] else { return 0 }
    do {
        try Seeds.write(to: directory, goldenDirectory: environment["PISYNC_FUZZ_GOLDEN"] ?? "clients/testdata/golden")
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("cannot write the seeds: \(error)\n".utf8))
        exit(1)
    }
}
