import Foundation
import PiSyncClient
import PiSyncProtocol
import Testing

/// A real disk filling up under a real `pisync serve`: a small tmpfs as the data directory.
/// Skipped where the test may not mount one (not root); the injected-fault tests cover the
/// same paths everywhere.
@Suite("Disk full, real process and tmpfs", .serialized, .timeLimit(.minutes(2)))
struct DiskFullProcessTests {
    /// Mounts a `size` tmpfs at a new directory; `nil` when mounting is not allowed here.
    static func mountTmpfs(size: String) throws -> URL? {
        let point = try makeTemporaryDirectory()
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", point.path]
        mount.standardError = FileHandle.nullDevice
        try mount.run()
        mount.waitUntilExit()
        return mount.terminationStatus == 0 ? point : nil
    }

    static func unmount(_ point: URL) {
        let umount = Process()
        umount.executableURL = URL(fileURLWithPath: "/bin/umount")
        umount.arguments = [point.path]
        try? umount.run()
        umount.waitUntilExit()
        try? FileManager.default.removeItem(at: point)
    }

    @Test("ENOSPC answers UNAVAILABLE, reads go on, writes come back when space is freed, nothing acknowledged is lost")
    func diskFull() async throws {
        guard let point = try Self.mountTmpfs(size: "512k") else {
            print("skipped: cannot mount a tmpfs here (needs root)")
            return
        }
        defer { Self.unmount(point) }
        let ballast = point.appendingPathComponent("ballast")
        try Data(count: 400 * 1024).write(to: ballast)
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = ["--data-dir", point.appendingPathComponent("data").path, "--snapshot-interval", "3600"]

        let server = try await ServeProcess(in: directory, arguments: arguments)
        let client = try await PiSyncClient.connect(host: "127.0.0.1", port: server.port)
        var acknowledged: [Int64] = []
        var refused = false
        for batch in 0..<400 where !refused {
            let events = (0..<100).map { index in DurabilityTrapTests.event("pibox-full", Int64(batch * 100 + index)) }
            do {
                _ = try await client.recordSync(events: events)
                acknowledged += events.map(\.timestamp)
            } catch let error as PiSyncError {
                #expect(error.status == .unavailable, "\(error)")
                refused = true
            }
        }
        #expect(refused, "the disk never filled")
        _ = try await client.ping()
        #expect(try await client.history(deviceID: "pibox-full", limit: 1).total >= UInt64(acknowledged.count))

        try FileManager.default.removeItem(at: ballast)
        let more = (0..<100).map { index in DurabilityTrapTests.event("pibox-more", Int64(index)) }
        #expect(await eventually(timeout: .seconds(10)) { (try? await client.recordSync(events: more)) != nil })
        acknowledged += more.map(\.timestamp)
        client.close()
        try await server.stop(SIGKILL)

        let restarted = try await ServeProcess(in: directory, arguments: arguments)
        let again = try await PiSyncClient.connect(host: "127.0.0.1", port: restarted.port)
        defer { again.close() }
        var stored: Set<Int64> = []
        for device in ["pibox-full", "pibox-more"] {
            stored.formUnion(try await CrashRecoveryTests.timestamps(of: device, again))
        }
        #expect(Set(acknowledged).isSubset(of: stored), "lost \(Set(acknowledged).subtracting(stored).count) acknowledged events")
        #expect(!restarted.log.contains("damaged"), "\(restarted.log)")
        try await restarted.stop()
    }
}
